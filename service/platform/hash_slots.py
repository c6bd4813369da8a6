"""At most as many password hashes at once as the service has cores, across all of its worker processes.

Each worker may hash on every core (uvicorn's workers share one listening socket, and the worker that wakes first
takes every pending connection, so one worker often serves most of a client's keep-alive connections), but two
workers hashing on every core would run twice as many hashes as there are cores: each hash walks 19 MiB, so they
thrash each other's caches and share the cores unfairly. So a hash first takes one of N slots, lock files in a
directory `gatehouse serve` makes for its workers (flock: the kernel frees a slot whose process died), and waits for
one when all are taken. Without that directory (a single process, a command) the threads alone bound the hashes.
"""

from __future__ import annotations

import fcntl
import itertools
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SLOTS_DIRECTORY = "GATEHOUSE_HASH_SLOTS_DIR"


def prepare_slots_directory() -> str:
    """A fresh directory for this service's slots, in the environment the workers inherit; the caller removes it."""
    directory = tempfile.mkdtemp(prefix="gatehouse-hash-slots-")
    os.environ[SLOTS_DIRECTORY] = directory
    return directory


class HashSlots:
    def __init__(self, directory: Path, count: int) -> None:
        self._paths = [str(directory / f"slot-{i}") for i in range(count)]
        self._turns = itertools.count()

    @classmethod
    def of_service(cls, count: int) -> HashSlots | None:
        """The slots `gatehouse serve` prepared for its workers, or None outside it."""
        directory = os.environ.get(SLOTS_DIRECTORY)
        return cls(Path(directory), count) if directory and Path(directory).is_dir() else None

    @contextmanager
    def held(self) -> Iterator[None]:
        """Hold a slot (blocking this thread until one is free) for as long as the block runs."""
        fd = self._take()
        try:
            yield
        finally:
            os.close(fd)  # closing the file releases its lock

    def _take(self) -> int:
        # Each hold opens its own file: flock locks belong to an open file, so threads of one process exclude each
        # other too.
        for path in self._paths:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            return fd
        # All taken: wait on one of them, the waiters taking turns among the slots.
        fd = os.open(self._paths[next(self._turns) % len(self._paths)], os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)
        return fd
