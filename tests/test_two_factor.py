"""Second factors and account protection over HTTP, with real PostgreSQL, Redis and SMTP."""

from __future__ import annotations

import asyncio
import base64
import re
import time
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from cryptography.exceptions import InvalidTag

from service.platform import keyspace
from service.twofactor.totp import hotp, totp
from tests.conftest import Mailbox, TenantFixture, assert_kibo_error, unique

TICKETS = "/api/commerce/customer/authtickets"
ACCOUNTS = "/api/commerce/customer/accounts"
PASSWORD = "second factor passphrase"


@pytest.mark.parametrize(
    ("at", "expected", "algorithm", "key"),
    [
        (59, "94287082", "sha1", b"12345678901234567890"),
        (1111111109, "07081804", "sha1", b"12345678901234567890"),
        (1234567890, "89005924", "sha1", b"12345678901234567890"),
        (20000000000, "65353130", "sha1", b"12345678901234567890"),
        (59, "46119246", "sha256", b"12345678901234567890123456789012"),
        (1111111109, "68084774", "sha256", b"12345678901234567890123456789012"),
        (59, "90693936", "sha512", b"1234567890123456789012345678901234567890123456789012345678901234"),
    ],
)
def test_totp_matches_rfc_6238_vectors(at: int, expected: str, algorithm: str, key: bytes) -> None:
    assert totp(key, at, digits=8, algorithm=algorithm) == expected


def test_hotp_matches_rfc_4226_vectors() -> None:
    expected = ["755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871", "520489"]
    assert [hotp(b"12345678901234567890", i) for i in range(10)] == expected


async def settings(client: httpx.AsyncClient, tenant: TenantFixture, **changes: object) -> None:
    current = (await client.get(f"/admin/v1/tenants/{tenant.id}/settings", headers=tenant.admin_headers)).json()
    for key, value in changes.items():
        current[key] = {**current[key], **value} if isinstance(value, dict) else value
    response = await client.put(f"/admin/v1/tenants/{tenant.id}/settings", json=current, headers=tenant.admin_headers)
    assert response.status_code == 200, response.text


async def signup(client: httpx.AsyncClient, tenant: TenantFixture) -> dict:
    email = f"{unique('tf')}@example.com"
    response = await client.post(
        f"{ACCOUNTS}/Bulk",
        json=[{"account": {"emailAddress": email, "firstName": "Tess"}, "password": PASSWORD}],
        headers=tenant.app_headers,
    )
    assert response.status_code == 201, response.text
    return response.json()["items"][0]


async def login(
    client: httpx.AsyncClient, tenant: TenantFixture, email: str, password: str = PASSWORD, **extra: object
) -> httpx.Response:
    return await client.post(
        TICKETS, json={"username": email, "password": password, **extra}, headers=tenant.app_headers
    )


def mailed_code(mailbox: Mailbox, to: str, after: int) -> str:
    message = mailbox.wait_for(to, after=after)
    return re.search(r"^ {4}(\S+)", message.get_content(), re.MULTILINE).group(1)


