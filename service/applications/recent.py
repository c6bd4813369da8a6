"""A tiny per-process memory of recent answers read from Redis, each trusted for LOCAL_TRUST_SECONDS.

Changes made through a worker apply there at once; other workers see them within this time.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Generic, TypeVar

LOCAL_TRUST_SECONDS = 1.0
LOCAL_CACHE_ENTRIES = 10_000

K = TypeVar("K")
V = TypeVar("V")


class RecentAnswers(Generic[K, V]):
    def __init__(self) -> None:
        self._entries: dict[K, tuple[float, V]] = {}

    def get(self, key: K) -> V | None:
        entry = self._entries.get(key)
        if entry is None or entry[0] < time.monotonic():
            return None
        return entry[1]

    def put(self, key: K, value: V) -> None:
        if len(self._entries) >= LOCAL_CACHE_ENTRIES:
            self._entries.clear()  # bounded memory; the next calls simply ask Redis again
        self._entries[key] = (time.monotonic() + LOCAL_TRUST_SECONDS, value)

    def drop(self, predicate: Callable[[K, V], bool]) -> None:
        for key in [k for k, (_, v) in self._entries.items() if predicate(k, v)]:
            del self._entries[key]
