"""`python -m bench login-formats`: how long a failed login takes for an unknown user, and for an account of
each password hash format an import accepts, side by side.

A failed login is what someone probing for accounts sees, and it leaves an imported hash as it is (only a
successful login replaces it), so each account is asked with a wrong password again and again. The kinds
take turns, one login each per round, so that the machine's swings hit all of them alike; one service worker
and one login at a time, so each time is one request and its verification. The accounts are made through the
API and their hashes set in the database to what the import stores (`stored_form`), as the import tests do.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import secrets
import statistics
import time
from dataclasses import dataclass, field
from datetime import date

import asyncpg
import bcrypt

from bench.harness import Api, bench_tenant, gatehouse, log, run_loop, write_readme_section
from service.imports.hash_formats import stored_form
from tests.hash_vectors import Vector, all_vectors

MARKER = "<!-- login formats -->"
PASSWORD = "benchmark passphrase 1"  # the password of the account that holds the tenant's own Argon2id
UNKNOWN, OWN = "unknown user", "Gatehouse's Argon2id (tenant default)"
# A lockout or a throttle would turn the wrong passwords into decoy checks and 429s halfway through.
_SET_HASH = "UPDATE customer_logins SET password_hash = $2 WHERE account_id = $1"
SETTINGS = {"lockout": {"maxFailures": 1000}, "throttle": {"maxFailuresPerAddress": 100_000}}


@dataclass
class Kind:
    label: str
    stored_as: str
    email: str
    times: list[float] = field(default_factory=list)

    def median_ms(self) -> float:
        return statistics.median(self.times) * 1000

    def p90_ms(self) -> float:
        return sorted(self.times)[int(len(self.times) * 0.9)] * 1000


def vectors() -> list[Vector]:
    """One of each format and variant (the first of the shared vectors' repeats), and bcrypt at cost 12, PHP 8.4's."""
    chosen: dict[str, Vector] = {}
    for vector in all_vectors():
        label = vector.label.split(" #")[0]
        chosen.setdefault(label, dataclasses.replace(vector, label=label))
    cost12 = bcrypt.hashpw(b"cost twelve", bcrypt.gensalt(12)).decode().replace("$2b$", "$2y$")
    return [*chosen.values(), Vector("bcrypt $2y$ cost 12", "cost twelve", cost12, "bcrypt")]


async def prepare(api: Api, setup: dict, database_url: str) -> list[Kind]:
    kinds = [Kind(UNKNOWN, "(decoy)", f"nobody-{secrets.token_hex(4)}@example.com")]
    conn = await asyncpg.connect(database_url)
    try:
        own = await _account(api, setup)
        kinds.append(Kind(OWN, "as made", own[0]))
        for vector in vectors():
            email, account_id = await _account(api, setup)
            stored = stored_form(vector.hash, vector.format)
            await conn.execute(_SET_HASH, account_id, stored)
            kinds.append(Kind(vector.label, "Argon2id-wrapped" if stored.startswith("$gh-") else "as imported", email))
    finally:
        await conn.close()
    return kinds


async def _account(api: Api, setup: dict) -> tuple[str, int]:
    email = f"formats-{secrets.token_hex(4)}@example.com"
    ticket = await api.call(
        "POST",
        "/api/commerce/customer/accounts/Add-Account-And-Login",
        {"account": {"emailAddress": email}, "password": PASSWORD},
        setup["app_headers"],
    )
    return email, ticket["customerAccount"]["id"]


async def measure(base_url: str, database_url: str, admin: tuple[str, str], logins: int) -> list[Kind]:
    host, port = base_url.removeprefix("http://").split(":")
    api = Api(host, int(port))
    setup = await bench_tenant(api, admin, SETTINGS)
    kinds = await prepare(api, setup, database_url)
    headers = {**setup["app_headers"], "content-type": "application/json"}
    for round_number in range(logins + 1):  # the first round warms up, and is not counted
        for kind in kinds:
            body = json.dumps({"username": kind.email, "password": "not the password 1"}).encode()
            started = time.perf_counter()
            status, raw = await api.connection.request("POST", "/api/commerce/customer/authtickets", headers, body)
            elapsed = time.perf_counter() - started
            if status != 401:
                raise RuntimeError(f"{kind.label}: a wrong password answered {status}: {raw[:200]!r}")
            if round_number:
                kind.times.append(elapsed)
        log(f"round {round_number}/{logins}")
    return kinds


def render(kinds: list[Kind], logins: int) -> str:
    unknown = kinds[0].median_ms()
    rows = [
        (
            f"Measured {date.today().isoformat()} on {os.cpu_count()} cores, 1 service worker, one login at a time; "
            f"{logins} failed logins per kind, taking turns. Ratio: median over the unknown user's median."
        ),
        "",
        "| account | stored | median ms | p90 ms | ratio to unknown user |",
        "|---|---|---:|---:|---:|",
    ]
    rows.extend(
        f"| {k.label} | {k.stored_as} | {k.median_ms():.1f} | {k.p90_ms():.1f} | {k.median_ms() / unknown:.2f} |"
        for k in kinds
    )
    return "\n".join(rows)


def main(args: argparse.Namespace) -> int:
    admin = (args.admin_user, args.admin_password)
    with gatehouse(1, admin) as (base_url, database_url):
        kinds = run_loop(measure(base_url, database_url, admin, args.logins))
    table = render(kinds, args.logins)
    print(table)
    if args.write_readme:
        write_readme_section(MARKER, table)
        log("wrote bench/README.md")
    return 0
