"""Bulk imports of customer accounts, through the admin API and the command line, against the real service.

Imported accounts are checked where customers and shops meet them: Kibo's account routes, Magento's customer
routes, and logins with the hashes the old shop kept (tests/import_hash_vectors.jsonl: the Argon2id and bcrypt
vectors of ../shared/reference/password-hashes/other-shops.jsonl, made by PHP's password_hash).
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import subprocess
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import (
    ROOT,
    Servers,
    TenantFixture,
    assert_kibo_error,
    assert_problem,
    start_service,
    unique,
)

VECTORS = [json.loads(line) for line in (ROOT / "tests" / "import_hash_vectors.jsonl").read_text().splitlines()]
ARGON2ID = [v for v in VECTORS if v["format"] == "argon2id"]
BCRYPT = [v for v in VECTORS if v["format"] == "bcrypt"]
NDJSON = {"content-type": "application/x-ndjson"}
ACCOUNTS = "/api/commerce/customer/accounts"


def ndjson(lines: Iterable[Any]) -> bytes:
    """Lines as the API takes them: objects as JSON, bytes and text as they are."""
    encoded = (line if isinstance(line, bytes) else (line if isinstance(line, str) else json.dumps(line)).encode()
               for line in lines)  # fmt: skip
    return b"\n".join(encoded) + b"\n"


async def start(
    client: httpx.AsyncClient, tenant: TenantFixture, body: Any, *, dry_run: bool = False, base: str = ""
) -> httpx.Response:
    query = "?dryRun=true" if dry_run else ""
    content = body if isinstance(body, bytes) else ndjson(body)
    url = f"{base}/admin/v1/tenants/{tenant.id}/imports{query}"
    return await client.post(url, content=content, headers={**tenant.admin_headers, **NDJSON})


async def wait_for(
    client: httpx.AsyncClient, tenant: TenantFixture, job_id: int, until: str = "completed", seconds: float = 120
) -> dict:
    deadline = time.monotonic() + seconds
    while True:
        job = await client.get(f"/admin/v1/tenants/{tenant.id}/imports/{job_id}", headers=tenant.admin_headers)
        assert job.status_code == 200, job.text
        if job.json()["status"] == until:
            return job.json()
        assert time.monotonic() < deadline, job.json()
        await asyncio.sleep(0.1)


async def run_import(client: httpx.AsyncClient, tenant: TenantFixture, body: Any, *, dry_run: bool = False) -> dict:
    answer = await start(client, tenant, body, dry_run=dry_run)
    assert answer.status_code == 202, answer.text
    assert answer.headers["location"] == f"/admin/v1/tenants/{tenant.id}/imports/{answer.json()['id']}"
    return await wait_for(client, tenant, answer.json()["id"])


def counts(job: dict) -> tuple[int, int, int, int]:
    return job["created"], job["updated"], job["unchanged"], job["failed"]


async def kibo_account(client: httpx.AsyncClient, tenant: TenantFixture, email: str) -> dict | None:
    found = await client.get(
        ACCOUNTS,
        params={"filter": f"emailAddress eq '{email}'", "responseGroups": "Contacts"},
        headers=tenant.app_headers,
    )
    assert found.status_code == 200, found.text
    items = found.json()["items"]
    assert len(items) <= 1, items
    return items[0] if items else None


async def account_count(client: httpx.AsyncClient, tenant: TenantFixture) -> int:
    listed = await client.get(ACCOUNTS, params={"pageSize": 1}, headers=tenant.app_headers)
    assert listed.status_code == 200, listed.text
    return listed.json()["totalCount"]


async def login(client: httpx.AsyncClient, tenant: TenantFixture, email: str, password: str) -> httpx.Response:
    return await client.post(
        "/api/commerce/customer/authtickets", json={"username": email, "password": password}, headers=tenant.app_headers
    )


async def audit_trail(client: httpx.AsyncClient, tenant: TenantFixture, path: str) -> list[dict]:
    events = await client.get(f"/admin/v1/tenants/{tenant.id}/{path}/audit-events", headers=tenant.admin_headers)
    assert events.status_code == 200, events.text
    return list(reversed(events.json()))  # oldest first


def email_for(prefix: str) -> str:
    return f"{unique(prefix)}@example.com"


def customer(email: str, vector: dict | None = None, **fields: Any) -> dict:
    line: dict[str, Any] = {"emailAddress": email, "firstName": "Jane", "lastName": "Doe", **fields}
    if vector is not None:
        line["passwordHash"] = vector["hash"]
    return line


# --- the admin API -------------------------------------------------------------------------------


async def test_imported_accounts_are_kibo_and_magento_customers_and_log_in_with_their_hashes(
    client: httpx.AsyncClient, tenant: TenantFixture
) -> None:
    emails = [email_for("argon") for _ in ARGON2ID] + [email_for("bcrypt") for _ in BCRYPT]
    address = {
        "firstName": "Jane", "lastNameOrSurname": "Doe", "address1": "160 1st St.", "cityOrTown": "Mineola",
        "stateOrProvince": "NY", "postalOrZipCode": "11501", "countryCode": "US", "phoneHome": "516-555-1111",
        "types": [{"name": "Billing", "isPrimary": True}, {"name": "Shipping", "isPrimary": True}],
        "magento": {"regionId": 43, "region": "New York"},
    }  # fmt: skip
    lines = [
        customer(
            email,
            vector,
            externalId=f"m2-{index}",
            customerSinceDate="2020-07-22T23:12:47.123Z",
            passwordHashFormat="auto" if index % 2 else vector["format"],
            contacts=[address],
            magento={"groupId": 3, "dob": "1980-01-02", "gender": 2, "storeCode": "default", "prefix": "Dr."},
        )
        for index, (email, vector) in enumerate(zip(emails, ARGON2ID + BCRYPT, strict=True))
    ]
    job = await run_import(client, tenant, lines)
    assert counts(job) == (4, 0, 0, 0) and job["linesRead"] == job["linesTotal"] == 4 and job["errors"] == []
    assert job["source"] == "ndjson" and job["dryRun"] is False and job["createdBy"].startswith("admin:")

    account = await kibo_account(client, tenant, emails[0])
    assert account is not None
    assert (account["firstName"], account["externalId"]) == ("Jane", "m2-0")
    assert account["customerSinceDate"].startswith("2020-07-22T23:12:47.123")
    [contact] = account["contacts"]
    assert contact["address"]["address1"] == "160 1st St." and contact["phoneNumbers"]["home"] == "516-555-1111"
    assert sorted((t["name"], t["isPrimary"]) for t in contact["types"]) == [("Billing", True), ("Shipping", True)]

    magento = await client.get(
        f"/rest/V1/customers/{account['id']}", headers={"x-vol-tenant": str(tenant.id), **tenant.admin_headers}
    )
    assert magento.status_code == 200, magento.text
    shown = magento.json()
    assert (shown["group_id"], shown["dob"], shown["gender"], shown["prefix"]) == (3, "1980-01-02", 2, "Dr.")
    assert shown["store_id"] == tenant.default_site_id and shown["default_billing"] == str(contact["id"])
    assert shown["addresses"][0]["region"]["region_id"] == 43

    for email, vector in zip(emails, ARGON2ID, strict=False):
        assert (await login(client, tenant, email, vector["password"])).status_code == 200, email
        assert_kibo_error(await login(client, tenant, email, vector["password"] + "x"), 401, "INVALID_CREDENTIALS")

    trail = await audit_trail(client, tenant, f"accounts/{account['id']}")
    assert trail[0]["action"] == "account.imported" and trail[0]["details"] == {
        "jobId": job["id"], "line": 1, "outcome": "created"
    }  # fmt: skip
    assert [e["action"] for e in trail].count("account.imported") == 1
    job_trail = await audit_trail(client, tenant, f"imports/{job['id']}")
    assert [e["action"] for e in job_trail] == ["import.started", "import.completed"]
    assert job_trail[0]["actor"] == job["createdBy"] and job_trail[0]["details"]["lines"] == 4
    assert job_trail[1]["details"] | {"dryRun": False} == job_trail[1]["details"]
    assert {k: job_trail[1]["details"][k] for k in ("created", "updated", "unchanged", "failed")} == {
        "created": 4, "updated": 0, "unchanged": 0, "failed": 0
    }  # fmt: skip


async def test_imported_bcrypt_hashes_log_in(client: httpx.AsyncClient, tenant: TenantFixture) -> None:
    email = email_for("bcrypt-login")
    job = await run_import(client, tenant, [customer(email, BCRYPT[0])])
    assert counts(job) == (1, 0, 0, 0)
    assert (await login(client, tenant, email, BCRYPT[0]["password"])).status_code == 200


async def test_running_a_file_again_updates_instead_of_duplicating(
    client: httpx.AsyncClient, tenant: TenantFixture
) -> None:
    emails = [email_for("again") for _ in range(3)]
    lines = [
        customer(emails[0], ARGON2ID[0]),
        customer(emails[1], contacts=[{"address1": "1 Old Road", "countryCode": "US"}]),
        customer(emails[2], externalId="crm-3", magento={"groupId": 2}),
    ]
    assert counts(await run_import(client, tenant, lines)) == (3, 0, 0, 0)
    assert counts(await run_import(client, tenant, lines)) == (0, 0, 3, 0)
    assert await account_count(client, tenant) == 3

    lines[0]["passwordHash"] = ARGON2ID[1]["hash"]  # a re-run never replaces a password the account has
    lines[1] = customer(emails[1], lastName="Smith", contacts=[{"address1": "2 New Road", "countryCode": "US"}])
    lines[2] = customer(email_for("renamed"), externalId="crm-3", magento={"groupId": 4})  # found by externalId
    job = await run_import(client, tenant, lines)
    assert counts(job) == (0, 2, 1, 0), job
    assert await account_count(client, tenant) == 3
    assert (await login(client, tenant, emails[0], ARGON2ID[0]["password"])).status_code == 200

    changed = await kibo_account(client, tenant, emails[1])
    assert changed is not None and changed["lastName"] == "Smith"
    assert [c["address"]["address1"] for c in changed["contacts"]] == ["2 New Road"]
    trail = await audit_trail(client, tenant, f"accounts/{changed['id']}")
    assert [(e["action"], e["details"]["outcome"]) for e in trail] == [
        ("account.imported", "created"), ("account.imported", "updated")
    ]  # fmt: skip
    assert trail[1]["details"]["changed"] == ["last_name", "contacts"]
    started = (await audit_trail(client, tenant, f"imports/{job['id']}"))[0]
    assert started["action"] == "import.started" and started["clientIp"]
    assert trail[1]["clientIp"] == started["clientIp"]  # who ran the import, from where
    assert await kibo_account(client, tenant, emails[2]) is None
    assert (await kibo_account(client, tenant, lines[2]["emailAddress"]) or {}).get("externalId") == "crm-3"


async def test_sessions_of_an_account_an_import_changes_follow_it(
    client: httpx.AsyncClient, tenant: TenantFixture
) -> None:
    """As after any change to an account: its live sessions answer with the account as it is now, and end when an
    import deactivates it."""
    email = email_for("session")
    assert counts(await run_import(client, tenant, [customer(email, ARGON2ID[0])])) == (1, 0, 0, 0)
    signed_in = await login(client, tenant, email, ARGON2ID[0]["password"])
    assert signed_in.status_code == 200, signed_in.text

    assert counts(await run_import(client, tenant, [customer(email, firstName="Janet")])) == (0, 1, 0, 0)
    refreshed = await client.put(
        "/api/commerce/customer/authtickets/refresh",
        params={"refreshToken": signed_in.json()["refreshToken"]},
        headers=tenant.app_headers,
    )
    assert refreshed.status_code == 200, refreshed.text
    assert refreshed.json()["customerAccount"]["firstName"] == "Janet"

    assert counts(await run_import(client, tenant, [customer(email, isActive=False)])) == (0, 1, 0, 0)
    ended = await client.put(
        "/api/commerce/customer/authtickets/refresh",
        params={"refreshToken": refreshed.json()["refreshToken"]},
        headers=tenant.app_headers,
    )
    assert_kibo_error(ended, 401)
    assert_kibo_error(await login(client, tenant, email, ARGON2ID[0]["password"]), 401, "INVALID_CREDENTIALS")


async def test_a_dry_run_checks_everything_and_writes_nothing(client: httpx.AsyncClient, tenant: TenantFixture) -> None:
    good = [email_for("dry") for _ in range(2)]
    lines = [customer(good[0], ARGON2ID[0]), customer(good[1]), customer(good[0]), {"emailAddress": "nope"}]
    dry = await run_import(client, tenant, lines, dry_run=True)
    assert dry["dryRun"] is True and counts(dry) == (2, 0, 0, 2)
    assert [(e["line"], e["code"]) for e in dry["errors"]] == [(3, "EMAIL_TAKEN"), (4, "INVALID_EMAIL")]
    assert await account_count(client, tenant) == 0
    assert (await login(client, tenant, good[0], ARGON2ID[0]["password"])).status_code == 401

    real = await run_import(client, tenant, lines)
    assert counts(real) == counts(dry) and real["errors"] == dry["errors"]
    assert await account_count(client, tenant) == 2


async def test_a_line_naming_an_account_an_earlier_batch_named_is_reported(
    client: httpx.AsyncClient, tenant: TenantFixture
) -> None:
    """Lines 1 and 1002 name one account, in two batches of 1000: the second is reported, in a dry run, in the
    first run (which made the account) and when the file runs again (which finds it)."""
    lines = [customer(email_for(f"batch-{i}")) for i in range(1001)]
    lines.append(customer(lines[0]["emailAddress"], lastName="Twice"))
    for dry_run, expected in ((True, (1001, 0, 0, 1)), (False, (1001, 0, 0, 1)), (False, (0, 0, 1001, 1))):
        job = await run_import(client, tenant, lines, dry_run=dry_run)
        assert counts(job) == expected, job
        [error] = job["errors"]
        assert (error["line"], error["field"], error["code"]) == (1002, "emailAddress", "EMAIL_TAKEN"), error
    assert (await kibo_account(client, tenant, lines[0]["emailAddress"]) or {}).get("lastName") == "Doe"
    assert await account_count(client, tenant) == 1001


async def test_a_batch_decides_as_if_the_batch_written_beside_it_had_committed(
    client: httpx.AsyncClient, tenant: TenantFixture
) -> None:
    """Batches are written two at a time. Line 1 moves an account to a new email; line 1002, in the next batch,
    names its old email: as one after the other, the old email is free by then and line 1002 makes a new account
    (matched against the account as it was, it would move the account back)."""
    old, new, external_id = email_for("moved-from"), email_for("moved-to"), unique("moved")
    assert counts(await run_import(client, tenant, [customer(old, externalId=external_id)])) == (1, 0, 0, 0)
    lines = [customer(new, externalId=external_id, lastName="Moved")]
    lines += [customer(email_for(f"beside-{i}")) for i in range(1000)]
    lines.append(customer(old, lastName="New"))
    job = await run_import(client, tenant, lines)
    assert counts(job) == (1001, 1, 0, 0), job
    moved, made = await kibo_account(client, tenant, new), await kibo_account(client, tenant, old)
    assert moved is not None and (moved["lastName"], moved["externalId"]) == ("Moved", external_id)
    assert made is not None and made["lastName"] == "New" and made["id"] != moved["id"]


async def test_bad_lines_are_reported_by_line_and_field_and_the_others_imported(
    client: httpx.AsyncClient, tenant: TenantFixture
) -> None:
    secret = "$2y$10$" + "SECRETHASH" * 5  # not a bcrypt hash (52 characters after the cost), and never shown
    lines: list[Any] = [
        customer(email_for("ok")),
        "",  # a blank line: skipped, but counted, so that numbers are the file's
        customer(email_for("bad-hash"), passwordHash=secret),
        b'{"emailAddress": "a@example.com", "emailAddress": "b@example.com"}',
        customer(email_for("bad-type"), contacts=[{"types": [{"name": "Home"}]}]),
        customer(email_for("no-set"), customerSet="nosuchset"),
        customer(email_for("no-store"), magento={"storeCode": "nosuchstore"}),
        customer(email_for("bad-group"), magento={"groupId": -1}),
        customer(email_for("unknown"), notes=["x"]),
        b"\xff\xfe not UTF-8",
        {"userName": "nobody", "passwordHash": ARGON2ID[0]["hash"], "passwordHashFormat": "md5-or-so"},
        {"passwordHash": ARGON2ID[0]["hash"]},
        customer(email_for("nul"), firstName="a\u0000b"),  # only PostgreSQL refuses it: its batch goes line by line
        customer(email_for("ok")),
    ]
    job = await run_import(client, tenant, lines)
    assert counts(job) == (2, 0, 0, 11) and job["linesTotal"] == 14
    assert [(e["line"], e["field"], e["code"]) for e in job["errors"]] == [
        (3, "passwordHash", "UNSUPPORTED_HASH_FORMAT"),
        (4, "line", "MALFORMED_REQUEST"),
        (5, "contacts[0].types", "INVALID_CONTACT_TYPE"),
        (6, "customerSet", "CUSTOMER_SET_NOT_FOUND"),
        (7, "magento.storeCode", "STORE_NOT_FOUND"),
        (8, "magento.groupId", "VALIDATION_FAILED"),
        (9, "line", "VALIDATION_FAILED"),
        (10, "line", "MALFORMED_REQUEST"),
        (11, "passwordHashFormat", "VALIDATION_FAILED"),
        (12, "emailAddress", "LOGIN_NAME_REQUIRED"),
        (13, "line", "VALIDATION_FAILED"),
    ]
    assert all(error["reason"] for error in job["errors"])
    assert "notes" in job["errors"][6]["reason"] and "a@example.com" not in job["errors"][1]["reason"]
    page = await client.get(
        f"/admin/v1/tenants/{tenant.id}/imports/{job['id']}/errors",
        params={"startIndex": 2, "pageSize": 3},
        headers=tenant.viewer_headers,
    )
    assert page.status_code == 200, page.text
    assert page.json()["totalCount"] == 11 and [e["line"] for e in page.json()["items"]] == [5, 6, 7]
    everything = json.dumps(job) + page.text
    assert "SECRETHASH" not in everything and ARGON2ID[0]["hash"] not in everything


async def test_a_line_that_repeats_a_key_anywhere_is_refused(client: httpx.AsyncClient, tenant: TenantFixture) -> None:
    """Repeats nested in a contact, written with spaces before the colon, or beside a value holding `":`, fail their
    line; the same shapes without a repeat are imported."""
    emails = [email_for(f"keys-{i}") for i in range(4)]
    lines = [
        f'{{"emailAddress": "{emails[0]}", "contacts": [{{"address1": "1 Road", "address1": "2 Road"}}]}}'.encode(),
        f'{{"emailAddress": "{emails[1]}", "lastName" : "A", "lastName": "B"}}'.encode(),
        f'{{"emailAddress": "{emails[2]}", "lastName": "A\\":B", "lastName": "C"}}'.encode(),
        f'{{"emailAddress" : "{emails[3]}", "lastName": "A\\":B", "contacts": [{{"address1": "1 Road"}}]}}'.encode(),
        customer(email_for("keys-plain"), contacts=[{"address1": "1 Road"}, {"address1": "2 Road"}]),
    ]
    job = await run_import(client, tenant, lines)
    assert counts(job) == (2, 0, 0, 3), job
    assert [(e["line"], e["field"], e["code"]) for e in job["errors"]] == [
        (n, "line", "MALFORMED_REQUEST") for n in (1, 2, 3)
    ]
    assert (await kibo_account(client, tenant, emails[3]) or {}).get("lastName") == 'A":B'


async def test_emails_of_other_accounts_are_collisions_never_merged(
    client: httpx.AsyncClient, tenant: TenantFixture
) -> None:
    native, crm = email_for("native"), email_for("crm")
    for email, external_id in ((native, None), (crm, "crm-7")):
        made = await client.post(
            f"{ACCOUNTS}/Add-Account-And-Login",
            json={"account": {"emailAddress": email, "firstName": "Own", "externalId": external_id},
                  "password": "the customer's own passphrase"},
            headers=tenant.app_headers,
        )  # fmt: skip
        assert made.status_code == 200, made.text
    imported = email_for("imported")
    assert counts(await run_import(client, tenant, [customer(imported, externalId="shop-1")])) == (1, 0, 0, 0)

    job = await run_import(
        client,
        tenant,
        [
            customer(native, ARGON2ID[0]),  # a customer of Gatehouse already: not the import's to change
            customer(imported, externalId="shop-2"),  # the imported account is another customer of the old shop
            customer(email_for("moved"), externalId="crm-7", lastName="Imported"),  # externalId: the same customer
            customer(crm),  # crm's account was matched by line 3 and is not the import's by email
        ],
    )
    assert counts(job) == (0, 1, 0, 3), job
    assert [(e["line"], e["field"], e["code"]) for e in job["errors"]] == [
        (1, "emailAddress", "EMAIL_TAKEN"), (2, "emailAddress", "EMAIL_TAKEN"), (4, "emailAddress", "EMAIL_TAKEN")
    ]  # fmt: skip
    kept = await kibo_account(client, tenant, native)
    assert kept is not None and kept["firstName"] == "Own"
    assert (await login(client, tenant, native, "the customer's own passphrase")).status_code == 200
    assert (await login(client, tenant, native, ARGON2ID[0]["password"])).status_code == 401
    assert (await kibo_account(client, tenant, imported) or {}).get("externalId") == "shop-1"
    assert await kibo_account(client, tenant, crm) is None  # crm-7's email is the one its line gave


async def test_who_may_import_and_what_the_api_refuses(
    client: httpx.AsyncClient, tenant: TenantFixture, other_tenant: TenantFixture
) -> None:
    url = f"/admin/v1/tenants/{tenant.id}/imports"
    body = ndjson([customer(email_for("who"))])
    assert_problem(await client.post(url, content=body, headers={**tenant.viewer_headers, **NDJSON}), 403)
    assert_problem(await client.post(url, content=body, headers={**other_tenant.admin_headers, **NDJSON}), 404)
    for content_type in ("application/json", "text/plain"):
        wrong = await client.post(url, content=body, headers={**tenant.admin_headers, "content-type": content_type})
        assert_problem(wrong, 415, "UNSUPPORTED_MEDIA_TYPE")
    assert await account_count(client, tenant) == 0

    job = await run_import(client, tenant, body)
    for headers in (tenant.viewer_headers, tenant.admin_headers):
        assert (await client.get(f"{url}/{job['id']}", headers=headers)).status_code == 200
    assert_problem(await client.get(f"{url}/{job['id']}", headers=other_tenant.admin_headers), 404)
    other = f"/admin/v1/tenants/{other_tenant.id}/imports/{job['id']}"
    assert_problem(await client.get(other, headers=other_tenant.admin_headers), 404, "IMPORT_NOT_FOUND")
    assert_problem(await client.post(f"{url}/{job['id']}/resume", headers=tenant.admin_headers), 409, "IMPORT_FINISHED")
    assert_problem(await client.post(f"{url}/{job['id']}/resume", headers=tenant.viewer_headers), 403)
    listed = await client.get(url, headers=tenant.viewer_headers)
    assert [j["id"] for j in listed.json()["items"]] == [job["id"]] and listed.json()["totalCount"] == 1


# --- crashes --------------------------------------------------------------------------------------


async def _kill_when_running(
    client: httpx.AsyncClient, tenant: TenantFixture, job_id: int, past: int, process: subprocess.Popen
) -> int:
    """SIGKILL the process running the job once it has committed more than `past` lines; the line reached."""
    deadline = time.monotonic() + 120
    while True:
        job = (await client.get(f"/admin/v1/tenants/{tenant.id}/imports/{job_id}", headers=tenant.admin_headers)).json()
        if job["status"] == "running" and job["linesRead"] > past:
            process.kill()
            process.wait()
            return job["linesRead"]
        assert job["status"] != "completed" and time.monotonic() < deadline, job
        await asyncio.sleep(0.02)


def _resume_from_the_command_line(env: dict[str, str], tenant_id: int, job_id: int) -> subprocess.Popen:
    command = [sys.executable, "-m", "service", "import", "resume", "--tenant-id", str(tenant_id), str(job_id)]
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


async def test_an_import_survives_crashes_and_resumes_where_it_stopped(
    client: httpx.AsyncClient, tenant: TenantFixture, servers: Servers, tmp_path: Path
) -> None:
    """SIGKILL three times mid-import: resumed by a service that starts, by the command line, by POST …/resume."""
    total = 30_000
    prefix = unique("crash")
    lines = [{"emailAddress": f"{prefix}-{i}@example.com", "externalId": f"{prefix}-{i}"} for i in range(total)]
    first = start_service(servers, tmp_path / "first.log")
    answer = await start(client, tenant, lines, base=first.base_url)
    assert answer.status_code == 202, answer.text
    job_id = answer.json()["id"]
    reached = await _kill_when_running(client, tenant, job_id, 1000, first.process)

    interrupted = await wait_for(client, tenant, job_id, "interrupted", seconds=20)
    assert reached <= interrupted["linesRead"] < total and interrupted["finishedAt"] is None
    second = start_service(servers, tmp_path / "second.log")  # a process that starts resumes what nobody runs
    reached = await _kill_when_running(client, tenant, job_id, interrupted["linesRead"] + 1000, second.process)

    interrupted = await wait_for(client, tenant, job_id, "interrupted", seconds=20)
    cli = _resume_from_the_command_line(second.env, tenant.id, job_id)
    reached = await _kill_when_running(client, tenant, job_id, interrupted["linesRead"] + 1000, cli)
    assert reached < total

    await wait_for(client, tenant, job_id, "interrupted", seconds=20)
    url = f"/admin/v1/tenants/{tenant.id}/imports/{job_id}"
    resumed = await client.post(f"{url}/resume", headers=tenant.admin_headers)
    assert resumed.status_code == 202 and resumed.json()["status"] == "running", resumed.text
    done = await wait_for(client, tenant, job_id)
    assert counts(done) == (total, 0, 0, 0) and done["linesRead"] == total
    assert await account_count(client, tenant) == total  # nothing lost, nothing twice
    trail = await audit_trail(client, tenant, f"imports/{job_id}")
    assert [(e["action"], e["actor"]) for e in trail] == [
        ("import.started", done["createdBy"]), ("import.resumed", "system"), ("import.resumed", "cli"),
        ("import.resumed", done["createdBy"]), ("import.completed", done["createdBy"]),
    ]  # fmt: skip
    boundary = await kibo_account(client, tenant, f"{prefix}-{reached}@example.com")
    assert boundary is not None
    assert [e["action"] for e in await audit_trail(client, tenant, f"accounts/{boundary['id']}")] == [
        "account.imported"
    ]
    assert_problem(await client.post(f"{url}/resume", headers=tenant.admin_headers), 409, "IMPORT_FINISHED")


# --- the command line ----------------------------------------------------------------------------


def _csv(rows: list[dict[str, Any]], columns: list[str]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


CUSTOMER_COLUMNS = [
    "email",
    "_website",
    "_store",
    "website_id",
    "store_id",
    "created_in",
    "prefix",
    "firstname",
    "middlename",
    "lastname",
    "suffix",
    "group_id",
    "dob",
    "password_hash",
    "rp_token",
    "rp_token_created_at",
    "created_at",
    "updated_at",
    "disable_auto_group_change",
    "gender",
    "taxvat",
    "confirmation",
    "lock_expires",
    "failures_num",
    "first_failure",
    "password",
]
ADDRESS_COLUMNS = [
    "_website",
    "_email",
    "_entity_id",
    "city",
    "company",
    "country_id",
    "fax",
    "firstname",
    "lastname",
    "middlename",
    "postcode",
    "prefix",
    "region",
    "region_id",
    "street",
    "suffix",
    "telephone",
    "vat_id",
    "vat_is_valid",
    "vat_request_date",
    "vat_request_id",
    "vat_request_success",
    "_address_default_billing_",
    "_address_default_shipping_",
]


def _seed_export(tmp_path: Path, extra_customers: list[dict], extra_addresses: list[dict]) -> tuple[Path, Path]:
    """Magento's export of the seeds' customers (tests/magento_seeds.json): Jane Doe in the default website
    (seed 000) and in the "us" website (seed 001), with the vectors' hashes."""
    seeds = json.loads((ROOT / "tests" / "magento_seeds.json").read_text())
    customers, addresses = [], []
    for number, (seed, website, store) in enumerate(
        (("000_d13a338900530532", "base", "default"), ("001_d5e1b24c133c1eae", "us", "us"))
    ):
        made = seeds[seed]["create_customer_response"]
        customers.append({
            "email": made["email"], "_website": website, "_store": store, "website_id": made["website_id"],
            "store_id": made["store_id"], "created_in": made.get("created_in", "US Store View"),
            "firstname": made["firstname"], "lastname": made["lastname"], "group_id": made["group_id"],
            "password_hash": ARGON2ID[number]["hash"], "created_at": made.get("created_at", "2020-07-22 23:12:47"),
            "disable_auto_group_change": 0, "gender": "Female", "dob": "1980-01-02 00:00:00",
        })  # fmt: skip
        [address] = made["addresses"]
        addresses.append({
            "_website": website, "_email": made["email"], "_entity_id": address["id"], "city": address["city"],
            "country_id": address["country_id"], "firstname": address["firstname"], "lastname": address["lastname"],
            "postcode": address["postcode"], "region": address["region"]["region"], "region_id": address["region_id"],
            "street": "\n".join(address["street"]), "telephone": address["telephone"],
            "_address_default_billing_": 1, "_address_default_shipping_": 1,
        })  # fmt: skip
    customer_file, address_file = tmp_path / "customers.csv", tmp_path / "addresses.csv"
    customer_file.write_text(_csv(customers + extra_customers, CUSTOMER_COLUMNS), encoding="utf-8")
    address_file.write_text(_csv(addresses + extra_addresses, ADDRESS_COLUMNS), encoding="utf-8")
    return customer_file, address_file


