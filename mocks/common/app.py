"""Build a fake's Flask app: config, store, journal, faults, errors, admin and OpenAPI, once.

Each fake's `create_app(config=None, contract=None)` calls `build_app` with its `Api`
and a function that builds its service over the store (which migrates its own tables);
the store is the one `config["DB"]` names (`icarflex.mocks.common.store.open_store`).
State and the contract live on the app (`app.extensions["icarflex"]`), so a fresh app
is a fresh world (STYLE §4), and no contract is loaded at import.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app
from icarflex.mocks.common.admin import admin_blueprint
from icarflex.mocks.common.api import Api, render
from icarflex.mocks.common.config import load_config
from icarflex.mocks.common.dashboard import dashboard_blueprint
from icarflex.mocks.common.dealers import install as install_dealers
from icarflex.mocks.common.docs import docs_blueprint
from icarflex.mocks.common.errors import register_error_handlers
from icarflex.mocks.common.faults import Faults
from icarflex.mocks.common.faults import install as install_faults
from icarflex.mocks.common.hosts import install as install_host_check
from icarflex.mocks.common.journal import Journal
from icarflex.mocks.common.journal import install as install_journal
from icarflex.mocks.common.jsonio import OrjsonProvider
from icarflex.mocks.common.store import Store, open_store


@dataclass
class Context:
    system: str
    store: Store
    journal: Journal
    faults: Faults
    backend: Any
    api: Api
    contract: Any = None  # the contract the fake enforces (icarflex.contracts.Contract)


def build_app(system: str, api: Api, make_backend: Callable[[Flask, Store], Any], *,
              config: Mapping[str, Any] | None, defaults: Mapping[str, Any], contract: Any = None) -> Flask:
    app = Flask(f"mocks.{system}")
    app.config.update(load_config(config, defaults))
    app.json = OrjsonProvider(app)  # Flask's JSON (keys sorted, non-ASCII kept), by orjson
    store = open_store(app.config["DB"])
    journal = Journal(store, system, app.config["JOURNAL_LIMIT"])
    faults = Faults(app.config["SEED"])
    backend = make_backend(app, store)
    app.extensions["icarflex"] = Context(system, store, journal, faults, backend, api, contract)
    register_error_handlers(app)
    install_host_check(app)
    install_faults(app, faults)
    install_journal(app, journal)
    app.register_blueprint(api.blueprint)
    app.register_blueprint(admin_blueprint())
    app.register_blueprint(dashboard_blueprint())  # /__admin/dashboard, /__admin/overview
    app.register_blueprint(docs_blueprint())       # /docs (Swagger UI)
    install_dealers(app)  # /__admin/dealers: scratch dealers with keys of their own
    app.add_url_rule("/openapi.json", "openapi", lambda: render(api.document(), 200))
    return app


def backend() -> Any:
    """The current app's backend (state and operations, no Flask)."""
    return current_app.extensions["icarflex"].backend
