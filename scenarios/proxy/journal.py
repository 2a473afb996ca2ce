"""The proxy's journal: one JSON line per call, in the shape `icarflex check` reads (docs/api.md).

Appended, never truncated (a journal is evidence): a proxy started again on the same
file goes on after its last `seq`. Each line is written and flushed as its call ends,
so `check` can read the file while the proxy runs.
"""
from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import orjson


class JsonLinesJournal:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.seq = _last_seq(self.path)
        self._file = self.path.open("ab")
        self.lock = threading.Lock()   # seq order = file order = the order calls were audited in

    def next_seq(self) -> int:
        """The next entry's number (call under `lock`, then `write` the entry)."""
        self.seq += 1
        return self.seq

    def write(self, entry: dict[str, Any]) -> None:
        self._file.write(orjson.dumps(entry, default=str) + b"\n")
        self._file.flush()

    def close(self) -> None:
        with self.lock:
            self._file.close()


def _last_seq(path: Path) -> int:
    if not path.exists():
        return 0
    last = 0
    with path.open("rb") as handle:
        for line in handle:
            try:
                seq = orjson.loads(line).get("seq")
            except (orjson.JSONDecodeError, AttributeError):
                continue
            if isinstance(seq, int):
                last = max(last, seq)
    return last
