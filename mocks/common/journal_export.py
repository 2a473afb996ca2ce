"""The journal exported as JSON lines (`GET /__admin/journal?format=jsonl`), streamed whole.

Every entry after `after` (of one dealer with `dealer`) is sent, read from the store a
page at a time, so an export is never cut silently and never held in memory at once.
With an explicit `limit`, the export stops there; when entries remain, its last line is
a cursor, not an entry — `{"journal_cursor": {"more": true, "next_after": SEQ}}` — and
`icarflex check` refuses such a file as incomplete, saying where to continue.
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from flask import Response, json, stream_with_context

PAGE = 1000
CURSOR_KEY = "journal_cursor"


def page(journal: Any, after: int, limit: int, dealer: str | None) -> tuple[list[dict[str, Any]], bool]:
    """Up to `limit` entries after `after`, and whether more remain."""
    entries = journal.entries(after, limit + 1, dealer)
    return entries[:limit], len(entries) > limit


def stream(journal: Any, after: int, limit: int | None, dealer: str | None) -> Response:
    lines = stream_with_context(_lines(journal, after, limit, dealer))
    return Response(lines, mimetype="application/x-ndjson")


def _lines(journal: Any, after: int, limit: int | None, dealer: str | None) -> Iterator[str]:
    left = limit
    while left is None or left > 0:
        size = PAGE if left is None else min(PAGE, left)
        entries, more = page(journal, after, size, dealer)
        if entries:
            after = entries[-1]["seq"]
            yield "".join(json.dumps(entry) + "\n" for entry in entries)
        if not more:
            return
        if left is not None:
            left -= len(entries)
    yield json.dumps({CURSOR_KEY: {"more": True, "next_after": after}}) + "\n"
