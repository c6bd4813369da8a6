"""Customers imported with the password hashes of their old shop log in with their passwords, through Kibo's
login and Magento's customer token; the first login replaces the hash with the tenant's Argon2id.

Until the import API (issue 13, point 4) exists, `import_account` makes an account through the Kibo API and
then sets its stored hash in the database to what `stored_form` makes of the imported hash; the import API
will replace that helper.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import asyncpg
import httpx
import pytest
from argon2 import PasswordHasher

from service.accounts.password_policy import normalize_password
from service.errors import ErrorCode, InvalidInput
from service.imports.hash_formats import HASH_FORMATS, stored_form
from service.platform.passwords import Argon2Parameters, argon2_hasher
from tests.conftest import Servers, ServiceProcess, admin_token, assert_kibo_error, bearer, unique
from tests.hash_vectors import Vector, all_vectors, shared_vectors
from tests.magento_support import MagentoTenant, make_magento_tenant

TICKETS = "/api/commerce/customer/authtickets"
ACCOUNTS = "/api/commerce/customer/accounts"
TENANT_ARGON2ID = "$argon2id$v=19$m=19456,t=2,p=1$"  # the tenant's default parameters
VECTORS = all_vectors()


@dataclass(frozen=True)
class Imported:
    email: str
    account_id: int


@pytest.fixture(scope="module")
async def shop(service: ServiceProcess, platform_admin: tuple[str, str]) -> AsyncIterator[MagentoTenant]:
    """One Magento-like tenant for the module; every failed login in it comes from this one address."""
    async with httpx.AsyncClient(base_url=service.base_url, timeout=30) as http:
        headers = bearer(await admin_token(http, *platform_admin))
        yield await make_magento_tenant(http, headers, settings={"throttle": {"maxFailuresPerAddress": 100_000}})


async def import_account(
    client: httpx.AsyncClient, shop: MagentoTenant, servers: Servers, vector: Vector, hash_format: str | None = None
) -> Imported:
    email = f"{unique('imported')}@example.com"
    created = await client.post(
        f"{ACCOUNTS}/Add-Account-And-Login",
        # Any password the tenant's policy takes (three character classes): the imported hash replaces it.
        json={"account": {"emailAddress": email}, "password": "Aa1-" + secrets.token_urlsafe(16)},
        headers=shop.tenant.app_headers,
    )
    assert created.status_code == 200, created.text
    imported = Imported(email, created.json()["customerAccount"]["id"])
    await set_stored_hash(servers, imported, stored_form(vector.hash, hash_format or vector.format))
    return imported


async def set_stored_hash(servers: Servers, account: Imported, value: str) -> None:
    conn = await asyncpg.connect(servers.database_url)
    try:
        await conn.execute(
            "UPDATE customer_logins SET password_hash = $2 WHERE account_id = $1", account.account_id, value
        )
    finally:
        await conn.close()


async def stored_hash(servers: Servers, account: Imported) -> str:
    conn = await asyncpg.connect(servers.database_url)
    try:
        query = "SELECT password_hash FROM customer_logins WHERE account_id = $1"
        return await conn.fetchval(query, account.account_id)
    finally:
        await conn.close()


async def kibo_login(client: httpx.AsyncClient, shop: MagentoTenant, email: str, password: str) -> httpx.Response:
    return await client.post(TICKETS, json={"username": email, "password": password}, headers=shop.tenant.app_headers)


async def magento_token(client: httpx.AsyncClient, shop: MagentoTenant, email: str, password: str) -> httpx.Response:
    return await shop.call(
        client, "POST", "/rest/V1/integration/customer/token", json={"username": email, "password": password}
    )


def kibo_failure(response: httpx.Response) -> dict:
    body = assert_kibo_error(response, 401, "INVALID_CREDENTIALS")
    body.pop("additionalErrorData")  # it carries the request's own correlation id
    return body


def vector(label: str) -> Vector:
    return next(v for v in VECTORS if v.label.startswith(label))


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: v.label)
async def test_an_imported_hash_logs_in_through_kibo_and_magento_and_becomes_argon2id(
    client: httpx.AsyncClient, shop: MagentoTenant, servers: Servers, vector: Vector
) -> None:
    wrong_password = "!" + vector.password  # a prefix: bcrypt reads only 72 bytes
    account = await import_account(client, shop, servers, vector)
    unknown = await kibo_login(client, shop, f"{unique('ghost')}@example.com", vector.password)
    wrong = await kibo_login(client, shop, account.email, wrong_password)
    assert kibo_failure(wrong) == kibo_failure(unknown)
    assert not (await stored_hash(servers, account)).startswith(TENANT_ARGON2ID)

    assert (await kibo_login(client, shop, account.email, vector.password)).status_code == 200
    upgraded = await stored_hash(servers, account)
    assert upgraded.startswith(TENANT_ARGON2ID)
    assert (await kibo_login(client, shop, account.email, vector.password)).status_code == 200
    assert await stored_hash(servers, account) == upgraded

    # The same hash recognised by its shape, through Magento's route.
    account = await import_account(client, shop, servers, vector, "auto")
    unknown = await magento_token(client, shop, f"{unique('ghost')}@example.com", vector.password)
    wrong = await magento_token(client, shop, account.email, wrong_password)
    assert unknown.status_code == wrong.status_code == 401 and wrong.json() == unknown.json()
    token = await magento_token(client, shop, account.email, vector.password)
    assert token.status_code == 200 and isinstance(token.json(), str), token.text
    assert (await stored_hash(servers, account)).startswith(TENANT_ARGON2ID)


async def test_weak_hashes_are_stored_only_inside_argon2id() -> None:
    """md5, sha256 and phpass never reach the database as they are: a leak shows Argon2id, with the salt beside it."""
    phpass = [v for v in VECTORS if v.hash.startswith(("$P$", "$H$"))]
    digests = [v for v in VECTORS if v.format == "magento1" or v.hash.endswith((":0", ":1"))]  # md5 and sha256 only
    weak = phpass + digests
    assert len(phpass) == 3 and len(digests) == 8
    for item in weak:
        stored = stored_form(item.hash, item.format)
        digest = item.hash[12:] if item in phpass else item.hash.split(":")[0]  # phpass: after $P$, rounds, salt
        assert stored.startswith("$gh-wrapped$") and "$argon2id$v=19$m=19456,t=2,p=1$" in stored, item.label
        assert digest not in stored, item.label
    for item in (v for v in VECTORS if v not in weak):
        assert stored_form(item.hash, item.format) == item.hash, item.label  # strong: kept as the shop made it


async def test_parallel_first_logins_both_succeed_and_leave_one_argon2id_hash(
    client: httpx.AsyncClient, shop: MagentoTenant, servers: Servers
) -> None:
    chain = vector("magento2 1:2")  # sha256 then libsodium's Argon2id13: slow enough for the two to overlap
    account = await import_account(client, shop, servers, chain)
    kibo, magento = await asyncio.gather(
        kibo_login(client, shop, account.email, chain.password),
        magento_token(client, shop, account.email, chain.password),
    )
    assert kibo.status_code == 200 and magento.status_code == 200, (kibo.text, magento.text)
    upgraded = await stored_hash(servers, account)
    assert upgraded.startswith(TENANT_ARGON2ID)
    assert PasswordHasher().verify(upgraded, normalize_password(chain.password))
    assert (await kibo_login(client, shop, account.email, chain.password)).status_code == 200
    assert await stored_hash(servers, account) == upgraded


async def test_an_upgrade_never_undoes_a_password_set_while_the_login_was_checking(
    client: httpx.AsyncClient, shop: MagentoTenant, servers: Servers
) -> None:
    """The login's upgrade waits on a row lock held here; the password is changed before it may go on."""
    item = vector("magento2 1 #1")
    account = await import_account(client, shop, servers, item)
    set_meanwhile = argon2_hasher(Argon2Parameters()).hash("a password set meanwhile")
    conn = await asyncpg.connect(servers.database_url)
    try:
        async with conn.transaction():
            await conn.execute("SELECT 1 FROM customer_logins WHERE account_id = $1 FOR UPDATE", account.account_id)
            login = asyncio.create_task(kibo_login(client, shop, account.email, item.password))
            await _wait_for_a_blocked_upgrade(conn)
            await conn.execute(
                "UPDATE customer_logins SET password_hash = $2 WHERE account_id = $1", account.account_id, set_meanwhile
            )
        assert (await login).status_code == 200  # its password was right when it was checked
    finally:
        await conn.close()
    assert await stored_hash(servers, account) == set_meanwhile
    assert (await kibo_login(client, shop, account.email, "a password set meanwhile")).status_code == 200
    assert_kibo_error(await kibo_login(client, shop, account.email, item.password), 401, "INVALID_CREDENTIALS")


