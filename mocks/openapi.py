"""Write both fakes' published OpenAPI documents: `python -m icarflex.mocks.openapi [--check]`.

Each document is generated from the models its routes validate with (no app, no store), and
written where it is checked in (`contracts/openapi/openflex.json`, `contracts/openapi/icar.json`).
`--check` writes nothing and exits 1, naming the stale files, when a checked-in copy differs.
"""
from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

COMMAND = "python -m icarflex.mocks.openapi"


def documents() -> dict[Path, Callable[[], str]]:
    """Where each document is checked in → its text, as the fake serves it."""
    import json

    from icarflex.mocks.icar import openapi as icar
    from icarflex.mocks.openflex import app as openflex

    return {openflex.OPENAPI_PATH: lambda: json.dumps(openflex.openapi_document(), indent=2,
                                                      ensure_ascii=False) + "\n",
            icar.CHECKED_IN: lambda: icar.render(icar.document())}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=COMMAND, description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if a document is stale")
    args = parser.parse_args(argv)
    stale = []
    for path, text in documents().items():
        wanted = text()
        if args.check:
            if not path.exists() or path.read_text(encoding="utf-8") != wanted:
                stale.append(path)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(wanted, encoding="utf-8")
        sys.stdout.write(f"{path}\n")
    for path in stale:
        sys.stderr.write(f"{path} : périmé, lancez `{COMMAND}`\n")
    return 1 if stale else 0


if __name__ == "__main__":
    raise SystemExit(main())