async def test_two_step_login_with_an_emailed_code(
    client: httpx.AsyncClient, tenant: TenantFixture, mailbox: Mailbox
) -> None:
    await settings(client, tenant, twoFactor={"mode": "always"})
    account = await signup(client, tenant)
    email = account["emailAddress"]
    first = (await login(client, tenant, email)).json()
    assert first["requires2FA"] is True and first["userId"] == account["userId"]
    assert (
        first["accessToken"].startswith("gh_pl_") and first["refreshToken"] is None and first["jwtAccessToken"] is None
    )
    assert first["customerAccount"] is None
    pending = {"Authorization": f"Bearer {first['accessToken']}"}

    # The pending token opens nothing but the second step, and is never ignored beside an app token either.
    assert_kibo_error(await client.get(f"{ACCOUNTS}/current", headers=pending), 401, "INVALID_USER_TOKEN")
    assert_kibo_error(await client.get(ACCOUNTS, headers=pending), 401, "INVALID_USER_TOKEN")
    assert_kibo_error(await client.get(f"{TICKETS}/sessions", headers=pending), 401, "INVALID_USER_TOKEN")
    as_claims = {**tenant.app_headers, "x-vol-user-claims": first["accessToken"]}
    change = {"oldPassword": PASSWORD, "newPassword": "Another-pass-9"}
    assert_kibo_error(
        await client.post(f"{ACCOUNTS}/{account['id']}/Change-Password", json=change, headers=as_claims),
        401,
        "INVALID_USER_TOKEN",
    )
    basic = base64.b64encode(f"{tenant.client_id}:{tenant.client_secret}".encode()).decode()
    inactive = await client.post(
        f"/tenants/{tenant.id}/oauth2/introspect",
        data={"token": first["accessToken"]},
        headers={"Authorization": f"Basic {basic}"},
    )
    assert inactive.json() == {"active": False}
    # Nobody gets codes sent without the password step.
    assert_kibo_error(
        await client.post(f"{TICKETS}/2fa/request", headers=tenant.app_headers), 401, "MISSING_PENDING_LOGIN"
    )

    before = len(mailbox.messages)
    assert (await client.post(f"{TICKETS}/2fa/request", headers=pending)).status_code == 204
    code = mailed_code(mailbox, email, before)
    assert re.fullmatch(r"\d{6}", code)
    wrong = "000000" if code != "000000" else "111111"
    assert_kibo_error(
        await client.post(f"{TICKETS}/2fa/auth", json={"userId": first["userId"], "otpCode": wrong}, headers=pending),
        401,
        "INVALID_2FA_CODE",
    )
    ticket = await client.post(
        f"{TICKETS}/2fa/auth", json={"userId": first["userId"], "otpCode": code}, headers=pending
    )
    assert ticket.status_code == 200, ticket.text
    full = ticket.json()
    assert full["requires2FA"] is False and full["refreshToken"] and full["jwtAccessToken"]
    import jwt as pyjwt

    assert set(pyjwt.decode(full["jwtAccessToken"], options={"verify_signature": False})["amr"]) == {
        "pwd",
        "otp",
        "mfa",
    }
    # The code and the pending login are spent.
    replay = await client.post(
        f"{TICKETS}/2fa/auth", json={"userId": first["userId"], "otpCode": code}, headers=pending
    )
    assert_kibo_error(replay, 401)
    current = (
        await client.get(f"{ACCOUNTS}/current", headers={"Authorization": f"Bearer {full['accessToken']}"})
    ).json()
    assert current["last2FaDate"]


async def test_three_wrong_codes_end_the_challenge(
    client: httpx.AsyncClient, tenant: TenantFixture, mailbox: Mailbox
) -> None:
    await settings(client, tenant, twoFactor={"mode": "always"})
    account = await signup(client, tenant)
    first = (await login(client, tenant, account["emailAddress"])).json()
    before = len(mailbox.messages)
    await client.post(
        f"{TICKETS}/2fa/request", headers={"x-vol-user-claims": first["accessToken"], **tenant.app_headers}
    )
    code = mailed_code(mailbox, account["emailAddress"], before)
    wrong = [c for c in ("123456", "654321", "111111", "222222") if c != code][:3]
    # Parallel guesses cannot get more than three tries between them.
    guesses = await asyncio.gather(
        *(
            client.post(
                f"{TICKETS}/2fa/auth", json={"userId": first["userId"], "otpCode": w}, headers=tenant.app_headers
            )
            for w in wrong
        )
    )
    assert all(g.status_code == 401 for g in guesses)
    late = await client.post(
        f"{TICKETS}/2fa/auth", json={"userId": first["userId"], "otpCode": code}, headers=tenant.app_headers
    )
    assert_kibo_error(late, 401, "INVALID_2FA_CODE")
    events = (
        await client.get(
            f"/admin/v1/tenants/{tenant.id}/accounts/{account['id']}/audit-events", headers=tenant.admin_headers
        )
    ).json()
    assert {"2fa.challenged", "2fa.failed"} <= {e["action"] for e in events}


