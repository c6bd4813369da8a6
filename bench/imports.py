"""`python -m bench import`: accounts per second and peak memory of a bulk import through the admin API.

For each size, a fresh Gatehouse (one worker, as `gatehouse serve` runs it) on real PostgreSQL and Redis; N
generated customers are written to an NDJSON file first (each with one address that is its default billing and
shipping address, every fourth with a second one, Magento's fields, an externalId and a bcrypt hash), then
streamed to POST /admin/v1/tenants/{id}/imports. Accounts per second run from the first byte sent to the job's
last batch. Peak memory is the service process's peak resident set (VmHWM), next to its resident set before
the upload: the same peak for every size means the import streams.

The hashes are bcrypt, a strong format that is stored as it is: a weak format (md5, sha256) costs one Argon2id
per account to wrap at import (run on one thread per core), which this does not measure.

    python -m bench import [--lines 10000 100000] [--write-readme]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import secrets
import tempfile
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from bench.harness import (
    Databases,
    Service,
    databases,
    log,
    service,
    write_readme_section,
)
from bench.processes import cpu_seconds, process_tree_cpu
from service.imports.runner import WRITERS

BCRYPT = "$2y$10$iqg.KBczmTZNJfDShLBSH.i4mxD/FYNAeWtHOVarynUdB9g7wLmhO"  # "Password1301", from the shared vectors
MARKER = "<!-- import results -->"


@dataclass
class Run:
    lines: int
    seconds: float
    idle_kib: int
    peak_kib: int
    service_cpu: float  # seconds
    postgres_cpu: float
    load: tuple[float, float]  # the machine's load average (1 minute) before and after: how much others ran

    @property
    def rate(self) -> float:
        return self.lines / self.seconds

    @property
    def cpu_bound(self) -> float:
        """Accounts/s if the service and PostgreSQL had the cores to themselves and overlapped perfectly: at most one
        core for the service (one worker), one for each of the import's connections to PostgreSQL, all the cores
        together."""
        cores = os.cpu_count() or 1
        total = self.service_cpu + self.postgres_cpu
        busiest = max(self.service_cpu, self.postgres_cpu / min(WRITERS, cores), total / cores)
        return self.lines / busiest


def write_accounts(path: Path, count: int) -> None:
    run = secrets.token_hex(3)
    with path.open("w", encoding="utf-8") as file:
        for i in range(count):
            address = {
                "firstName": "Jane", "lastNameOrSurname": f"Doe {i}", "address1": f"{i} Main Street",
                "cityOrTown": "Mineola", "stateOrProvince": "NY", "postalOrZipCode": "11501", "countryCode": "US",
                "phoneHome": "516-555-1111", "magento": {"regionId": 43, "region": "New York"},
                "types": [{"name": "Billing", "isPrimary": True}, {"name": "Shipping", "isPrimary": True}],
            }  # fmt: skip
            second = {"firstName": "Jane", "address1": f"{i} Side Street", "cityOrTown": "Albany", "countryCode": "US"}
            line = {
                "externalId": f"bench-{run}-{i}", "emailAddress": f"bench-{run}-{i}@example.com",
                "firstName": "Jane", "lastName": f"Doe {i}", "customerSinceDate": "2020-07-22T23:12:47Z",
                "passwordHash": BCRYPT, "magento": {"groupId": 1, "storeCode": "default", "gender": 2},
                "contacts": [address, second] if i % 4 == 0 else [address],
            }  # fmt: skip
            file.write(json.dumps(line) + "\n")


def _memory_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise SystemExit(f"no {field} for process {pid}")


def _call(server: Service, method: str, path: str, headers: dict[str, str], body: object = None) -> dict:
    connection = http.client.HTTPConnection(*server.host_and_port, timeout=60)
    data = json.dumps(body).encode() if body is not None else None
    connection.request(method, path, body=data, headers={"content-type": "application/json", **headers})
    response = connection.getresponse()
    text = response.read()
    if response.status >= 300:
        raise SystemExit(f"{method} {path} answered {response.status}: {text[:300]!r}")
    return json.loads(text)


def import_file(server: Service, postmaster: int | None, admin: tuple[str, str], path: Path, lines: int) -> Run:
    token = _call(server, "POST", "/admin/v1/token", {}, {"username": admin[0], "password": admin[1]})["accessToken"]
    headers = {"authorization": f"Bearer {token}"}
    tenant = _call(server, "POST", "/admin/v1/tenants", headers, {"name": "import bench"})
    idle, load_before = _memory_kib(server.process.pid, "VmRSS"), os.getloadavg()[0]
    service_cpu, postgres_cpu = cpu_seconds(server.process.pid), process_tree_cpu(postmaster)
    started = time.perf_counter()
    connection = http.client.HTTPConnection(*server.host_and_port, timeout=600)
    with path.open("rb") as body:  # http.client streams a file body, a block at a time
        upload = {**headers, "content-type": "application/x-ndjson", "content-length": str(path.stat().st_size)}
        connection.request("POST", f"/admin/v1/tenants/{tenant['id']}/imports", body=body, headers=upload)
    answer = connection.getresponse()
    location = answer.getheader("location")
    if answer.status != 202 or not location:
        raise SystemExit(f"the import answered {answer.status}: {answer.read()[:300]!r}")
    log(f"{lines} lines uploaded in {time.perf_counter() - started:.1f} s; importing")
    while (job := _call(server, "GET", location, headers))["status"] == "running":
        time.sleep(0.25)
    seconds = time.perf_counter() - started
    if (job["status"], job["created"], job["failed"]) != ("completed", lines, 0):
        raise SystemExit(f"the import did not make every account: {job}")
    # The import's connections close once it has finished: their backends' CPU counts once the postmaster has
    # reaped them (an exited, unreaped backend is neither a live child nor in the postmaster's children's time).
    time.sleep(1)
    service_cpu = cpu_seconds(server.process.pid) - service_cpu
    postgres_cpu = process_tree_cpu(postmaster) - postgres_cpu
    peak, load = _memory_kib(server.process.pid, "VmHWM"), (load_before, os.getloadavg()[0])
    return Run(lines, seconds, idle, peak, service_cpu, postgres_cpu, load)


def render(runs: list[Run]) -> str:
    rows = [
        (
            f"Measured {date.today().isoformat()} on {os.cpu_count()} cores, 1 service worker, PostgreSQL on the "
            "same machine; each account with 1.25 addresses on average, Magento's fields and a bcrypt hash."
        ),
        "",
        (
            "| lines | seconds | accounts/s | CPU ms per 1000: service, PostgreSQL | accounts/s on idle cores "
            "| load before, after | memory before | peak memory | goal |"
        ),
        "|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    rows += [
        f"| {r.lines} | {r.seconds:.1f} | {r.rate:.0f} | {r.service_cpu / r.lines * 1e6:.0f}, "
        f"{r.postgres_cpu / r.lines * 1e6:.0f} | {r.cpu_bound:.0f} | {r.load[0]:.1f}, {r.load[1]:.1f} "
        f"| {r.idle_kib / 1024:.0f} MiB "
        f"| {r.peak_kib / 1024:.0f} MiB | >= 5000/s, the same peak for every size |"
        for r in runs
    ]
    return "\n".join(rows)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench import", description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, nargs="+", default=[10_000, 100_000], help="one run per size")
    parser.add_argument("--write-readme", action="store_true", help="also write the table into bench/README.md")
    args = parser.parse_args(argv)
    admin = ("bench-admin", secrets.token_urlsafe(18))
    runs = []
    with tempfile.TemporaryDirectory(prefix="gatehouse-bench-import-") as scratch, databases() as dbs:
        for lines in args.lines:
            path = Path(scratch) / f"{lines}.ndjson"
            write_accounts(path, lines)
            runs.append(_measure(dbs, admin, path, lines))
    table = render(runs)
    print(table)
    if args.write_readme:
        write_readme_section(MARKER, table)
        log("wrote bench/README.md")
    return 0


def _measure(dbs: Databases, admin: tuple[str, str], path: Path, lines: int) -> Run:
    with service(dbs, 1, admin) as server:
        run = import_file(server, dbs.postgres_pid, admin, path, lines)
    log(f"{lines} lines: {run.rate:.0f} accounts/s, peak {run.peak_kib / 1024:.0f} MiB")
    return run
