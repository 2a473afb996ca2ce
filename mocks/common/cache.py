"""A small bounded cache for parsed state: each user checks an entry against a stamp it reads
from the store (a version, the stored text itself), so a stale entry is never served."""
from __future__ import annotations

from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class BoundedCache(Generic[K, V]):
    """A dict that forgets its oldest entries past `size`; safe to share between threads."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: dict[K, V] = {}

    def get(self, key: K) -> V | None:
        return self._items.get(key)

    def put(self, key: K, value: V) -> None:
        items = self._items
        items.pop(key, None)
        items[key] = value
        while len(items) > self.size:
            try:
                items.pop(next(iter(items)), None)
            except (RuntimeError, StopIteration):  # another thread changed it meanwhile: next round
                break

    def discard(self, key: K) -> None:
        self._items.pop(key, None)

    def clear(self) -> None:
        self._items.clear()

    def __len__(self) -> int:
        return len(self._items)