async def test_the_command_line_imports_magento_export_files(
    client: httpx.AsyncClient, tenant: TenantFixture, run_cli, tmp_path: Path
) -> None:
    admin = tenant.admin_headers
    made = await client.post(f"/admin/v1/tenants/{tenant.id}/customer-sets",
                             json={"code": "us_shoppers", "name": "US"}, headers=admin)  # fmt: skip
    assert made.status_code == 201, made.text
    site = await client.post(f"/admin/v1/tenants/{tenant.id}/sites",
                             json={"code": "us", "name": "US Store View", "customerSetCode": "us_shoppers"},
                             headers=admin)  # fmt: skip
    assert site.status_code == 201, site.text
    customers, addresses = _seed_export(tmp_path, [], [])
    command = ["import", "magento", "--tenant-id", str(tenant.id), "--customers", str(customers),
               "--addresses", str(addresses), "--website-map", "us=us_shoppers"]  # fmt: skip

    result = run_cli(*command, "--json")
    assert result.returncode == 0, (result.stdout, result.stderr)
    summary = json.loads(result.stdout)
    assert (summary["source"], counts(summary), summary["orphanAddresses"]) == ("magento", (2, 0, 0, 0), 0)
    assert "[#" not in result.stderr  # no progress bar when stderr is not a terminal

    jane = await kibo_account(client, tenant, "jdoe@example.com")
    assert jane is not None and jane["customerSinceDate"].startswith("2020-07-22T23:12:47")
    [contact] = jane["contacts"]
    assert (contact["address"]["address1"], contact["address"]["stateOrProvince"]) == ("160 1st St.", "New York")
    magento = await client.get(f"/rest/V1/customers/{jane['id']}",
                               headers={"x-vol-tenant": str(tenant.id), **tenant.admin_headers})  # fmt: skip
    shown = magento.json()
    assert (shown["created_in"], shown["group_id"], shown["gender"], shown["dob"]) == (
        "Default Store View", 1, 2, "1980-01-02"
    )  # fmt: skip
    assert shown["default_billing"] == shown["default_shipping"] == str(contact["id"])
    assert (await login(client, tenant, "jdoe@example.com", ARGON2ID[0]["password"])).status_code == 200
    us_token = await client.post(
        "/rest/us/V1/integration/customer/token",
        json={"username": "jdoe@example.com", "password": ARGON2ID[1]["password"]},
        headers={"x-vol-tenant": str(tenant.id)},
    )
    assert us_token.status_code == 200, us_token.text

    broken = {"email": "broken@example.com", "_website": "base", "_store": "default", "dob": "31/12/1980"}
    orphan = {"_website": "base", "_email": "nobody@example.com", "city": "X", "street": "1 Nowhere"}
    customers, addresses = _seed_export(tmp_path, [broken], [orphan])
    result = run_cli(*command)
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "3 lines, 0 created, 0 updated, 2 unchanged, 1 failed" in result.stdout
    assert "line 3: magento.dob" in result.stdout and "1 address rows name no customer" in result.stdout
    assert "rows [3]" in result.stdout