async def test_new_device_trigger_and_trusted_devices(
    client: httpx.AsyncClient, tenant: TenantFixture, mailbox: Mailbox
) -> None:
    await settings(client, tenant, twoFactor={"mode": "newDevice", "trustedDeviceDays": 30})
    account = await signup(client, tenant)
    email = account["emailAddress"]

    async def second_step(response: httpx.Response) -> dict:
        pending = response.json()
        assert pending["requires2FA"] is True
        headers = {"Authorization": f"Bearer {pending['accessToken']}"}
        before = len(mailbox.messages)
        await client.post(f"{TICKETS}/2fa/request", headers=headers)
        code = mailed_code(mailbox, email, before)
        return (
            await client.post(
                f"{TICKETS}/2fa/auth", json={"userId": pending["userId"], "otpCode": code}, headers=headers
            )
        ).json()

    full = await second_step(await login(client, tenant, email, fingerprint="laptop-1", region="EU"))
    again = (await login(client, tenant, email, fingerprint="laptop-1", region="EU")).json()
    assert again["requires2FA"] is False and again["refreshToken"]
    assert (await login(client, tenant, email, fingerprint="phone-2")).json()["requires2FA"] is True
    me = {"Authorization": f"Bearer {full['accessToken']}"}
    devices = (await client.get(f"{ACCOUNTS}/current/trusted-devices", headers=me)).json()
    assert len(devices) == 1 and devices[0]["region"] == "EU"
    assert (
        await client.delete(f"{ACCOUNTS}/current/trusted-devices/{devices[0]['id']}", headers=me)
    ).status_code == 204
    assert (await login(client, tenant, email, fingerprint="laptop-1")).json()["requires2FA"] is True


async def test_region_change_trigger(client: httpx.AsyncClient, tenant: TenantFixture) -> None:
    await settings(client, tenant, twoFactor={"mode": "newRegion"})
    account = await signup(client, tenant)
    assert (await login(client, tenant, account["emailAddress"], region="EU")).json()["requires2FA"] is False
    assert (await login(client, tenant, account["emailAddress"], region="EU")).json()["requires2FA"] is False
    assert (await login(client, tenant, account["emailAddress"], region="US")).json()["requires2FA"] is True


