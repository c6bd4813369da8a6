"""An import job and its report, as the admin API and the command line show them."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import msgspec


class ImportStatus(StrEnum):
    RUNNING = "running"  # a process is importing it now
    INTERRUPTED = "interrupted"  # unfinished and nobody is running it (a crash, a stop): resume it
    COMPLETED = "completed"


class ImportSource(StrEnum):
    NDJSON = "ndjson"  # the API's own format, one account a line
    MAGENTO = "magento"  # Magento 2's customer export files, read by `gatehouse import magento`


class LineError(msgspec.Struct, rename="camel", frozen=True, kw_only=True):
    """Why one line was not imported: its number (the first line is 1), the field in the line's own names, a
    stable code and the reason. It never repeats a value of the line (a password hash least of all)."""

    line: int
    field: str
    code: str
    reason: str


class ImportJob(msgspec.Struct, rename="camel", frozen=True, kw_only=True):
    id: int
    tenant_id: int
    status: ImportStatus
    source: ImportSource
    dry_run: bool  # everything is checked and nothing is written
    created_by: str
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None
    lines_total: int
    lines_read: int
    created: int
    updated: int
    unchanged: int
    failed: int
    errors: tuple[LineError, ...] = ()  # the first ones; `…/errors` pages through all of them


class ImportJobPage(msgspec.Struct, rename="camel", frozen=True, kw_only=True):
    items: tuple[ImportJob, ...]
    total_count: int


class LineErrorPage(msgspec.Struct, rename="camel", frozen=True, kw_only=True):
    items: tuple[LineError, ...]
    total_count: int
