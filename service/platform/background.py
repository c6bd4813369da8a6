"""Work that must not delay, or show in the timing of, the answer to a request.

Used where an answer must look the same whether or not something exists (password-reset and
sign-in-code requests): the lookup and the mail happen after the answer has gone. Failures are
logged; shutdown waits for what is still running.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

log = logging.getLogger("gatehouse.background")


class Background:
    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()

    def spawn(self, work: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.create_task(self._guarded(work, name))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @staticmethod
    async def _guarded(work: Coroutine[Any, Any, None], name: str) -> None:
        try:
            await work
        except Exception:  # a background failure must be seen in the logs, and must not vanish
            log.exception("background work failed", extra={"work": name})

    async def drain(self, seconds: float = 10) -> None:
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=seconds)