async def test_the_command_line_imports_ndjson_and_fails_when_a_line_did(
    client: httpx.AsyncClient, tenant: TenantFixture, run_cli, tmp_path: Path
) -> None:
    good, bad = email_for("cli"), email_for("cli-bad")
    file = tmp_path / "accounts.ndjson"
    file.write_bytes(ndjson([customer(good, ARGON2ID[0])]))
    dry = run_cli("import", "ndjson", "--tenant-id", str(tenant.id), str(file), "--dry-run", "--json")
    assert dry.returncode == 0, dry.stderr
    assert json.loads(dry.stdout)["dryRun"] is True and await account_count(client, tenant) == 0

    file.write_bytes(ndjson([customer(good, ARGON2ID[0]), customer(bad, magento={"gender": "x"})]))
    result = run_cli("--json", "import", "ndjson", "--tenant-id", str(tenant.id), str(file))
    assert result.returncode == 1, (result.stdout, result.stderr)
    summary = json.loads(result.stdout)
    assert counts(summary) == (1, 0, 0, 1) and summary["createdBy"] == "cli"
    assert [(e["line"], e["field"]) for e in summary["errors"]] == [(2, "magento.gender")]
    assert (await login(client, tenant, good, ARGON2ID[0]["password"])).status_code == 200

    missing = run_cli("import", "ndjson", "--tenant-id", str(tenant.id), str(tmp_path / "missing.ndjson"))
    assert missing.returncode == 1 and "no such file" in missing.stderr
