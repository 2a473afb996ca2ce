"""The simulator's controls under `/__admin/`, outside the business API (STYLE §7).

reset, health (no key), journal (JSON or JSON lines), faults, seed, settings per dealer.
Admin bodies are as strict as the business API's: validated without coercion ("12" is no
12), and a dealer's settings by the very model of the business API's `PUT` of them.
The backend of each fake provides `reset()`, `seed(dealer, count, seed)` and `health()`;
`/__admin/settings/<dealer>` answers when it also has `get_settings(dealer)` and
`put_settings(dealer, overlay)` (404 otherwise).
"""
from __future__ import annotations

from typing import Any, Literal

from flask import Blueprint, Response, current_app
from icarflex.mocks.common import journal_export
from icarflex.mocks.common.api import parse_body, parse_json_object, parse_query, render
from icarflex.mocks.common.auth import require
from icarflex.mocks.common.errors import NotFound
from icarflex.mocks.common.faults import FaultSettings
from pydantic import BaseModel, ConfigDict, Field


class JournalQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    after: int = Field(0, ge=0, le=2**63 - 1, description="entries after this seq")
    limit: int = Field(1000, ge=1, le=100_000)
    dealer: str | None = None
    format: Literal["json", "jsonl"] = "json"


class SeedRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    dealer: str = "demo"
    count: int = Field(10, ge=1, le=10_000)
    seed: int | None = None


def context():  # noqa: ANN201 - the app's icarflex context (icarflex.mocks.common.app.Context)
    return current_app.extensions["icarflex"]


def _settings_backend() -> Any:
    """The backend, when it keeps a parameterization per dealer (`get_settings`/`put_settings`)."""
    backend = context().backend
    if not (hasattr(backend, "get_settings") and hasattr(backend, "put_settings")):
        raise NotFound("Paramétrage", context().system)
    return backend


def _settings_overlay() -> type[BaseModel] | None:
    """The body model of the business API's own settings write (`put_settings`: route name =
    backend method = operationId), so both refuse the same bodies; None when it has none."""
    return next((op.body for op in context().api.operations if op.operation_id == "put_settings"), None)


def admin_blueprint() -> Blueprint:
    bp = Blueprint("admin", __name__, url_prefix="/__admin")

    @bp.get("/health")
    def health() -> Response:
        ctx = context()
        return render({"status": "ok", "system": ctx.system, **ctx.backend.health()}, 200)

    @bp.post("/reset")
    def reset() -> Response:
        require("admin")
        ctx = context()
        ctx.backend.reset()
        ctx.journal.clear()
        return render({"status": "reset", "system": ctx.system}, 200)

    @bp.get("/journal")
    def journal() -> Response:
        require("admin")
        query = parse_query(JournalQuery)
        after, journal = query.after, context().journal
        if query.format == "jsonl":  # every entry, streamed; bounded only by an explicit limit
            limit = query.limit if "limit" in query.model_fields_set else None
            return journal_export.stream(journal, after, limit, query.dealer)
        entries, more = journal_export.page(journal, after, query.limit, query.dealer)
        return render({"items": entries, "next_after": entries[-1]["seq"] if entries else after,
                       "more": more}, 200)

    @bp.get("/faults")
    def get_faults() -> Response:
        require("admin")
        return render(context().faults.to_json(), 200)

    @bp.put("/faults")
    def put_faults() -> Response:
        require("admin")
        settings = parse_body(FaultSettings, strict=True)
        context().faults.set(settings)
        return render(context().faults.to_json(), 200)

    @bp.get("/settings/<dealer>")
    def get_dealer_settings(dealer: str) -> Response:
        require("admin")
        return render(_settings_backend().get_settings(dealer), 200)

    @bp.put("/settings/<dealer>")
    def put_dealer_settings(dealer: str) -> Response:
        require("admin")
        backend = _settings_backend()
        model = _settings_overlay()
        overlay = parse_json_object() if model is None else \
            parse_body(model, strict=True).model_dump(mode="json", exclude_unset=True)
        return render(backend.put_settings(dealer, overlay), 200)

    @bp.post("/seed")
    def seed() -> Response:
        require("admin")
        body = parse_body(SeedRequest, strict=True)
        return render(context().backend.seed(body.dealer, body.count, body.seed), 201)

    return bp
