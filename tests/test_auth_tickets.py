"""Customer auth tickets over HTTP: login, refresh rotation, sessions, JWTs, introspection, revocation."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import re
import secrets
import time

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from service.platform.crypto import SecretBox, parse_secrets_key
from tests.conftest import SECRETS_KEY, TenantFixture, assert_kibo_error, assert_problem, make_tenant, unique

TICKETS = "/api/commerce/customer/authtickets"
ACCOUNTS = "/api/commerce/customer/accounts"
PASSWORD = "a perfectly good passphrase"


async def signup(client: httpx.AsyncClient, tenant: TenantFixture, **extra: object) -> dict:
    email = f"{unique('cust')}@example.com"
    response = await client.post(
        f"{ACCOUNTS}/Add-Account-And-Login",
        json={"account": {"emailAddress": email, "firstName": "Cy"}, "password": PASSWORD, **extra},
        headers=tenant.app_headers,
    )
    assert response.status_code == 200, response.text
    return response.json()


async def login(
    client: httpx.AsyncClient, tenant: TenantFixture, username: str, password: str = PASSWORD, **extra: object
) -> httpx.Response:
    return await client.post(
        TICKETS, json={"username": username, "password": password, **extra}, headers=tenant.app_headers
    )


def introspector(tenant: TenantFixture) -> dict[str, str]:
    basic = base64.b64encode(f"{tenant.client_id}:{tenant.client_secret}".encode()).decode()
    return {"Authorization": f"Basic {basic}"}


async def introspect(client: httpx.AsyncClient, tenant: TenantFixture, token: str) -> dict:
    response = await client.post(
        f"/tenants/{tenant.id}/oauth2/introspect", data={"token": token}, headers=introspector(tenant)
    )
    assert response.status_code == 200, response.text
    return response.json()


async def test_signup_and_login_return_a_full_ticket(client: httpx.AsyncClient, tenant: TenantFixture, service) -> None:
    ticket = await signup(client, tenant)
    assert set(ticket) == {
        "accessToken",
        "accessTokenExpiration",
        "jwtAccessToken",
        "refreshToken",
        "refreshTokenExpiration",
        "userId",
        "requires2FA",
        "customerAccount",
    }
    assert ticket["requires2FA"] is False and ticket["customerAccount"]["userId"] == ticket["userId"]
    assert len(ticket["accessToken"]) >= 43 and len(ticket["refreshToken"]) >= 43  # >= 256 bits, base64url

    email = ticket["customerAccount"]["emailAddress"]
    response = await login(client, tenant, email.upper())
    assert response.status_code == 200 and response.headers["cache-control"] == "no-store"
    again = response.json()
    assert again["accessToken"] != ticket["accessToken"] and again["userId"] == ticket["userId"]

    header = jwt.get_unverified_header(again["jwtAccessToken"])
    assert header["typ"] == "at+jwt" and header["alg"] == "ES256" and header["kid"]
    issuer = f"{service.base_url}/tenants/{tenant.id}"
    discovery = (await client.get(f"/tenants/{tenant.id}/.well-known/openid-configuration")).json()
    assert discovery["issuer"] == issuer and discovery["jwks_uri"] == f"{issuer}/.well-known/jwks.json"
    jwks_client = jwt.PyJWKClient(discovery["jwks_uri"])
    key = await asyncio.to_thread(jwks_client.get_signing_key_from_jwt, again["jwtAccessToken"])
    claims = jwt.decode(again["jwtAccessToken"], key.key, algorithms=["ES256"], audience=f"{issuer}/api", issuer=issuer)
    assert claims["sub"] == ticket["userId"] and claims["tid"] == tenant.id
    assert claims["account_id"] == ticket["customerAccount"]["id"] and claims["customer_set"] == "default"
    assert claims["amr"] == ["pwd"] and claims["sid"] and claims["jti"] and claims["exp"] - claims["iat"] == 15 * 60

    trimmed = await client.post(
        f"{TICKETS}?responseFields=userId,requires2FA",
        json={"username": email, "password": PASSWORD},
        headers=tenant.app_headers,
    )
    assert trimmed.json() == {"userId": ticket["userId"], "requires2FA": False}


async def test_failed_logins_are_indistinguishable(client: httpx.AsyncClient, tenant: TenantFixture) -> None:
    locked = await signup(client, tenant)
    await client.post(
        f"{ACCOUNTS}/{locked['customerAccount']['id']}/Set-Login-Locked", json=True, headers=tenant.app_headers
    )
    no_login = await client.post(
        ACCOUNTS, json={"emailAddress": f"{unique('nl')}@example.com"}, headers=tenant.app_headers
    )
    known = await signup(client, tenant)
    attempts = [
        await login(client, tenant, f"{unique('ghost')}@example.com"),
        await login(client, tenant, known["customerAccount"]["emailAddress"], "wrong password!!"),
        await login(client, tenant, locked["customerAccount"]["emailAddress"]),
        await login(client, tenant, no_login.json()["emailAddress"]),
    ]
    bodies = []
    for response in attempts:
        body = assert_kibo_error(response, 401, "INVALID_CREDENTIALS")
        body.pop("additionalErrorData")
        bodies.append(body)
    assert all(b == bodies[0] for b in bodies)
    assert_kibo_error(
        await client.post(TICKETS, json={"username": "x", "password": 5}, headers=tenant.app_headers), 400
    )
    assert_kibo_error(await client.post(TICKETS, json={"username": "x", "pwd": "y"}, headers=tenant.app_headers), 400)


async def test_refresh_rotates_and_reuse_ends_the_session(client: httpx.AsyncClient, tenant: TenantFixture) -> None:
    await client.put(
        f"/admin/v1/tenants/{tenant.id}/settings", json={"refreshReuseGraceSeconds": 0}, headers=tenant.admin_headers
    )
    first = await signup(client, tenant)
    second = await client.put(
        f"{TICKETS}/refresh", params={"refreshToken": first["refreshToken"]}, headers=tenant.app_headers
    )
    assert second.status_code == 200, second.text
    second = second.json()
    assert second["refreshToken"] != first["refreshToken"] and second["accessToken"] != first["accessToken"]
    assert (await introspect(client, tenant, second["accessToken"]))["active"] is True

    reuse = await client.put(
        f"{TICKETS}/refresh", params={"refreshToken": first["refreshToken"]}, headers=tenant.app_headers
    )
    assert_kibo_error(reuse, 401, "INVALID_REFRESH_TOKEN")
    # The reuse looked like theft: the whole session is gone, successor included.
    for token in (second["accessToken"], second["jwtAccessToken"], second["refreshToken"]):
        assert await introspect(client, tenant, token) == {"active": False}
    assert_kibo_error(
        await client.put(
            f"{TICKETS}/refresh", params={"refreshToken": second["refreshToken"]}, headers=tenant.app_headers
        ),
        401,
    )


async def test_ticket_account_keeps_its_empty_lists(client: httpx.AsyncClient, tenant: TenantFixture, mailbox) -> None:
    """Redis's Lua cjson re-encodes an empty list as {}: the account a ticket carries must not go through it
    (seen with Kibo's npm SDK: from the second refresh on, and after a wrong second-factor code)."""
    lists = {"contacts": [], "notes": [], "attributes": [], "segments": []}
    ticket = await signup(client, tenant)
    for _ in range(3):
        response = await client.put(
            f"{TICKETS}/refresh", params={"refreshToken": ticket["refreshToken"]}, headers=tenant.app_headers
        )
        assert response.status_code == 200, response.text
        ticket = response.json()
        assert {k: ticket["customerAccount"][k] for k in lists} == lists
    email = ticket["customerAccount"]["emailAddress"]
    settings = (await client.get(f"/admin/v1/tenants/{tenant.id}/settings", headers=tenant.admin_headers)).json()
    settings["twoFactor"] = {**settings["twoFactor"], "mode": "always"}
    assert (
        await client.put(f"/admin/v1/tenants/{tenant.id}/settings", json=settings, headers=tenant.admin_headers)
    ).status_code == 200
    before = len(mailbox.messages)
    pending = {"Authorization": f"Bearer {(await login(client, tenant, email)).json()['accessToken']}"}
    assert (await client.post(f"{TICKETS}/2fa/request", headers=pending)).status_code == 204
    code = re.search(r"^ {4}(\d{6})", mailbox.wait_for(email, after=before).get_content(), re.MULTILINE).group(1)
    wrong = await client.post(
        f"{TICKETS}/2fa/auth", json={"otpCode": "000000" if code != "000000" else "111111"}, headers=pending
    )
    assert_kibo_error(wrong, 401, "INVALID_2FA_CODE")
    finished = await client.post(f"{TICKETS}/2fa/auth", json={"otpCode": code}, headers=pending)
    assert finished.status_code == 200, finished.text
    assert {k: finished.json()["customerAccount"][k] for k in lists} == lists


async def test_concurrent_refreshes_yield_one_successor(client: httpx.AsyncClient, tenant: TenantFixture) -> None:
    ticket = await signup(client, tenant)
    responses = await asyncio.gather(
        *(
            client.put(
                f"{TICKETS}/refresh", params={"refreshToken": ticket["refreshToken"]}, headers=tenant.app_headers
            )
            for _ in range(50)
        )
    )
    assert all(r.status_code == 200 for r in responses), {r.status_code for r in responses}
    successors = {r.json()["refreshToken"] for r in responses}
    assert len(successors) == 1
    successor = successors.pop()
    assert (await introspect(client, tenant, successor))["active"] is True
    onward = await client.put(f"{TICKETS}/refresh", params={"refreshToken": successor}, headers=tenant.app_headers)
    assert onward.status_code == 200


async def test_logout_and_customer_sessions(client: httpx.AsyncClient, tenant: TenantFixture) -> None:
    first = await signup(client, tenant)
    email = first["customerAccount"]["emailAddress"]
    second = (await login(client, tenant, email, fingerprint="laptop", region="EU")).json()
    claims_headers = {**tenant.app_headers, "x-vol-user-claims": second["accessToken"]}

    current = await client.get(f"{ACCOUNTS}/current", headers=claims_headers)
    assert current.status_code == 200 and current.json()["emailAddress"] == email
    as_bearer = await client.get(f"{ACCOUNTS}/current", headers={"Authorization": f"Bearer {second['jwtAccessToken']}"})
    assert as_bearer.status_code == 200 and as_bearer.json()["id"] == first["customerAccount"]["id"]
    assert_kibo_error(await client.get(f"{ACCOUNTS}/current", headers=tenant.app_headers), 401, "MISSING_USER_TOKEN")
    # A customer's route answers who may call it before it reads the body: a malformed one changes nothing.
    for body in (b"{not json", b'{"code": 12}'):
        unread = await client.post(
            f"{ACCOUNTS}/current/authenticator/confirm",
            content=body,
            headers={**tenant.app_headers, "content-type": "application/json"},
        )
        assert_kibo_error(unread, 401, "MISSING_USER_TOKEN")

    sessions = (await client.get(f"{TICKETS}/sessions", headers=claims_headers)).json()
    assert len(sessions) == 2 and [s["current"] for s in sessions] == [False, True]
    assert sessions[1]["fingerprint"] == "laptop" and sessions[1]["region"] == "EU"
    ended = await client.delete(f"{TICKETS}/sessions/{sessions[0]['id']}", headers=claims_headers)
    assert ended.status_code == 204
    assert await introspect(client, tenant, first["accessToken"]) == {"active": False}

    logout = await client.delete(TICKETS, params={"refreshToken": second["refreshToken"]}, headers=tenant.app_headers)
    assert logout.status_code == 204
    assert_kibo_error(await client.get(f"{ACCOUNTS}/current", headers=claims_headers), 401, "INVALID_USER_TOKEN")
    assert await introspect(client, tenant, second["jwtAccessToken"]) == {"active": False}


async def test_account_changes_end_sessions(client: httpx.AsyncClient, tenant: TenantFixture) -> None:
    for change in ("password", "lock", "delete"):
        ticket = await signup(client, tenant)
        account_id = ticket["customerAccount"]["id"]
        if change == "password":
            response = await client.post(
                f"{ACCOUNTS}/{account_id}/Change-Password",
                json={"oldPassword": PASSWORD, "newPassword": "another good passphrase"},
                headers=tenant.app_headers,
            )
        elif change == "lock":
            response = await client.post(
                f"{ACCOUNTS}/{account_id}/Set-Login-Locked", json=True, headers=tenant.app_headers
            )
        else:
            response = await client.delete(f"{ACCOUNTS}/{account_id}", headers=tenant.app_headers)
        assert response.status_code == 204, response.text
        for token in (ticket["accessToken"], ticket["jwtAccessToken"], ticket["refreshToken"]):
            assert await introspect(client, tenant, token) == {"active": False}, change


async def test_durations_need_the_behavior_and_respect_caps(
    client: httpx.AsyncClient, platform_headers, tenant: TenantFixture
) -> None:
    plain = await make_tenant(client, platform_headers, behaviors=["customer:accounts:write", "customer:authtickets"])
    body = {
        "account": {"emailAddress": f"{unique('d')}@example.com"},
        "password": PASSWORD,
        "authTicketDurationMinutes": 5,
    }
    assert_kibo_error(
        await client.post(f"{ACCOUNTS}/Add-Account-And-Login", json=body, headers=plain.app_headers),
        403,
        "MISSING_BEHAVIOR",
    )

    ticket = await signup(client, tenant, authTicketDurationMinutes=5, refreshTokenDurationMinutes=60)
    claims = jwt.decode(ticket["jwtAccessToken"], options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == 300
    email = ticket["customerAccount"]["emailAddress"]
    too_long = await client.post(
        f"{TICKETS}?authTicketDurationMinutes=61",
        json={"username": email, "password": PASSWORD},
        headers=tenant.app_headers,
    )
    body = assert_kibo_error(too_long, 400, "DURATION_ABOVE_CAP")
    assert "maxRequestedAccessTokenMinutes" in body["message"]
    refresh_too_long = await login(client, tenant, email, refreshTokenDurationMinutes=10**5)
    assert "refreshTokenDurationMinutes" in assert_kibo_error(refresh_too_long, 400)["message"]


async def test_introspection_rules(
    client: httpx.AsyncClient, platform_headers, tenant: TenantFixture, other_tenant: TenantFixture
) -> None:
    ticket = await signup(client, tenant)
    url = f"/tenants/{tenant.id}/oauth2/introspect"
    active = await introspect(client, tenant, ticket["accessToken"])
    assert active["active"] is True and active["token_type"] == "access_token"
    assert (
        active["sub"] == ticket["userId"]
        and active["tid"] == tenant.id
        and active["account_id"] == ticket["customerAccount"]["id"]
    )
    assert {"exp", "iat", "jti", "sid", "scope", "username"} <= active.keys()
    assert (await introspect(client, tenant, ticket["jwtAccessToken"]))["sid"] == active["sid"]
    assert (await introspect(client, tenant, ticket["refreshToken"]))["token_type"] == "refresh_token"
    for junk in ("nope", "gh_cat_" + "A" * 43, "eyJ.eyJ.sig", ticket["accessToken"] + "x"):
        assert await introspect(client, tenant, junk) == {"active": False}
    # Another tenant's application cannot introspect, and this tenant's token is not active there.
    cross = await client.post(url, data={"token": ticket["accessToken"]}, headers=introspector(other_tenant))
    assert_problem(cross, 401, "INVALID_CLIENT")
    assert await introspect(client, other_tenant, ticket["accessToken"]) == {"active": False}
    assert_problem(await client.post(url, data={"token": ticket["accessToken"]}), 401)
    no_behavior = await make_tenant(client, platform_headers, behaviors=[])
    assert_problem(
        await client.post(
            f"/tenants/{no_behavior.id}/oauth2/introspect", data={"token": "x"}, headers=introspector(no_behavior)
        ),
        401,
    )
    by_app_token = await client.post(url, data={"token": ticket["accessToken"]}, headers=tenant.app_headers)
    assert by_app_token.json()["active"] is True
    assert_problem(await client.post(url, json={"token": "x"}, headers=introspector(tenant)), 400)


async def test_revocation(client: httpx.AsyncClient, tenant: TenantFixture) -> None:
    url = f"/tenants/{tenant.id}/oauth2/revoke"
    ticket = await signup(client, tenant)
    revoked = await client.post(url, data={"token": ticket["jwtAccessToken"]}, headers=introspector(tenant))
    assert revoked.status_code == 200
    assert await introspect(client, tenant, ticket["accessToken"]) == {"active": False}
    assert (await introspect(client, tenant, ticket["refreshToken"]))["active"] is True
    renewed = (
        await client.put(
            f"{TICKETS}/refresh", params={"refreshToken": ticket["refreshToken"]}, headers=tenant.app_headers
        )
    ).json()
    assert (await introspect(client, tenant, renewed["accessToken"]))["active"] is True

    assert (
        await client.post(url, data={"token": renewed["refreshToken"]}, headers=introspector(tenant))
    ).status_code == 200
    assert await introspect(client, tenant, renewed["accessToken"]) == {"active": False}
    assert (await client.post(url, data={"token": "unknown"}, headers=introspector(tenant))).status_code == 200


def _forge(claims: dict, key, algorithm: str, headers: dict) -> str:
    return jwt.encode(claims, key, algorithm=algorithm, headers=headers)


async def test_jwt_attacks_are_refused(
    client: httpx.AsyncClient, tenant: TenantFixture, other_tenant: TenantFixture, service
) -> None:
    ticket = await signup(client, tenant)
    good = ticket["jwtAccessToken"]
    header = jwt.get_unverified_header(good)
    claims = jwt.decode(good, options={"verify_signature": False})
    jwks = (await client.get(f"/tenants/{tenant.id}/.well-known/jwks.json")).json()["keys"]
    public_pem = jwt.PyJWK(jwks[0]).key.public_bytes(
        encoding=serialization.Encoding.PEM, format=serialization.PublicFormat.SubjectPublicKeyInfo
    )
    attacker = ec.generate_private_key(ec.SECP256R1())
    now = int(time.time())

    def unsigned(claims_: dict, header_: dict) -> str:
        def encode(part):
            return base64.urlsafe_b64encode(json.dumps(part).encode()).rstrip(b"=").decode()

        return f"{encode(header_)}.{encode(claims_)}."

    def hmac_with_public_key() -> str:
        signing_input = ".".join(
            base64.urlsafe_b64encode(json.dumps(p).encode()).rstrip(b"=").decode()
            for p in ({"alg": "HS256", "typ": "at+jwt", "kid": header["kid"]}, claims)
        )
        sig = (
            base64.urlsafe_b64encode(hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest())
            .rstrip(b"=")
            .decode()
        )
        return f"{signing_input}.{sig}"

    forged = {
        "alg none": unsigned(claims, {"alg": "none", "typ": "at+jwt", "kid": header["kid"]}),
        "HS256 with the public key": hmac_with_public_key(),
        "foreign kid": _forge(claims, attacker, "ES256", {"kid": "attacker", "typ": "at+jwt"}),
        "real kid, wrong key": _forge(claims, attacker, "ES256", {"kid": header["kid"], "typ": "at+jwt"}),
        "injected kid": _forge(claims, attacker, "ES256", {"kid": "../../etc/passwd' OR 1=1", "typ": "at+jwt"}),
        "jku header": _forge(
            claims, attacker, "ES256", {"kid": header["kid"], "typ": "at+jwt", "jku": "http://evil/jwks"}
        ),
        "jwk header": _forge(
            claims,
            attacker,
            "ES256",
            {
                "kid": header["kid"],
                "typ": "at+jwt",
                "jwk": json.loads(jwt.algorithms.ECAlgorithm.to_jwk(attacker.public_key())),
            },
        ),
        "expired": _forge(
            {**claims, "exp": now - 3600, "iat": now - 7200, "nbf": now - 7200},
            attacker,
            "ES256",
            {"kid": header["kid"], "typ": "at+jwt"},
        ),
        "other tenant claim": _forge(
            {**claims, "tid": other_tenant.id}, attacker, "ES256", {"kid": header["kid"], "typ": "at+jwt"}
        ),
        "wrong typ": _forge(claims, attacker, "ES256", {"kid": header["kid"], "typ": "JWT"}),
    }
    for name, token in forged.items():
        assert await introspect(client, tenant, token) == {"active": False}, name
        response = await client.get(f"{ACCOUNTS}/current", headers={**tenant.app_headers, "x-vol-user-claims": token})
        assert_kibo_error(response, 401)
    # A genuine token is refused by another tenant's introspection and for the wrong issuer.
    assert await introspect(client, other_tenant, good) == {"active": False}
    assert (await introspect(client, tenant, good))["active"] is True


async def test_signed_tokens_survive_a_key_rotation(client: httpx.AsyncClient, tenant: TenantFixture) -> None:
    before = await signup(client, tenant)
    old_kid = jwt.get_unverified_header(before["jwtAccessToken"])["kid"]
    rotated = await client.post(f"/admin/v1/tenants/{tenant.id}/signing-keys/rotate", headers=tenant.admin_headers)
    assert rotated.status_code == 201 and rotated.json()["kid"] != old_kid
    assert_problem(
        await client.post(f"/admin/v1/tenants/{tenant.id}/signing-keys/rotate", headers=tenant.viewer_headers), 403
    )
    kids = [k["kid"] for k in (await client.get(f"/tenants/{tenant.id}/.well-known/jwks.json")).json()["keys"]]
    assert kids == [rotated.json()["kid"], old_kid]
    assert all("d" not in k for k in (await client.get(f"/tenants/{tenant.id}/.well-known/jwks.json")).json()["keys"])
    assert (await introspect(client, tenant, before["jwtAccessToken"]))["active"] is True
    after = (await login(client, tenant, before["customerAccount"]["emailAddress"])).json()
    assert jwt.get_unverified_header(after["jwtAccessToken"])["kid"] == rotated.json()["kid"]


async def test_a_jwt_checked_before_is_still_revoked_and_retired_at_once(
    client: httpx.AsyncClient, tenant: TenantFixture
) -> None:
    """The service remembers JWTs it has verified; a remembered one still ends with its session's access tokens,
    and with the key it was signed with."""
    ticket = await signup(client, tenant)
    token = ticket["jwtAccessToken"]
    as_customer = {**tenant.app_headers, "x-vol-user-claims": token}
    for _ in range(2):  # the second check is answered from what the first verified
        assert (await introspect(client, tenant, token))["active"] is True
        assert (await client.get(f"{ACCOUNTS}/current", headers=as_customer)).status_code == 200
    revoke = f"/tenants/{tenant.id}/oauth2/revoke"
    assert (await client.post(revoke, data={"token": token}, headers=introspector(tenant))).status_code == 200
    assert await introspect(client, tenant, token) == {"active": False}
    assert_kibo_error(await client.get(f"{ACCOUNTS}/current", headers=as_customer), 401)

    fresh = (await login(client, tenant, ticket["customerAccount"]["emailAddress"])).json()["jwtAccessToken"]
    assert (await introspect(client, tenant, fresh))["active"] is True
    rotate = f"/admin/v1/tenants/{tenant.id}/signing-keys/rotate"
    assert (await client.post(rotate, headers=tenant.admin_headers)).status_code == 201
    assert (await introspect(client, tenant, fresh))["active"] is True  # its key is the previous one now
    assert (await client.post(rotate, headers=tenant.admin_headers)).status_code == 201
    assert await introspect(client, tenant, fresh) == {"active": False}  # its key is retired
    headers = {**tenant.app_headers, "x-vol-user-claims": fresh}
    assert_kibo_error(await client.get(f"{ACCOUNTS}/current", headers=headers), 401)


@pytest.mark.parametrize("algorithm", ["RS256", "EdDSA"])
async def test_tenant_selects_signing_algorithm(
    client: httpx.AsyncClient, tenant: TenantFixture, algorithm: str
) -> None:
    await client.put(
        f"/admin/v1/tenants/{tenant.id}/settings", json={"signingAlgorithm": algorithm}, headers=tenant.admin_headers
    )
    await client.post(f"/admin/v1/tenants/{tenant.id}/signing-keys/rotate", headers=tenant.admin_headers)
    ticket = await signup(client, tenant)
    assert jwt.get_unverified_header(ticket["jwtAccessToken"])["alg"] == algorithm
    assert (await introspect(client, tenant, ticket["jwtAccessToken"]))["active"] is True


async def test_create_login_for_existing_account(client: httpx.AsyncClient, tenant: TenantFixture) -> None:
    account = (
        await client.post(ACCOUNTS, json={"emailAddress": f"{unique('cl')}@example.com"}, headers=tenant.app_headers)
    ).json()
    url = f"{ACCOUNTS}/{account['id']}/Create-Login"
    ticket = await client.post(
        url, json={"emailAddress": account["emailAddress"], "password": PASSWORD}, headers=tenant.app_headers
    )
    assert ticket.status_code == 200 and ticket.json()["customerAccount"]["id"] == account["id"]
    assert_kibo_error(
        await client.post(url, json={"password": PASSWORD}, headers=tenant.app_headers), 409, "LOGIN_EXISTS"
    )
    assert (await login(client, tenant, account["emailAddress"])).status_code == 200
    assert_kibo_error(
        await client.post(
            f"{ACCOUNTS}/2147480000/Create-Login", json={"password": PASSWORD}, headers=tenant.app_headers
        ),
        404,
    )


async def test_genuinely_signed_but_invalid_claims_are_refused(
    client: httpx.AsyncClient, tenant: TenantFixture, other_tenant: TenantFixture, servers
) -> None:
    """Signed with the tenant's real key (read from the database), so only the claim checks can refuse them."""
    import asyncpg

    ticket = await signup(client, tenant)
    header = jwt.get_unverified_header(ticket["jwtAccessToken"])
    claims = jwt.decode(ticket["jwtAccessToken"], options={"verify_signature": False})
    conn = await asyncpg.connect(servers.database_url)
    try:
        pem = await conn.fetchval("SELECT private_pem FROM signing_keys WHERE kid = $1", header["kid"])
    finally:
        await conn.close()
    assert pem.startswith(SecretBox.PREFIX)  # sealed at rest
    pem = SecretBox(parse_secrets_key(SECRETS_KEY)).open(pem, f"signing_key:{header['kid']}")
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    now = int(time.time())
    cases = {
        "expired": {"exp": now - 60, "iat": now - 3600, "nbf": now - 3600},
        "not yet valid": {"nbf": now + 3600, "iat": now + 3600, "exp": now + 7200},
        "wrong issuer": {"iss": "https://evil.example/tenants/1"},
        "wrong audience": {"aud": "someone-else"},
        "other tenant": {"tid": other_tenant.id},
        "no session id": {"sid": None},
    }
    control = jwt.encode(claims, key, algorithm="ES256", headers={"kid": header["kid"], "typ": "at+jwt"})
    assert (await introspect(client, tenant, control))["active"] is True  # the harness itself can make a good one
    for name, change in cases.items():
        forged_claims = {k: v for k, v in {**claims, **change}.items() if v is not None}
        token = jwt.encode(forged_claims, key, algorithm="ES256", headers={"kid": header["kid"], "typ": "at+jwt"})
        assert await introspect(client, tenant, token) == {"active": False}, name
        response = await client.get(f"{ACCOUNTS}/current", headers={**tenant.app_headers, "x-vol-user-claims": token})
        assert_kibo_error(response, 401)


async def test_customer_changes_own_password_with_their_token(client: httpx.AsyncClient, platform_headers) -> None:
    shop = await make_tenant(
        client, platform_headers, behaviors=["customer:accounts:write", "customer:authtickets", "tokens:introspect"]
    )
    ticket = await signup(client, shop)
    other = await signup(client, shop)
    # A customer's token opens that customer's own account, never the application's behaviors.
    as_customer = {"Authorization": f"Bearer {ticket['accessToken']}"}
    assert_kibo_error(await client.get(ACCOUNTS, headers=as_customer), 403, "MISSING_BEHAVIOR")
    assert_kibo_error(await client.get(f"{ACCOUNTS}/{other['customerAccount']['id']}", headers=as_customer), 403)
    url = f"{ACCOUNTS}/{ticket['customerAccount']['id']}/Change-Password"
    body = {"oldPassword": PASSWORD, "newPassword": "my own new passphrase"}
    assert_kibo_error(
        await client.post(
            f"{ACCOUNTS}/{other['customerAccount']['id']}/Change-Password",
            json=body,
            headers={"Authorization": f"Bearer {ticket['accessToken']}"},
        ),
        403,
        "MISSING_BEHAVIOR",
    )
    changed = await client.post(url, json=body, headers={"Authorization": f"Bearer {ticket['jwtAccessToken']}"})
    assert changed.status_code == 204, changed.text
    assert await introspect(client, shop, ticket["refreshToken"]) == {"active": False}
    assert (
        await login(client, shop, ticket["customerAccount"]["emailAddress"], "my own new passphrase")
    ).status_code == 200


async def test_password_is_rehashed_when_the_tenant_raises_argon2_cost(
    client: httpx.AsyncClient, tenant: TenantFixture, servers
) -> None:
    import asyncpg

    ticket = await signup(client, tenant)
    account_id = ticket["customerAccount"]["id"]

    async def stored_hash() -> str:
        conn = await asyncpg.connect(servers.database_url)
        try:
            return await conn.fetchval("SELECT password_hash FROM customer_logins WHERE account_id = $1", account_id)
        finally:
            await conn.close()

    assert "m=19456,t=2,p=1" in await stored_hash()
    await client.put(
        f"/admin/v1/tenants/{tenant.id}/settings",
        json={"password": {"argon2Iterations": 3}},
        headers=tenant.admin_headers,
    )
    assert (await login(client, tenant, ticket["customerAccount"]["emailAddress"])).status_code == 200
    assert "m=19456,t=3,p=1" in await stored_hash()
    assert (await login(client, tenant, ticket["customerAccount"]["emailAddress"])).status_code == 200


async def test_another_tenants_application_cannot_refresh_or_end_a_session(
    client: httpx.AsyncClient, tenant: TenantFixture, other_tenant: TenantFixture
) -> None:
    ticket = await signup(client, tenant)
    foreign = await client.put(
        f"{TICKETS}/refresh", params={"refreshToken": ticket["refreshToken"]}, headers=other_tenant.app_headers
    )
    assert_kibo_error(foreign, 401, "INVALID_REFRESH_TOKEN")
    await client.delete(TICKETS, params={"refreshToken": ticket["refreshToken"]}, headers=other_tenant.app_headers)
    # Neither touched the session: the token was not rotated, retired or ended.
    own = await client.put(
        f"{TICKETS}/refresh", params={"refreshToken": ticket["refreshToken"]}, headers=tenant.app_headers
    )
    assert own.status_code == 200, own.text


async def test_refresh_answers_with_the_account_as_it_is_now(client: httpx.AsyncClient, tenant: TenantFixture) -> None:
    ticket = await signup(client, tenant)
    account_id = ticket["customerAccount"]["id"]
    updated = await client.put(f"{ACCOUNTS}/{account_id}", json={"firstName": "Renamed"}, headers=tenant.app_headers)
    assert updated.status_code == 200
    renewed = await client.put(
        f"{TICKETS}/refresh", params={"refreshToken": ticket["refreshToken"]}, headers=tenant.app_headers
    )
    assert renewed.json()["customerAccount"]["firstName"] == "Renamed"
    assert renewed.json()["customerAccount"]["contacts"] == []


@pytest.mark.parametrize("kind", ["opaque", "jwt"])
async def test_a_presented_customer_token_that_is_not_active_is_refused(
    client: httpx.AsyncClient, tenant: TenantFixture, other_tenant: TenantFixture, kind: str
) -> None:
    """An ended or foreign customer token beside a valid app token answers 401: it is never ignored, even where
    the application could have acted on its own authority."""
    key = "accessToken" if kind == "opaque" else "jwtAccessToken"
    ended = await signup(client, tenant)
    end = await client.delete(TICKETS, params={"refreshToken": ended["refreshToken"]}, headers=tenant.app_headers)
    assert end.status_code == 204
    foreign = await signup(client, other_tenant)
    change = {"oldPassword": PASSWORD, "newPassword": "a different good passphrase"}
    for token in (ended[key], foreign[key], "gh_cat_" + "x" * 43):
        claims = {**tenant.app_headers, "x-vol-user-claims": token}
        url = f"{ACCOUNTS}/{ended['customerAccount']['id']}/Change-Password"
        assert_kibo_error(await client.post(url, json=change, headers=claims), 401, "INVALID_USER_TOKEN")
        assert_kibo_error(await client.get(ACCOUNTS, headers=claims), 401, "INVALID_USER_TOKEN")
    # The password did not change on the application's authority.
    assert (await login(client, tenant, ended["customerAccount"]["emailAddress"])).status_code == 200


@pytest.mark.parametrize("stored_as", ["text", "object"])
async def test_sessions_written_by_the_previous_version_still_refresh(
    client: httpx.AsyncClient, tenant: TenantFixture, servers, stored_as: str
) -> None:
    """Before sessions kept a typed account, their `account` held Kibo's body (as JSON text, or as an object in
    the oldest records). A session of those days, refreshed after an upgrade, answers with its account."""
    from redis.asyncio import Redis

    now = int(time.time() * 1000)
    sid, refresh = secrets.token_urlsafe(16), "gh_crt_" + secrets.token_urlsafe(32)
    digest = hashlib.sha256(refresh.encode()).hexdigest()
    body = {
        "id": 4242, "emailAddress": "then@example.com", "userName": None, "firstName": "Old", "lastName": None,
        "localeCode": None, "userId": "u" * 32, "isAnonymous": False, "isLocked": False, "isActive": True,
        "acceptsMarketing": False, "hasExternalPassword": False, "last2FaDate": None, "customerSet": "default",
        "contacts": [], "taxExempt": False, "taxId": None, "externalId": None, "customerSinceDate":
        "2026-11-20T10:00:00.000Z", "accountType": None, "auditInfo": {"createDate": "2026-11-20T10:00:00.000Z",
        "createBy": "app:x", "updateDate": "2026-11-20T10:00:00.000Z", "updateBy": "app:x"},
    }  # fmt: skip
    record = {
        "sid": sid, "tid": tenant.id, "acct": 4242, "uid": "u" * 32, "cid": tenant.client_id, "app": 1,
        "csid": 1, "cs": "default", "fp": None, "region": None, "idle": 3600, "abs": now + 3_600_000,
        "access": 300, "amr": ["pwd"], "grace": 5, "user": "then@example.com",
        "account": json.dumps(body) if stored_as == "text" else body, "rt": digest, "atv": 1,
        "created": now, "last": now,
    }  # fmt: skip
    redis = Redis.from_url(servers.redis_url)
    try:
        await redis.set(f"gh:sess:{sid}", json.dumps(record), px=3_600_000)
        await redis.set(f"gh:crt:{digest}", json.dumps({"sid": sid, "state": "current"}), px=3_600_000)
        await redis.sadd(f"gh:acctsess:{tenant.id}:4242", sid)
    finally:
        await redis.aclose()
    refreshed = await client.put(f"{TICKETS}/refresh", params={"refreshToken": refresh}, headers=tenant.app_headers)
    assert refreshed.status_code == 200, refreshed.text
    account = refreshed.json()["customerAccount"]
    assert (account["id"], account["emailAddress"], account["firstName"]) == (4242, "then@example.com", "Old")
    assert account["auditInfo"]["createDate"] == "2026-11-20T10:00:00.000Z"
    # The rotated session is written in today's format and refreshes again.
    again = await client.put(
        f"{TICKETS}/refresh", params={"refreshToken": refreshed.json()["refreshToken"]}, headers=tenant.app_headers
    )
    assert again.status_code == 200 and again.json()["customerAccount"]["emailAddress"] == "then@example.com"
    # Its tokens stay in the old form (no hash tag: one server serves them) and answer like any other.
    assert not again.json()["accessToken"].removeprefix("gh_cat_").count(".")
    assert (await introspect(client, tenant, again.json()["accessToken"]))["sid"] == sid
    logout = await client.delete(
        TICKETS, params={"refreshToken": again.json()["refreshToken"]}, headers=tenant.app_headers
    )
    assert logout.status_code == 204
    assert await introspect(client, tenant, again.json()["jwtAccessToken"]) == {"active": False}


async def test_add_account_and_login_answers_with_the_contacts_it_created(
    client: httpx.AsyncClient, tenant: TenantFixture
) -> None:
    contact = {"firstName": "Ada", "address": {"cityOrTown": "Lyon", "countryCode": "FR"},
               "types": [{"name": "Billing", "isPrimary": True}]}  # fmt: skip
    ticket = await signup(
        client, tenant, account={"emailAddress": f"{unique('c2')}@example.com", "contacts": [contact]}
    )
    contacts = ticket["customerAccount"]["contacts"]
    assert [(c["firstName"], c["address"]["cityOrTown"]) for c in contacts] == [("Ada", "Lyon")]


async def test_is_active_is_kept_and_an_inactive_account_cannot_log_in(
    client: httpx.AsyncClient, tenant: TenantFixture
) -> None:
    h, email = tenant.app_headers, f"{unique('inactive')}@example.com"
    created = await client.post(
        f"{ACCOUNTS}/Bulk",
        json=[{"account": {"emailAddress": email, "isActive": False}, "password": PASSWORD}],
        headers=h,
    )
    account_id = created.json()["items"][0]["id"]
    assert (await client.get(f"{ACCOUNTS}/{account_id}", headers=h)).json()["isActive"] is False
    assert_kibo_error(await login(client, tenant, email), 401, "INVALID_CREDENTIALS")

    activated = await client.put(f"{ACCOUNTS}/{account_id}", json={"isActive": True}, headers=h)
    assert activated.json()["isActive"] is True
    ticket = await login(client, tenant, email)
    assert ticket.status_code == 200, ticket.text
    # Deactivating ends the account's sessions.
    assert (await client.put(f"{ACCOUNTS}/{account_id}", json={"isActive": False}, headers=h)).status_code == 200
    for token in (ticket.json()["accessToken"], ticket.json()["refreshToken"]):
        assert await introspect(client, tenant, token) == {"active": False}

    # Nothing logs an inactive account in.
    body = {"account": {"emailAddress": f"{unique('inactive')}@example.com", "isActive": False}, "password": PASSWORD}
    refused = await client.post(f"{ACCOUNTS}/Add-Account-And-Login", json=body, headers=h)
    assert assert_kibo_error(refused, 400, "ACCOUNT_INACTIVE")["items"][0]["name"] == "account.isActive"
    bare = await client.post(
        ACCOUNTS, json={"emailAddress": f"{unique('bare')}@example.com", "isActive": False}, headers=h
    )
    create_login = await client.post(
        f"{ACCOUNTS}/{bare.json()['id']}/Create-Login", json={"password": PASSWORD}, headers=h
    )
    assert_kibo_error(create_login, 409, "ACCOUNT_INACTIVE")


async def test_login_bodies_refuse_what_they_would_drop(client: httpx.AsyncClient, tenant: TenantFixture) -> None:
    """Password imports are refused by name; a duration sent twice must say one thing; refresh serves one account."""
    h = tenant.app_headers
    settings = {"refreshReuseGraceSeconds": 0}  # a spent refresh token must not pass as a replay
    await client.put(f"/admin/v1/tenants/{tenant.id}/settings", json=settings, headers=tenant.admin_headers)
    for extra, field in [({"externalPassword": "$2y$10$abc"}, "externalPassword"), ({"isImport": True}, "isImport")]:
        signup_body = {"account": {"emailAddress": f"{unique('imp')}@example.com"}, "password": PASSWORD, **extra}
        response = await client.post(f"{ACCOUNTS}/Add-Account-And-Login", json=signup_body, headers=h)
        assert assert_kibo_error(response, 400, "UNSUPPORTED_FIELD")["items"][0]["name"] == field
        bare = await client.post(ACCOUNTS, json={"emailAddress": f"{unique('imp')}@example.com"}, headers=h)
        response = await client.post(
            f"{ACCOUNTS}/{bare.json()['id']}/Create-Login", json={"password": PASSWORD, **extra}, headers=h
        )
        assert assert_kibo_error(response, 400, "UNSUPPORTED_FIELD")["items"][0]["name"] == field

    ticket = await signup(client, tenant, authTicketDurationMinutes=5)
    email = ticket["customerAccount"]["emailAddress"]
    twice = await client.post(
        f"{TICKETS}?authTicketDurationMinutes=6",
        json={"username": email, "password": PASSWORD, "authTicketDurationMinutes": 5},
        headers=h,
    )
    assert assert_kibo_error(twice, 400, "VALIDATION_FAILED")["items"][0]["name"] == "authTicketDurationMinutes"
    same = await client.post(
        f"{TICKETS}?refreshTokenDurationMinutes=60",
        json={"username": email, "password": PASSWORD, "refreshTokenDurationMinutes": 60},
        headers=h,
    )
    assert same.status_code == 200, same.text

    refresh = {"refreshToken": ticket["refreshToken"]}
    other = await client.put(f"{TICKETS}/refresh", params={**refresh, "accountId": 2147480000}, headers=h)
    assert assert_kibo_error(other, 400, "VALIDATION_FAILED")["items"][0]["name"] == "accountId"
    # The refused refresh did not spend the token.
    own = await client.put(
        f"{TICKETS}/refresh", params={**refresh, "accountId": ticket["customerAccount"]["id"]}, headers=h
    )
    assert own.status_code == 200, own.text
