"""`gatehouse import ndjson|magento|resume`: bulk imports run in this process, through the same jobs as the API.

A progress line on a terminal (stderr), a summary at the end (the job, with every line error, as JSON with
--json), exit code 1 when any line failed. A crash leaves the job to `gatehouse import resume` or to the
service's next start.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import msgspec

from service.cli.common import CLI_ACTOR, servers, with_capabilities
from service.imports.magento_csv import MagentoExport
from service.imports.records import ImportJob, ImportSource, LineError
from service.platform.config import Settings
from service.wiring import Capabilities

_CHUNK = 1 << 16


def add_import_commands(commands: Any, json_flag: argparse.ArgumentParser, tenant_id: Any) -> None:
    """`import ndjson`, `import magento` and `import resume`, under `commands`."""
    group = commands.add_parser("import", help="import customer accounts").add_subparsers(dest="action", required=True)
    ndjson = group.add_parser("ndjson", help="newline-delimited JSON, as the admin API takes it", parents=[json_flag])
    ndjson.add_argument("file", type=Path)
    magento = group.add_parser("magento", help="Magento 2's customer export CSV files", parents=[json_flag])
    magento.add_argument("--customers", type=Path, required=True, help="the Customers Main File")
    magento.add_argument("--addresses", type=Path, help="the Customer Addresses file")
    magento.add_argument(
        "--website-map", action="append", default=[], metavar="CODE=CUSTOMER_SET",
        help="a Magento website code and the customer set it becomes (repeat; base=default unless given)",
    )  # fmt: skip
    for command in (ndjson, magento):
        command.add_argument("--dry-run", action="store_true", help="check every line and write nothing")
    resume = group.add_parser("resume", help="go on with an interrupted import job here", parents=[json_flag])
    resume.add_argument("job_id", type=int)
    for command in (ndjson, magento, resume):
        command.add_argument("--tenant-id", type=tenant_id, required=True)
    ndjson.set_defaults(run=cmd_import_ndjson)
    magento.set_defaults(run=cmd_import_magento)
    resume.set_defaults(run=cmd_import_resume)


def cmd_import_ndjson(args: argparse.Namespace, settings: Settings) -> int:
    if not args.file.is_file():
        raise ValueError(f"{args.file}: no such file")
    return _import(args, settings, ImportSource.NDJSON, _file_chunks(args.file), None)


def cmd_import_magento(args: argparse.Namespace, settings: Settings) -> int:
    for path in (args.customers, args.addresses):
        if path is not None and not path.is_file():
            raise ValueError(f"{path}: no such file")
    website_map = dict(_mapping(entry) for entry in args.website_map)
    export = MagentoExport(args.customers, args.addresses, website_map)
    return _import(args, settings, ImportSource.MAGENTO, _chunks_of(export.lines()), export)


def cmd_import_resume(args: argparse.Namespace, settings: Settings) -> int:
    progress = _Progress(args)

    async def work(c: Capabilities) -> int:
        job = await c.imports.resume_here(args.tenant_id, CLI_ACTOR, args.job_id, progress.show)
        return await progress.summary(c, job, None)

    with servers(settings, with_redis=False) as ready:
        code: int = with_capabilities(ready, work)
    return code


def _import(
    args: argparse.Namespace,
    settings: Settings,
    source: ImportSource,
    body: AsyncIterator[bytes],
    export: MagentoExport | None,
) -> int:
    progress = _Progress(args)

    async def work(c: Capabilities) -> int:
        job = await c.imports.run_here(
            args.tenant_id, CLI_ACTOR, body, source=source, dry_run=args.dry_run, on_batch=progress.show
        )
        return await progress.summary(c, job, export)  # the export knows its orphans once every customer is read

    with servers(settings, with_redis=False) as ready:
        code: int = with_capabilities(ready, work)
    return code


def _mapping(entry: str) -> tuple[str, str]:
    code, found, customer_set = entry.partition("=")
    if not found or not code or not customer_set:
        raise ValueError(f"--website-map {entry!r}: write it as CODE=CUSTOMER_SET")
    return code, customer_set


async def _file_chunks(path: Path) -> AsyncIterator[bytes]:
    with path.open("rb") as file:  # read in a thread, a chunk at a time
        while chunk := await asyncio.to_thread(file.read, _CHUNK):
            yield chunk


async def _chunks_of(lines: Iterator[bytes]) -> AsyncIterator[bytes]:
    """Lines made elsewhere (the Magento reader, which reads files and SQLite), pulled in a thread a chunk at a time."""

    def chunk() -> bytes:
        parts, size = [], 0
        for line in lines:
            parts.append(line + b"\n")
            size += len(line) + 1
            if size >= _CHUNK:
                break
        return b"".join(parts)

    while data := await asyncio.to_thread(chunk):
        yield data


async def _errors(c: Capabilities, job: ImportJob) -> AsyncIterator[LineError]:
    """Every line error of the job, a page at a time: a million of them are never held at once."""
    offset = 0
    while offset < job.failed:
        page = await c.imports.errors(job.tenant_id, job.id, offset, 1000)
        if not page.items:
            return
        for error in page.items:
            yield error
        offset += len(page.items)


class _Progress:
    """A line on stderr that redraws itself after every batch, on a terminal only; then the summary on stdout."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.json = bool(args.json)
        self.live = sys.stderr.isatty()

    def show(self, job: ImportJob) -> None:
        if not self.live:
            return
        share = job.lines_read / job.lines_total if job.lines_total else 1.0
        bar = "#" * int(share * 30)
        sys.stderr.write(f"\r[{bar:<30}] {share:4.0%} {job.lines_read}/{job.lines_total} lines, {_counts(job)}")
        sys.stderr.flush()

    async def summary(self, c: Capabilities, job: ImportJob, export: MagentoExport | None) -> int:
        """The job and every line error (as JSON with --json); the exit code: 1 when a line failed or, from a
        Magento export, an address row named no customer."""
        if self.live:
            sys.stderr.write("\n")
        orphans, rows = (export.orphan_count, export.orphans) if export is not None else (0, [])
        if self.json:
            await _print_json(c, job, {"orphanAddresses": orphans, "orphanAddressRows": rows} if export else {})
        else:
            mode = "checked (dry run)" if job.dry_run else "imported"
            print(f"import job {job.id} {mode}: {job.lines_total} lines, {_counts(job)}")
            async for error in _errors(c, job):
                print(f"  line {error.line}: {error.field} {error.reason} ({error.code})")
            if orphans:
                print(f"  {orphans} address rows name no customer of the customers file: rows {rows[:20]}")
        return 1 if job.failed or orphans else 0


async def _print_json(c: Capabilities, job: ImportJob, extra: dict[str, Any]) -> None:
    """The job as JSON, its `errors` all of them, written as they are read."""
    head = {**msgspec.to_builtins(job), **extra}
    del head["errors"]
    sys.stdout.write(json.dumps(head, indent=2)[: -len("\n}")] + ',\n  "errors": [')
    separator = "\n    "
    async for error in _errors(c, job):
        sys.stdout.write(separator + json.dumps(msgspec.to_builtins(error)))
        separator = ",\n    "
    sys.stdout.write("\n  ]\n}\n")


def _counts(job: ImportJob) -> str:
    return f"{job.created} created, {job.updated} updated, {job.unchanged} unchanged, {job.failed} failed"
