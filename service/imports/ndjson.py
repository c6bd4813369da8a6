"""Newline-delimited JSON as it streams in: numbered lines, never more than one line held at a time."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator

from service.imports.lines import MAX_LINE_BYTES, TOO_LONG


async def numbered_lines(chunks: AsyncIterable[bytes]) -> AsyncIterator[tuple[int, bytes]]:
    """(line number, line) for every line that is not blank, numbered as an editor shows them (from 1, blank
    lines counted). A line longer than MAX_LINE_BYTES comes as TOO_LONG, so it is reported but not held."""
    number, pending, overlong = 0, bytearray(), False
    async for chunk in chunks:
        start = 0
        while (end := chunk.find(b"\n", start)) != -1:
            number += 1
            if not overlong:
                pending += chunk[start:end]
            if (line := _line(pending, overlong)) is not None:
                yield number, line
            pending.clear()
            overlong, start = False, end + 1
        if not overlong:
            pending += chunk[start:]
            if len(pending) > MAX_LINE_BYTES:
                pending.clear()
                overlong = True
    if (pending or overlong) and (line := _line(pending, overlong)) is not None:
        yield number + 1, line


def _line(pending: bytearray, overlong: bool) -> bytes | None:
    if overlong:
        return TOO_LONG
    line = bytes(pending).rstrip(b"\r")
    return line if line.strip() else None
