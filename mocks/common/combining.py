"""Group commit for the writes of one key (a vehicle): whoever holds the key's lock writes for all.

Concurrent writers of one key queue their job; the first to take the key's lock takes every job
queued so far and runs them as one batch (judged in arrival order, stored in one statement);
the others find theirs done when the lock comes to them. The OpenFlex fake sends here the
PATCHes of a vehicle it does not know current (those it knows are answered at once, their
write deferred: `icarflex.mocks.openflex.vehicles`); many concurrent ones then cost one round trip to
SQLite, with its hand-over of the interpreter, not one each. A lone writer is a batch of one.
"""
from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

STRIPES = 64  # locks shared by all keys (a few, not one per key)


@dataclass
class Job:
    """One writer's request; `notes` is what its own request journals (the batch runs elsewhere)."""

    payload: Any
    result: Any = None
    error: BaseException | None = None
    notes: dict[str, Any] = field(default_factory=dict)
    done: bool = False


class Combiner:
    def __init__(self, stripes: int = STRIPES) -> None:
        self._locks = tuple(threading.Lock() for _ in range(stripes))
        self._queues: dict[Hashable, deque[Job]] = {}

    def lock(self, key: Hashable) -> threading.Lock:
        """The lock the batches of `key` run under (striped: a few for all keys)."""
        return self._locks[hash(key) % len(self._locks)]

    def submit(self, key: Hashable, job: Job, run: Callable[[list[Job]], None]) -> Job:
        """`job` done, by this thread or by the one that held the lock when it was queued.

        `run(batch)` sets each job's result or error; an exception it raises is every unfinished
        job's error.
        """
        queue = self._queues.setdefault(key, deque())
        queue.append(job)
        with self.lock(key):
            if not job.done:
                batch = []
                while queue:
                    batch.append(queue.popleft())
                if not queue and self._queues.get(key) is queue:
                    self._queues.pop(key, None)  # a job queued meanwhile is run by its own thread
                try:
                    run(batch)
                except BaseException as exc:
                    for other in batch:
                        if other.result is None and other.error is None:
                            other.error = exc
                    raise
                finally:
                    for other in batch:
                        other.done = True
        return job
