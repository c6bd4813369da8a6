"""A batch's plan: each line matched with the account it is (or none) and compared with it, inside the batch's
transaction; duplicates within the job and collisions with other accounts fail their lines.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from service.errors import ErrorCode
from service.imports import repository as repo
from service.imports.bulk import repository as bulk
from service.imports.lines import LineFailure
from service.imports.matching import Details, Existing, Found, Update, compare, match
from service.imports.prepare import Prepared
from service.imports.repository import RunState
from service.platform.db import Connection

_KEY_FIELDS = {"e:": ("emailAddress", ErrorCode.EMAIL_TAKEN), "u:": ("userName", ErrorCode.USERNAME_TAKEN),
               "x:": ("externalId", ErrorCode.CONFLICT)}  # fmt: skip


@dataclass(slots=True)
class Plan:
    failures: dict[int, LineFailure]
    creates: list[Prepared] = field(default_factory=list)
    updates: list[Update] = field(default_factory=list)
    unchanged: list[Prepared] = field(default_factory=list)
    found: frozenset[int] = frozenset()  # the existing accounts the lines named, matched or not


async def plan_batch(
    conn: Connection, job: RunState, prepared: list[Prepared], failures: dict[int, LineFailure]
) -> Plan:
    """Each line matched with the account it is (or none) and compared with it; duplicates and collisions fail."""
    seen = await repo.seen_keys(conn, job.id, [(p.set_id, key) for p in prepared for key in p.keys.values()])
    found = await _found(conn, job.tenant_id, prepared)
    plan = Plan(failures, found=frozenset(e.account.id for owners in found.values() for e in owners))
    targets = []
    for line in prepared:
        try:
            _named_once(line, seen)
            _not_made_by(job, line, found)
            target = match(line, found)
        except LineFailure as failure:
            failures[line.line_no] = failure
            continue
        if target is None:
            plan.creates.append(line)
        else:
            targets.append((line, target))
    details = await _details(conn, job.tenant_id, [target.account.id for _, target in targets])
    for line, target in targets:
        update = compare(line, target, details)
        if update is None:
            plan.unchanged.append(line)
        else:
            plan.updates.append(update)
    return plan


def _named_once(line: Prepared, seen: dict[tuple[int, str], int]) -> None:
    """No two lines of a job name the same account: the second is reported, never merged into the first. `seen`
    holds the keys of this batch's lines so far, and those of earlier batches' lines that found their account
    (updated or unchanged) or, in a dry run, would have made it; an account an earlier batch made carries the
    job (`_not_made_by`), which spares a key row for each new account."""
    for key in line.keys.values():
        earlier = seen.get((line.set_id, key))
        if earlier is not None:
            field_name, code = _KEY_FIELDS[key[:2]]
            raise LineFailure(field_name, f"names the same account as line {earlier}", code)
    for key in line.keys.values():
        seen[(line.set_id, key)] = line.line_no


def _not_made_by(job: RunState, line: Prepared, found: Found) -> None:
    for kind, key in line.keys.items():
        for owner in found.get((line.set_id, key), []):
            if owner.import_job_id == job.id:
                field_name, code = _KEY_FIELDS[kind]
                reason = f"names account {owner.account.id}, which an earlier line of this import made"
                raise LineFailure(field_name, reason, code)


async def _found(conn: Connection, tenant_id: int, prepared: list[Prepared]) -> Found:
    found: Found = {}
    for kind in _KEY_FIELDS:
        pairs = sorted({(p.set_id, key) for p in prepared if (key := p.key(kind)) is not None})
        for set_id, key, account, job_id in await bulk.find_accounts(conn, tenant_id, kind, pairs):
            found.setdefault((set_id, key), []).append(Existing(account, set_id, job_id))
    return found


async def _details(conn: Connection, tenant_id: int, account_ids: list[int]) -> Details:
    if not account_ids:
        return Details({}, {}, {})
    contacts = await bulk.contacts_of(conn, tenant_id, account_ids)
    return Details(
        contacts=contacts,
        address_extras=await bulk.address_extras_of(conn, tenant_id, [c.id for cs in contacts.values() for c in cs]),
        magento=await bulk.customer_extras_of(conn, tenant_id, account_ids),
    )