async def _wait_for_a_blocked_upgrade(conn: asyncpg.Connection) -> None:
    deadline = time.monotonic() + 8  # the service's statement timeout is 10 s
    while time.monotonic() < deadline:
        await conn.execute("SELECT pg_stat_clear_snapshot()")  # a transaction otherwise sees its first snapshot
        waiting = await conn.fetchval(
            """SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'
                   AND query LIKE 'UPDATE customer_logins SET password_hash%'"""
        )
        if waiting:
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the login never tried to replace the imported hash")


async def test_an_imported_password_is_not_held_to_the_policy_but_the_next_one_is(
    client: httpx.AsyncClient, shop: MagentoTenant, servers: Servers
) -> None:
    short = next(v for v in shared_vectors() if v.password == "x")  # the old shop took "x"; this tenant wants 8+
    account = await import_account(client, shop, servers, short)
    url, headers = f"{ACCOUNTS}/{account.account_id}/Change-Password", shop.tenant.app_headers
    wrong = await client.post(url, json={"oldPassword": "y", "newPassword": "A new pass 1"}, headers=headers)
    assert_kibo_error(wrong, 400, "INVALID_OLD_PASSWORD")
    # The imported hash takes the old password as current (no login yet), and the new one must pass the policy.
    too_short = await client.post(url, json={"oldPassword": "x", "newPassword": "y"}, headers=headers)
    assert_kibo_error(too_short, 400, "PASSWORD_POLICY")
    assert (await kibo_login(client, shop, account.email, "x")).status_code == 200
    assert (await kibo_login(client, shop, account.email, "x")).status_code == 200  # and after its upgrade
    changed = await client.post(url, json={"oldPassword": "x", "newPassword": "A new pass 1"}, headers=headers)
    assert changed.status_code == 204, changed.text
    assert (await kibo_login(client, shop, account.email, "A new pass 1")).status_code == 200


