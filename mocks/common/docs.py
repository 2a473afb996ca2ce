"""`/docs`: Swagger UI on the fake's own OpenAPI document, from the swagger-ui-bundle package.

The assets come from the installed package (no CDN, works offline). The UI (Swagger UI 4)
reads OpenAPI 3.0, so `/docs/openapi.json` is the fake's `/openapi.json` with its version
field set to 3.0.3 (the schemas are unchanged; the published document stays 3.1). Calls
made with "Try it out" go to this same fake (`servers: [{url: "/"}]`) with the key given
to "Authorize" (bearer, as in the document's security scheme); the page lists the fake's
keys and their actors, so a demo key is one copy away.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, render_template, send_from_directory
from icarflex.mocks.common.api import render
from icarflex.mocks.common.dashboard import PAGES, SYSTEM_NAMES
from swagger_ui_bundle import swagger_ui_path

UI_OPENAPI_VERSION = "3.0.3"


def docs_blueprint() -> Blueprint:
    bp = Blueprint("docs", __name__, url_prefix="/docs", template_folder=str(PAGES))

    @bp.get("")
    @bp.get("/")
    def index() -> str:
        context = current_app.extensions["icarflex"]
        return render_template("docs.html", system=SYSTEM_NAMES[context.system], title=context.api.title,
                               keys=demo_keys(current_app.config["KEYS"]))

    @bp.get("/openapi.json")
    def openapi() -> Response:
        document = dict(current_app.extensions["icarflex"].api.document())
        document["openapi"] = UI_OPENAPI_VERSION
        return render(document, 200)

    @bp.get("/assets/<path:name>")
    def assets(name: str) -> Response:
        return send_from_directory(str(swagger_ui_path), name, max_age=3600)

    return bp


def demo_keys(keys: dict[str, dict[str, Any]]) -> list[dict[str, str]]:
    """The fake's demo keys (`demo…`: never a key configured for a shared sandbox), with the
    actor's French label (the contract's)."""
    from icarflex.contracts import load_contract

    labels = load_contract().labels
    return [{"key": key, "actor": entry["actor"], "label": labels.actor(entry["actor"]),
             "dealer": entry["dealer"]} for key, entry in keys.items() if key.startswith("demo")]
