"""The OpenFlex fake's application factory (and the document its routes publish, without an app).

`create_app(config=None, contract=None)`: defaults, then `ICARFLEX_*` variables, then
`config` (DB, PROFILE, SEED, REFERENCE_SIZE, KEYS, JOURNAL_LIMIT, MAX_CONTENT_LENGTH,
TESTING); `contract` (default: the packaged one, loaded at the call) is what the fake
enforces, kept in `app.extensions["icarflex"].contract`; the routes' models are built
from it for this app (`routes.build_api` → `schemas.build`). A fresh app is a fresh world
on its own store (STYLE §4, §6).

The package follows the fakes' template: `app` (this factory), `routes` (thin),
`service` (the operations, over `repositories`), `schemas`, `errors`.
`python -m icarflex.mocks.openapi` writes both fakes' OpenAPI documents.
"""
from __future__ import annotations

import functools
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask
from icarflex.contracts import Contract, load_contract, load_profile
from icarflex.mocks.common.app import build_app
from icarflex.mocks.common.auth import demo_keys
from icarflex.mocks.common.journal import annotate
from icarflex.mocks.common.store import Store
from icarflex.mocks.openflex import provider_states
from icarflex.mocks.openflex.reference import ReferenceTable
from icarflex.mocks.openflex.routes import build_api
from icarflex.mocks.openflex.service import OpenFlexService

from icarflex import contracts

SYSTEM = "openflex"
DEMO_ACTORS = {"mobile": "mobile_app", "openflex": "openflex_user", "dms": "dms"}
DEFAULTS: dict[str, Any] = {"REFERENCE_SIZE": 300, "KEYS": None}
OPENAPI_PATH = Path(contracts.__file__).parent / "openapi" / f"{SYSTEM}.json"


def create_app(config: Mapping[str, Any] | None = None, contract: Contract | None = None) -> Flask:
    contract = contract or load_contract()

    def make_service(app: Flask, store: Store) -> OpenFlexService:
        profile = load_profile(app.config["PROFILE"], contract)
        reference = reference_table(int(app.config["SEED"]), int(app.config["REFERENCE_SIZE"]))
        return OpenFlexService(store, contract, profile, reference, audit=annotate,
                               default_seed=app.config["SEED"])

    app = build_app(SYSTEM, build_api(contract), make_service, config=config, defaults=DEFAULTS,
                    contract=contract)
    if app.config["KEYS"] is None:
        app.config["KEYS"] = demo_keys(DEMO_ACTORS)
    provider_states.install(app)  # Pact provider states (icarflex run --pact)
    return app


@functools.lru_cache(maxsize=8)
def reference_table(seed: int, size: int) -> ReferenceTable:
    """The reference table of a seed (immutable, so apps of the same seed share it)."""
    return ReferenceTable(seed, size)


def openapi_document(contract: Contract | None = None) -> dict[str, Any]:
    """The document `GET /openapi.json` serves, without building an app (no store)."""
    return build_api(contract or load_contract()).document()