async def test_a_slow_imported_hash_does_not_hold_up_other_requests(
    client: httpx.AsyncClient, shop: MagentoTenant, servers: Servers
) -> None:
    """Legacy hashes are checked on the hashing threads, as Argon2 is: the event loop keeps answering."""
    slow = stored_form("pbkdf2_sha256$2000000$salt$" + "A" * 43 + "=", "pbkdf2")  # about half a second to check
    account = await import_account(client, shop, servers, vector("bcrypt $2b$"))
    await set_stored_hash(servers, account, slow)
    started = time.perf_counter()
    login = asyncio.create_task(kibo_login(client, shop, account.email, "whatever it is"))
    await asyncio.sleep(0.05)
    probe = time.perf_counter()
    assert (await client.get("/health/live")).status_code == 200
    answered = time.perf_counter() - probe
    assert_kibo_error(await login, 401, "INVALID_CREDENTIALS")
    assert answered < (time.perf_counter() - started) / 4, answered


@pytest.mark.parametrize(
    ("value", "declared", "field"),
    [
        ("not a hash at all", "auto", "passwordHash"),
        ("$2y$10$iqg.KBczmTZNJfDShLBSH.i4mxD/FYNAeWtHOVarynUdB9g7wLmhO", "magento1", "passwordHash"),
        ("$2y$15$iqg.KBczmTZNJfDShLBSH.i4mxD/FYNAeWtHOVarynUdB9g7wLmhO", "bcrypt", "passwordHash"),
        ("$argon2id$v=19$m=1048576,t=4,p=1$WGk5SUFqZ2pscGVKOEY4cA$OsGoLUbWrqwsxBNpb0JkzABtBBTmpfpIYy6yrZTgcoc",
         "argon2", "passwordHash"),
        ("$argon2d$v=19$m=65536,t=4,p=1$WGk5SUFqZ2pscGVKOEY4cA$OsGoLUbWrqwsxBNpb0JkzABtBBTmpfpIYy6yrZTgcoc", "auto",
         "passwordHash"),
        ("pbkdf2_sha256$9000000$f816e10b7e26$Fj1xEDXyfkiD4Dai+O9S4fOU5FQwN8cWdst+vfAnvx8=", "pbkdf2", "passwordHash"),
        ("aa2a0b307ef47d19f096df40a71bb5433010f9ff6bc85b5bc7a98b1c4ddb5075:bxrc:3_32_4_1073741824", "magento2",
         "passwordHash"),
        ("aa2a0b307ef47d19f096df40a71bb543:bxrc:7", "magento2", "passwordHash"),
        ("aa2a0b307ef47d19f096df40a71bb543:bxrc:1", "magento2", "passwordHash"),  # sha256's digest is 64 digits
        ("$P$SIQRaTwmfeRo7ud9Fh4E2PdI0S3r.L0", "phpass", "passwordHash"),  # 2^30 rounds
        ("$P$9IQRaTwmfeRo7ud9Fh4E2PdI0S3r.L0", "md5", "passwordHashFormat"),
    ],
)  # fmt: skip
def test_a_hash_that_cannot_be_imported_is_refused_without_being_quoted(value: str, declared: str, field: str) -> None:
    """`stored_form` is what the import API calls for every line; its error must be safe to show in a report."""
    with pytest.raises(InvalidInput) as refused:
        stored_form(value, declared)
    error = refused.value
    assert error.code == ErrorCode.UNSUPPORTED_HASH_FORMAT and [e.field for e in error.field_errors] == [field]
    for text in (error.message, *(e.message for e in error.field_errors)):
        assert value not in text and value[:20] not in text and value[-20:] not in text, text
    assert "md5" not in HASH_FORMATS
