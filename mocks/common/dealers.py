"""Scratch dealers under `/__admin/dealers`: a dealer of its own, with its own keys, on demand.

`POST /__admin/dealers` (admin) creates a dealer that nobody else uses — a pytest test's,
a negative twin's that must flip a setting, a Pact provider state's — and answers its
keys, one per actor of this fake: `{dealer}-{actor}-key` (so the ICAR connector's
default key on OpenFlex, `{dealer}-dms-key`, is the scratch dealer's DMS key). The body
may name the dealer (else a random name) and give `settings`, an overlay of the
`GET /settings/api-vo` shape applied to that dealer alone. `DELETE /__admin/dealers/<d>`
withdraws its keys. Keys are kept in the fake's store, so every process serving the
store knows them; the app's `KEYS` becomes a `KeyRing`: the configured keys, then those.
"""
from __future__ import annotations

import secrets
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Flask, Response, current_app
from icarflex.mocks.common.api import parse_body, render
from icarflex.mocks.common.auth import require
from icarflex.mocks.common.errors import ApiError, NotFound
from icarflex.mocks.common.store import Migration, Store
from pydantic import BaseModel, ConfigDict, Field


def migrations(system: str) -> list[Migration]:
    return [Migration(1, f"""
CREATE TABLE dealer_keys_{system} (
    key TEXT PRIMARY KEY, actor TEXT NOT NULL, dealer TEXT NOT NULL, created_at TEXT NOT NULL
);
CREATE INDEX dealer_keys_{system}_dealer ON dealer_keys_{system} (dealer);
""")]
DEALER_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,47}$"


class NewDealer(BaseModel):
    model_config = ConfigDict(extra="forbid")
    dealer: str | None = Field(None, pattern=DEALER_PATTERN, description="name (default: a random one)")
    settings: dict[str, Any] | None = Field(None, description="overlay of GET /settings/api-vo for it")


class KeyRing(Mapping[str, Mapping[str, str]]):
    """The keys a fake accepts: those configured, then the scratch dealers' kept in its store."""

    def __init__(self, configured: Mapping[str, Mapping[str, str]], store: Store, system: str) -> None:
        self.configured, self.store = dict(configured), store
        self.table = f"dealer_keys_{system}"
        store.migrate(self.table, migrations(system))
        self._known: dict[str, dict[str, str]] = {}

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        found = self.configured.get(key) or self._known.get(key)
        if found is None:
            row = self.store.one(f"SELECT actor, dealer FROM {self.table} WHERE key = ?", (key,))
            if row is None:
                return default
            found = self._known[key] = {"actor": row["actor"], "dealer": row["dealer"]}
        return found

    def __getitem__(self, key: str) -> Mapping[str, str]:
        found = self.get(key)
        if found is None:
            raise KeyError(key)
        return found

    def __iter__(self) -> Iterator[str]:
        yield from self.configured
        for row in self.store.query(f"SELECT key FROM {self.table} ORDER BY created_at, key"):
            if row["key"] not in self.configured:
                yield row["key"]

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def actors(self) -> list[str]:
        """This fake's actors: those of its configured keys."""
        return sorted({entry["actor"] for entry in self.configured.values()})

    def dealers(self) -> set[str]:
        configured = {entry["dealer"] for entry in self.configured.values()}
        stored = {row["dealer"] for row in self.store.query(f"SELECT DISTINCT dealer FROM {self.table}")}
        return configured | stored

    @staticmethod
    def fresh_name() -> str:
        return secrets.token_hex(6)

    def create(self, dealer: str) -> dict[str, str]:
        keys = {actor: f"{dealer}-{actor}-key" for actor in self.actors()}
        now = datetime.now(UTC).isoformat(timespec="milliseconds")
        with self.store.transaction() as tx:
            tx.executemany(f"INSERT INTO {self.table} (key, actor, dealer, created_at) VALUES (?,?,?,?)",
                             [(key, actor, dealer, now) for actor, key in keys.items()])
        return keys

    def withdraw(self, dealer: str) -> int:
        with self.store.transaction() as tx:
            removed = tx.execute(f"DELETE FROM {self.table} WHERE dealer = ?", (dealer,))
        self._known = {k: v for k, v in self._known.items() if v["dealer"] != dealer}
        return removed


def key_ring() -> KeyRing:
    """The current app's key ring (made on first use, over the keys the factory configured)."""
    keys = current_app.config["KEYS"]
    if not isinstance(keys, KeyRing):
        context = current_app.extensions["icarflex"]
        keys = current_app.config["KEYS"] = KeyRing(keys or {}, context.store, context.system)
    return keys


def dealers_blueprint() -> Blueprint:
    bp = Blueprint("admin_dealers", __name__, url_prefix="/__admin")

    @bp.post("/dealers")
    def create_dealer() -> Response:
        require("admin")
        body = parse_body(NewDealer)
        dealer = body.dealer or f"t-{KeyRing.fresh_name()}"
        ring, context = key_ring(), current_app.extensions["icarflex"]
        if dealer in ring.dealers():
            raise ApiError("CONFLICT", f"Le concessionnaire {dealer} existe déjà", fields=["dealer"])
        backend, settings = context.backend, None
        if body.settings is not None and hasattr(backend, "put_settings"):
            settings = backend.put_settings(dealer, body.settings)  # refused: no keys made
        elif hasattr(backend, "get_settings"):
            settings = backend.get_settings(dealer)
        keys = ring.create(dealer)
        return render({"dealer": dealer, "system": context.system, "keys": keys, "settings": settings}, 201)

    @bp.delete("/dealers/<dealer>")
    def withdraw_dealer(dealer: str) -> Response:
        require("admin")
        if not key_ring().withdraw(dealer):
            raise NotFound("Concessionnaire", dealer)
        return render({"dealer": dealer, "withdrawn": True}, 200)

    return bp


def install(app: Flask) -> None:
    """Register the routes and make the key ring before the first request (keys set by then)."""
    app.register_blueprint(dealers_blueprint())
    app.before_request_funcs.setdefault(None, []).insert(0, _ensure_ring)


def _ensure_ring() -> None:
    if not isinstance(current_app.config["KEYS"], KeyRing):
        key_ring()
