"""A batch being written on one of the import's two connections, as the batch written beside it sees it.

Two batches are written at once, each in its own transaction, so that PostgreSQL's share of the work runs on two
cores. A batch matches its lines against what is committed; what the batch beside it writes is not, until it
commits. The two can only disagree about an account both name: the same key (email, user name, externalId), or
the same existing account found. A batch that shares either with the one beside it waits for that one to commit,
then matches its lines again, and so decides exactly as if the batches had run one after the other.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from service.imports.repository import BatchCounts

Key = tuple[int, str]  # (customer set id, key as prepare.py names it)


@dataclass(frozen=True, slots=True)
class Matching:
    """What a batch's lines name and, once they are matched, the existing accounts they found."""

    keys: frozenset[Key]
    planned: asyncio.Future[frozenset[int]] = field(default_factory=lambda: asyncio.get_running_loop().create_future())

    def found(self, accounts: frozenset[int]) -> None:
        """The lines are matched: the batch beside this one may compare."""
        self.planned.set_result(accounts)


@dataclass(frozen=True, slots=True)
class Flight:
    matching: Matching
    task: asyncio.Task[BatchCounts]

    async def counts(self) -> BatchCounts:
        """Its counts once committed (its error if it failed); waiting never cancels it."""
        await asyncio.wait((self.task,))
        return self.task.result()

    async def settle_overlap(self, beside: Matching, accounts: frozenset[int]) -> bool:
        """Whether the batch `beside` this one, having found these accounts, names one that this batch names or found;
        if so, once this batch has committed."""
        planned = self.matching.planned
        await asyncio.wait((planned, self.task), return_when=asyncio.FIRST_COMPLETED)
        if not planned.done():  # it ended before matching its lines: it failed
            self.task.result()
        if beside.keys.isdisjoint(self.matching.keys) and accounts.isdisjoint(planned.result()):
            return False
        await self.counts()
        return True
