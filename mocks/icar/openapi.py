"""The ICAR fake's published OpenAPI document, checked in as `contracts/openapi/icar.json`.

Regenerate both fakes' documents after changing the API: `python -m icarflex.mocks.openapi`
(a test fails, naming this command, when the checked-in copy differs from `GET /openapi.json`).
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

CHECKED_IN = Path(__file__).resolve().parents[2] / "contracts" / "openapi" / "icar.json"
REGENERATE = "python -m icarflex.mocks.openapi"


def document() -> dict[str, Any]:
    from icarflex.contracts import load_contract
    from icarflex.mocks.icar.routes import build_api
    return build_api(load_contract()).document()  # no app, no store: the models the routes validate with


def render(doc: dict[str, Any]) -> str:
    return json.dumps(doc, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def main(argv: list[str]) -> int:
    target = Path(argv[0]) if argv else CHECKED_IN
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(render(document()), encoding="utf-8")
    sys.stdout.write(f"{target}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
