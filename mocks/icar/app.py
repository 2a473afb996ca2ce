"""The ICAR fake's application factory: `create_app(config=None)`.

Config keys of its own (defaults in `icarflex.mocks.icar.settings`): OPENFLEX_URL, DMS_KEY,
SITE_CODES, SYNC_RETRIES, SYNC_TIMEOUT, SYNC_BACKOFF; and the shared ones of
`icarflex.mocks.common.config` (DB, KEYS, …). Keys default to `demo-icar-key`,
`demo2-icar-key` (actor `icar_user`) and `demo-admin-key`.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask
from icarflex.mocks.common.app import build_app
from icarflex.mocks.common.auth import demo_keys
from icarflex.mocks.common.store import Store
from icarflex.mocks.icar.routes import build_api
from icarflex.mocks.icar.settings import DEFAULTS, IcarSettings
from icarflex.mocks.icar.state import IcarBackend

SYSTEM = "icar"


def _backend(app: Flask, store: Store) -> IcarBackend:
    return IcarBackend(store, IcarSettings.from_config(app.config))


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    defaults = {**DEFAULTS, "KEYS": demo_keys({"icar": "icar_user"})}
    return build_app(SYSTEM, build_api(), _backend, config=config, defaults=defaults)
