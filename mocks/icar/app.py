"""The ICAR fake's application factory: `create_app(config=None, contract=None)`.

The contract (default: the one `contracts/data/` holds, loaded when the app is built, never at
import) is kept in `app.extensions["icarflex"].contract` and given to the service.
Config keys of its own (defaults in `icarflex.mocks.icar.settings`): OPENFLEX_URL, DMS_KEY,
SITE_CODES, SYNC_RETRIES, SYNC_TIMEOUT, SYNC_BACKOFF, OPENFLEX_CA_BUNDLE; and the shared ones
of `icarflex.mocks.common.config` (DB, KEYS, …). Keys default to `demo-icar-key`,
`demo2-icar-key` (actor `icar_user`) and `demo-admin-key`.
"""
from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from flask import Flask
from icarflex.contracts import Contract, load_contract
from icarflex.mocks.common.app import build_app
from icarflex.mocks.common.auth import demo_keys
from icarflex.mocks.common.store import Store
from icarflex.mocks.icar.routes import build_api
from icarflex.mocks.icar.service import IcarService
from icarflex.mocks.icar.settings import DEFAULTS, IcarSettings

SYSTEM = "icar"


def create_app(config: Mapping[str, Any] | None = None, contract: Contract | None = None) -> Flask:
    contract = contract or load_contract()

    def service(app: Flask, store: Store) -> IcarService:
        return IcarService(store, IcarSettings.from_config(app.config), contract)

    defaults = {**DEFAULTS, "KEYS": demo_keys({"icar": "icar_user"})}
    app = build_app(SYSTEM, build_api(contract), service, config=config, defaults=defaults, contract=contract)
    _resume_on_first_call(app)
    return app


def _resume_on_first_call(app: Flask) -> None:
    """The first call this process serves sets going, in the background, the push again of every
    operation a crash left open (each worker process its own: settling is once, whoever wins).
    Not when the app is built: a process may build it only to check it, or before forking."""
    started = threading.Event()

    @app.before_request
    def resume_left_open() -> None:
        if not started.is_set():
            started.set()
            app.extensions["icarflex"].backend.start()