async def test_authenticator_app_and_recovery_codes(client: httpx.AsyncClient, tenant: TenantFixture) -> None:
    account = await signup(client, tenant)
    email = account["emailAddress"]
    session = (await login(client, tenant, email)).json()
    me = {"Authorization": f"Bearer {session['accessToken']}"}
    enrolment = await client.post(f"{ACCOUNTS}/current/authenticator", headers=me)
    assert enrolment.status_code == 201, enrolment.text
    body = enrolment.json()
    secret = body["secret"]
    assert len(base64.b32decode(secret + "=" * (-len(secret) % 8))) >= 20  # at least 160 bits
    uri = urlsplit(body["otpauthUri"])
    assert uri.scheme == "otpauth" and uri.netloc == "totp" and parse_qs(uri.query)["secret"] == [secret]
    assert body["qrCodePng"].startswith("data:image/png;base64,")
    assert base64.b64decode(body["qrCodePng"].split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"

    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    assert_kibo_error(
        await client.post(
            f"{ACCOUNTS}/current/authenticator/confirm",
            json={"code": "000000" if totp(key, time.time()) != "000000" else "111111"},
            headers=me,
        ),
        401,
    )
    now = time.time()
    confirmed = await client.post(
        f"{ACCOUNTS}/current/authenticator/confirm", json={"code": totp(key, now - 30)}, headers=me
    )
    assert confirmed.status_code == 200, confirmed.text
    recovery = confirmed.json()["recoveryCodes"]
    assert len(recovery) == 10 and len(set(recovery)) == 10

    # Mode is "off", but an enrolled app always asks for the second factor.
    pending = (await login(client, tenant, email)).json()
    assert pending["requires2FA"] is True
    headers = {"Authorization": f"Bearer {pending['accessToken']}"}
    # The code of the step used to confirm is spent; the current one works once.
    assert_kibo_error(
        await client.post(f"{TICKETS}/2fa/auth", json={"otpCode": totp(key, now - 30)}, headers=headers), 401
    )
    ok = await client.post(f"{TICKETS}/2fa/auth", json={"otpCode": totp(key, now)}, headers=headers)
    assert ok.status_code == 200, ok.text
    pending = (await login(client, tenant, email)).json()
    headers = {"Authorization": f"Bearer {pending['accessToken']}"}
    assert_kibo_error(await client.post(f"{TICKETS}/2fa/auth", json={"otpCode": totp(key, now)}, headers=headers), 401)
    assert (await client.post(f"{TICKETS}/2fa/auth", json={"otpCode": recovery[0]}, headers=headers)).status_code == 200
    pending = (await login(client, tenant, email)).json()
    headers = {"Authorization": f"Bearer {pending['accessToken']}"}
    assert_kibo_error(await client.post(f"{TICKETS}/2fa/auth", json={"otpCode": recovery[0]}, headers=headers), 401)

    me = {"Authorization": f"Bearer {ok.json()['accessToken']}"}
    assert_kibo_error(
        await client.post(f"{ACCOUNTS}/current/recovery-codes", json={"password": "nope"}, headers=me),
        400,
        "INVALID_PASSWORD",
    )
    fresh = (await client.post(f"{ACCOUNTS}/current/recovery-codes", json={"password": PASSWORD}, headers=me)).json()[
        "recoveryCodes"
    ]
    assert set(fresh).isdisjoint(recovery)
    assert_kibo_error(
        await client.post(f"{ACCOUNTS}/current/authenticator/disable", json={"password": "nope"}, headers=me), 400
    )
    assert (
        await client.post(f"{ACCOUNTS}/current/authenticator/disable", json={"password": PASSWORD}, headers=me)
    ).status_code == 204
    assert (await login(client, tenant, email)).json()["requires2FA"] is False
    actions = {
        e["action"]
        for e in (
            await client.get(
                f"/admin/v1/tenants/{tenant.id}/accounts/{account['id']}/audit-events", headers=tenant.admin_headers
            )
        ).json()
    }
    assert {"2fa.enrolled", "2fa.succeeded", "2fa.disabled", "2fa.recovery_codes_regenerated"} <= actions


async def test_passwordless_email_code_login(
    client: httpx.AsyncClient, tenant: TenantFixture, mailbox: Mailbox
) -> None:
    account = await signup(client, tenant)
    email = account["emailAddress"]
    before = len(mailbox.messages)
    known = await client.post(f"{TICKETS}/otp/request", json={"email": email}, headers=tenant.app_headers)
    unknown = await client.post(
        f"{TICKETS}/otp/request", json={"email": f"{unique('nobody')}@example.com"}, headers=tenant.app_headers
    )
    assert known.status_code == unknown.status_code == 204 and known.content == unknown.content
    code = mailed_code(mailbox, email, before)
    wrong = "000000" if code != "000000" else "111111"
    assert_kibo_error(
        await client.post(f"{TICKETS}/otp/auth", json={"email": email, "otpCode": wrong}, headers=tenant.app_headers),
        401,
    )
    ticket = await client.post(
        f"{TICKETS}/otp/auth",
        json={"email": email.upper(), "otpCode": code, "fingerprint": "f", "region": "EU"},
        headers=tenant.app_headers,
    )
    assert ticket.status_code == 200, ticket.text
    assert ticket.json()["customerAccount"]["id"] == account["id"]
    assert_kibo_error(
        await client.post(f"{TICKETS}/otp/auth", json={"email": email, "otpCode": code}, headers=tenant.app_headers),
        401,
    )


async def test_lockout_cannot_be_raced_and_reveals_nothing(client: httpx.AsyncClient, tenant: TenantFixture) -> None:
    await settings(client, tenant, lockout={"maxFailures": 3, "windowMinutes": 15, "lockMinutes": 15})
    account = await signup(client, tenant)
    email = account["emailAddress"]
    wrong = await asyncio.gather(*(login(client, tenant, email, "wrong password!") for _ in range(10)))
    assert all(r.status_code == 401 for r in wrong)
    events = (
        await client.get(
            f"/admin/v1/tenants/{tenant.id}/accounts/{account['id']}/audit-events", headers=tenant.admin_headers
        )
    ).json()
    reasons = [e["details"]["reason"] for e in events if e["action"] == "login.failed"]
    assert (
        reasons.count("wrong_password") == 3 and reasons.count("locked") == 7
    )  # only three passwords were ever checked
    assert "login.locked_out" in {e["action"] for e in events}

    locked = await login(client, tenant, email)
    unknown = await login(client, tenant, f"{unique('ghost')}@example.com")

    def strip(r):
        return {k: v for k, v in r.json().items() if k != "additionalErrorData"}

    assert locked.status_code == unknown.status_code == 401 and strip(locked) == strip(unknown)

    state = (await client.get(f"{ACCOUNTS}/{account['id']}/loginstate", headers=tenant.app_headers)).json()
    assert state["isLocked"] is True and state["remainingLoginAttempts"] == 0 and state["lastLockedOn"]
    # Until it is unlocked or the lock expires, the login state shows the failures that locked it.
    assert state["failedLoginAttemptCount"] == 3 and state["firstFailedLoginAttemptOn"], state
    assert (
        await client.post(f"{ACCOUNTS}/{account['id']}/Set-Login-Locked", json=False, headers=tenant.app_headers)
    ).status_code == 204
    assert (await login(client, tenant, email)).status_code == 200
    await login(client, tenant, email, "wrong again!!")
    state = (await client.get(f"{ACCOUNTS}/{account['id']}/loginstate", headers=tenant.app_headers)).json()
    assert (
        state["failedLoginAttemptCount"] == 1
        and state["remainingLoginAttempts"] == 2
        and state["firstFailedLoginAttemptOn"]
    )


@pytest.mark.parametrize("two_factor", ["off", "always"])
async def test_a_right_password_clears_the_failures_before_it(
    client: httpx.AsyncClient, tenant: TenantFixture, two_factor: str
) -> None:
    """The count a lockout keeps starts again at a login whose password was right, whether that login opened its
    session at once or waits for its second factor: two failures, a success and two more never lock at three."""
    await settings(client, tenant, lockout={"maxFailures": 3}, twoFactor={"mode": two_factor})
    account = await signup(client, tenant)
    email = account["emailAddress"]
    for _ in range(2):
        assert (await login(client, tenant, email, "wrong password!")).status_code == 401
    right = await login(client, tenant, email)
    assert right.status_code == 200 and right.json()["requires2FA"] is (two_factor == "always")
    state = (await client.get(f"{ACCOUNTS}/{account['id']}/loginstate", headers=tenant.app_headers)).json()
    assert state["failedLoginAttemptCount"] == 0 and state["remainingLoginAttempts"] == 3, state
    for _ in range(2):
        assert (await login(client, tenant, email, "wrong password!")).status_code == 401
    assert (await login(client, tenant, email)).status_code == 200
    state = (await client.get(f"{ACCOUNTS}/{account['id']}/loginstate", headers=tenant.app_headers)).json()
    assert state["isLocked"] is False, state


async def test_password_reset_lifts_a_lockout(
    client: httpx.AsyncClient, tenant: TenantFixture, mailbox: Mailbox
) -> None:
    await settings(client, tenant, lockout={"maxFailures": 2})
    account = await signup(client, tenant)
    email = account["emailAddress"]
    for _ in range(2):
        await login(client, tenant, email, "wrong password!")
    assert (await login(client, tenant, email)).status_code == 401
    before = len(mailbox.messages)
    await client.post(f"{ACCOUNTS}/Reset-Password", json={"emailAddress": email}, headers=tenant.app_headers)
    code = mailed_code(mailbox, email, before)
    reset = await client.post(
        f"{ACCOUNTS}/Update-Forgotten-Password",
        json={"userName": email, "confirmationCode": code, "newPassword": "brand new passphrase"},
        headers=tenant.app_headers,
    )
    assert reset.status_code == 204
    assert (await login(client, tenant, email, "brand new passphrase")).status_code == 200


async def test_address_throttle(client: httpx.AsyncClient, tenant: TenantFixture, other_tenant: TenantFixture) -> None:
    await settings(client, tenant, throttle={"maxFailuresPerAddress": 5, "windowMinutes": 5})
    for _ in range(5):
        assert (await login(client, tenant, f"{unique('x')}@example.com")).status_code == 401
    # A forged X-Forwarded-For does not buy a fresh address: no proxy is trusted.
    throttled = await client.post(
        TICKETS,
        json={"username": "a@example.com", "password": "b"},
        headers={**tenant.app_headers, "X-Forwarded-For": "203.0.113.9"},
    )
    body = assert_kibo_error(throttled, 429, "RATE_LIMITED")
    assert int(throttled.headers["Retry-After"]) > 0 and body["message"]
    assert (await login(client, other_tenant, f"{unique('x')}@example.com")).status_code == 401  # per tenant


async def test_lockout_ends_by_itself(client: httpx.AsyncClient, tenant: TenantFixture, servers) -> None:
    from redis.asyncio import Redis

    await settings(client, tenant, lockout={"maxFailures": 1, "lockMinutes": 1})
    account = await signup(client, tenant)
    await login(client, tenant, account["emailAddress"], "wrong password!")
    assert (await login(client, tenant, account["emailAddress"])).status_code == 401
    # Wind the clock: the lock is a Redis key that expires; shorten what is left of it.
    redis = Redis.from_url(servers.redis_url)
    try:
        assert await redis.pexpire(keyspace.account_attempt_keys(tenant.id, account["id"]).lock, 50)
    finally:
        await redis.aclose()
    await asyncio.sleep(0.2)
    assert (await login(client, tenant, account["emailAddress"])).status_code == 200


async def test_forwarded_addresses_count_only_behind_trusted_proxies(servers, tmp_path, platform_admin) -> None:
    from tests.conftest import admin_token, bearer, make_tenant, start_service, stop_service

    service = start_service(servers, tmp_path / "service.log", GATEHOUSE_TRUSTED_PROXIES="127.0.0.1/32")
    try:
        async with httpx.AsyncClient(base_url=service.base_url, timeout=30) as client:
            tenant = await make_tenant(client, bearer(await admin_token(client, *platform_admin)))
            await settings(client, tenant, throttle={"maxFailuresPerAddress": 2})

            async def attempt(address: str) -> int:
                response = await client.post(
                    TICKETS,
                    json={"username": f"{unique('n')}@example.com", "password": "x"},
                    headers={**tenant.app_headers, "X-Forwarded-For": f"198.51.100.7, {address}"},
                )
                return response.status_code

            assert [await attempt("203.0.113.1") for _ in range(3)] == [401, 401, 429]
            assert await attempt("203.0.113.2") == 401  # another client behind the same proxy
    finally:
        stop_service(service)


async def test_authenticator_seeds_are_sealed_at_rest(
    client: httpx.AsyncClient, tenant: TenantFixture, servers
) -> None:
    import asyncpg

    from service.platform.crypto import SecretBox, parse_secrets_key
    from tests.conftest import SECRETS_KEY

    account = await signup(client, tenant)
    session = (await login(client, tenant, account["emailAddress"])).json()
    enrolment = (
        await client.post(
            f"{ACCOUNTS}/current/authenticator", headers={"Authorization": f"Bearer {session['accessToken']}"}
        )
    ).json()
    conn = await asyncpg.connect(servers.database_url)
    try:
        stored = await conn.fetchval("SELECT secret FROM customer_authenticators WHERE account_id = $1", account["id"])
    finally:
        await conn.close()
    assert stored.startswith(SecretBox.PREFIX) and enrolment["secret"] not in stored
    box = SecretBox(parse_secrets_key(SECRETS_KEY))
    assert box.open(stored, f"totp:{tenant.id}:{account['id']}") == enrolment["secret"]
    # Bound to its row: the same value does not open as another account's seed.
    with pytest.raises(InvalidTag):
        box.open(stored, f"totp:{tenant.id}:{account['id'] + 1}")
