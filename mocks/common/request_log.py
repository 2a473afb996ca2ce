"""`icarflex serve`'s request log: one line per request on standard output.

Time, fake, method, path, actor (and dealer), status, and for a refusal its code and
the contract rules it names, e.g.
`10:21:03.120 openflex PATCH /api/v1/vehicles/VEH-000001 dms@demo 403 FIELD_NOT_MODIFIABLE R6`.
Coloured when standard output is a terminal (rich), plain when piped; `serve --quiet`
leaves it out. Lines of concurrent requests never interleave (one write each, under a lock).
"""
from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any, TextIO

import orjson
from flask import Flask, Response, g, request

Write = Callable[[str, int], None]


def line_of(system: str, method: str, path: str, identity: Any, status: int, body: bytes | None) -> str:
    who = f"{identity.actor}@{identity.dealer}" if identity is not None else "-"
    parts = [datetime.now().strftime("%H:%M:%S.%f")[:-3], system, method, path, who, str(status)]
    if status >= 400 and body:
        try:
            problem = orjson.loads(body)
        except orjson.JSONDecodeError:
            problem = None
        if isinstance(problem, dict):
            parts.append(str(problem.get("code") or ""))
            rules = problem.get("rule") or (problem.get("upstream") or {}).get("rule") or []
            parts += [str(rule) for rule in rules if rule]
    return " ".join(p for p in parts if p)


def writer(stream: TextIO | None = None) -> Write:
    """Lines to `stream` (standard output): through rich with colours on a terminal, plain else."""
    stream = stream or sys.stdout
    lock = threading.Lock()
    if stream.isatty():
        from rich.console import Console

        console = Console(file=stream, highlight=False, soft_wrap=True)

        def coloured(line: str, status: int) -> None:
            style = "red" if status >= 500 else "yellow" if status >= 400 else None
            with lock:
                console.print(line, style=style, markup=False)
        return coloured

    def plain(line: str, status: int) -> None:
        with lock:
            try:
                stream.write(line + "\n")
                stream.flush()
            except (BrokenPipeError, ValueError):
                pass  # the reader of a pipe went away: serving goes on
    return plain


def install(app: Flask, system: str, write: Write) -> None:
    @app.after_request
    def _log(response: Response) -> Response:
        body = None
        if response.status_code >= 400 and not response.is_streamed:
            body = response.get_data()
        identity = getattr(g, "identity", None)
        write(line_of(system, request.method, request.path, identity, response.status_code, body),
              response.status_code)
        return response
