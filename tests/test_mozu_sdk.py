"""Kibo's Python SDK (PyPI `mozurestsdk` 1.2.0, the only Python Kibo client) against the running service.

The SDK is used as a new user would: `MozuClient(applicationKey, sharedSecret, baseAuthUrl)` signs the
application in with the legacy `POST /api/platform/applications/authtickets` and parses the expirations
with `%Y-%m-%dT%H:%M:%S.%fZ`; `ApiContext(tenantId, siteId, tenantUrl)` points its resources at the
service. The SDK lower-cases every address it calls (`/add-account-and-login`, `?refreshtoken=`), which
the service must match as Kibo does, case-insensitively. What the SDK did is then checked over HTTP.

Two quirks of the SDK are handled here rather than worked around in its calls:
* request headers live in one class-level dict shared by every MozuClient (x-vol-tenant, x-vol-site,
  x-vol-user-claims stay set for every later call of every client), so the `shared_headers` fixture
  starts and ends each test with that dict empty;
* a client re-sends the last body it was given, JSON-encoded once more, on every later call that has
  none (GETs and DELETEs included); the service ignores bodies on routes that take none, so this is
  harmless here but grows with each call.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from tests.conftest import Mailbox, ServiceProcess, TenantFixture, assert_kibo_error, bearer, make_tenant, unique

mozurestsdk = pytest.importorskip("mozurestsdk", reason="the test extra installs mozurestsdk (Kibo's Python SDK)")
from mozurestsdk.apicontext import ApiContext  # noqa: E402
from mozurestsdk.apiexception import ApiException  # noqa: E402
from mozurestsdk.commerce.customer.accounts.customercontact import CustomerContact  # noqa: E402
from mozurestsdk.commerce.customer.customeraccount import CustomerAccount  # noqa: E402
from mozurestsdk.commerce.customer.customerauthticket import CustomerAuthTicket  # noqa: E402
from mozurestsdk.mozuclient import MozuClient  # noqa: E402

ACCOUNTS = "/api/commerce/customer/accounts"
TICKETS = "/api/commerce/customer/authtickets"
KIBO_DATE = "%Y-%m-%dT%H:%M:%S.%fZ"  # the format mozurestsdk's authenticators parse


@pytest.fixture
def shared_headers() -> Iterator[dict[str, Any]]:
    """mozurestsdk's one header dict for all clients: empty at the start and end of each test."""
    # The SDK keeps its headers in a private class attribute; the workaround has to reach it.
    shared: dict[str, Any] = MozuClient._MozuClient__headers  # type: ignore[attr-defined]  # noqa: SLF001
    saved = dict(shared)
    shared.clear()
    yield shared
    shared.clear()
    shared.update(saved)


def sdk_error(call, *args: Any) -> ApiException:
    """The ApiException a call raises (it derives from BaseException, so pytest.raises is explicit)."""
    with pytest.raises(ApiException) as raised:
        call(*args)
    return raised.value


def parse_kibo_date(value: str) -> datetime:
    return datetime.strptime(value, KIBO_DATE).replace(tzinfo=UTC)


def check_ticket(ticket: dict[str, Any], account_id: int) -> None:
    """A CustomerAuthTicket as the SDK hands it back, with dates its own format reads."""
    assert ticket["accessToken"] and ticket["refreshToken"] and ticket["jwtAccessToken"] and ticket["userId"], ticket
    assert ticket["requires2FA"] is False
    assert ticket["customerAccount"]["id"] == account_id
    now = datetime.now(UTC)
    assert now < parse_kibo_date(ticket["accessTokenExpiration"]) <= parse_kibo_date(ticket["refreshTokenExpiration"])


async def test_mozurestsdk_drives_app_auth_accounts_tickets_and_contacts(
    client: httpx.AsyncClient,
    platform_headers: dict[str, str],
    service: ServiceProcess,
    mailbox: Mailbox,
    shared_headers: dict[str, Any],
) -> None:
    tenant: TenantFixture = await make_tenant(client, platform_headers)

    # --- application: the legacy ticket at construction, refresh, tenant lookup --------------------------
    mozu = MozuClient(applicationKey=tenant.client_id, sharedSecret=tenant.client_secret, baseAuthUrl=service.base_url)
    app_ticket = dict(mozu.appAuth.auth)
    now = datetime.now(UTC)
    assert (
        now
        < parse_kibo_date(app_ticket["accessTokenExpiration"])
        < parse_kibo_date(app_ticket["refreshTokenExpiration"])
    )
    assert mozu.appAuth.getAccessToken() == app_ticket["accessToken"]  # not yet due: no refresh
    mozu.appAuth.refreshAuth()  # PUT .../authtickets/refresh-ticket with the refresh token
    assert mozu.appAuth.auth["accessToken"] != app_ticket["accessToken"]
    assert mozu.appAuth.auth["refreshToken"] != app_ticket["refreshToken"]
    stale = await client.get(
        f"/api/platform/tenants/{tenant.id}", headers={"x-vol-app-claims": app_ticket["accessToken"]}
    )
    assert_kibo_error(stale, 401, "INVALID_APP_TOKEN")  # a refresh retires the whole earlier ticket
    # getTenant is what the SDK calls when a context has no tenantUrl (its getTenantUrl then builds
    # https://{domain}, ignoring baseAuthUrl's scheme: so the tests pass tenantUrl instead).
    kibo_tenant = mozu.getTenant(tenant.id)
    assert kibo_tenant["id"] == tenant.id and [s["id"] for s in kibo_tenant["sites"]] == [tenant.default_site_id]
    assert kibo_tenant["domain"] == service.base_url.removeprefix("http://")

    # Ids as strings, as the SDK's config files give them: it copies them into headers unchanged, and
    # requests refuses non-string header values.
    context = ApiContext(tenantId=str(tenant.id), siteId=str(tenant.default_site_id), tenantUrl=service.base_url)
    accounts = CustomerAccount(context, mozu)
    tickets = CustomerAuthTicket(context, mozu)
    contacts = CustomerContact(context, mozu)
    assert (shared_headers["x-vol-tenant"], shared_headers["x-vol-site"]) == (
        str(tenant.id),
        str(tenant.default_site_id),
    )

    tag = unique("mozu")
    password, new_password = f"mozu first password {tag}", f"mozu second password {tag}"

    # --- accounts ---------------------------------------------------------------------------------------
    ada = accounts.addAccount(
        {
            "emailAddress": f"ada.{tag}@example.com",
            "firstName": "Ada",
            "lastName": tag,
            "externalId": f"{tag}-ada",
            "contacts": [
                {
                    "firstName": "Ada",
                    "types": [{"name": "Billing", "isPrimary": True}],
                    "address": {"cityOrTown": "London", "countryCode": "GB"},
                }
            ],
        }
    )
    assert (
        isinstance(ada["id"], int)
        and ada["emailAddress"] == f"ada.{tag}@example.com"
        and ada["customerSet"] == "default"
    )
    parse_kibo_date(ada["auditInfo"]["createDate"])
    assert accounts.getAccount(ada["id"], responseFields="id,firstName") == {"id": ada["id"], "firstName": "Ada"}

    # Create-Login on the new account: a login, and the customer logged in (C3).
    created = accounts.addLoginToExistingCustomer(
        {"emailAddress": ada["emailAddress"], "username": f"ada.{tag}", "password": password}, ada["id"]
    )
    check_ticket(created, ada["id"])
    assert created["customerAccount"]["userName"] == f"ada.{tag}"

    # Add-Account-And-Login: the SDK posts to /add-account-and-login (C2).
    bert_ticket = accounts.addAccountAndLogin(
        {
            "account": {
                "emailAddress": f"bert.{tag}@example.com",
                "userName": f"bert.{tag}",
                "firstName": "Bert",
                "lastName": tag,
            },
            "password": password,
            "isImport": False,
        },
        responseFields="accessToken,accessTokenExpiration,refreshToken,refreshTokenExpiration,jwtAccessToken,userId,requires2FA,customerAccount(id,userName)",
    )
    bert_id = bert_ticket["customerAccount"]["id"]
    check_ticket(bert_ticket, bert_id)
    assert bert_ticket["customerAccount"] == {"id": bert_id, "userName": f"bert.{tag}"}

    bulk = accounts.addAccounts(
        [
            {
                "account": {"emailAddress": f"cleo.{tag}@example.com", "firstName": "Cleo", "lastName": tag},
                "password": password,
            }
        ]
    )
    assert bulk["totalCount"] == 1 and bulk["items"][0]["firstName"] == "Cleo"
    cleo_id = bulk["items"][0]["id"]

    # getAccounts with filter, paging and sorting; the query names arrive lower-cased.
    page = accounts.getAccounts(startIndex=1, pageSize=2, sortBy="firstName asc", filter=f"lastName eq '{tag}'")
    assert (page["startIndex"], page["pageSize"], page["pageCount"], page["totalCount"]) == (1, 2, 2, 3), page
    assert [a["firstName"] for a in page["items"]] == ["Bert", "Cleo"]
    first = accounts.getAccounts(
        startIndex=0, pageSize=1, sortBy="firstName desc", filter=f"lastName eq '{tag}' and firstName ne 'Bert'"
    )
    assert [a["firstName"] for a in first["items"]] == ["Cleo"] and first["totalCount"] == 2
    # Not getAccounts(responseFields=...): an SDK bug loses it. Its MozuUrl.formatUrl("fields", None) strips
    # every "fields=" from the address, the one inside "responsefields=" included, leaving "&response".
    by_email = accounts.getAccounts(filter=f"emailAddress eq 'BERT.{tag}@example.com'")
    assert by_email["totalCount"] == 1 and [a["id"] for a in by_email["items"]] == [bert_id]
    quick = accounts.getAccounts(q=tag, pageSize=200, sortBy="firstName")
    assert [a["firstName"] for a in quick["items"]] == ["Ada", "Bert", "Cleo"]

    updated = accounts.updateAccount({**accounts.getAccount(ada["id"]), "firstName": "Augusta"}, ada["id"])
    assert updated["firstName"] == "Augusta" and updated["lastName"] == tag

    # --- customer auth tickets: login, refresh (C A1, A2) ---------------------------------------------------
    login = tickets.createUserAuthTicket({"username": f"bert.{tag}", "password": password})
    check_ticket(login, bert_id)
    assert login["customerAccount"]["emailAddress"] == f"bert.{tag}@example.com"
    by_email_login = tickets.createUserAuthTicket({"username": f"BERT.{tag}@EXAMPLE.COM", "password": password})
    check_ticket(by_email_login, bert_id)
    wrong = sdk_error(tickets.createUserAuthTicket, {"username": f"bert.{tag}", "password": "not the password"})
    assert wrong.statusCode == 401 and wrong.errorCode and wrong.message and wrong.correlationId

    # The SDK sends PUT .../refresh?refreshtoken=<token>: the name lower-cased, the token as issued.
    refreshed = tickets.refreshUserAuthTicket(login["refreshToken"])
    check_ticket(refreshed, bert_id)
    assert refreshed["refreshToken"] != login["refreshToken"] and refreshed["accessToken"] != login["accessToken"]
    trimmed = tickets.refreshUserAuthTicket(refreshed["refreshToken"], responseFields="userId,customerAccount(id)")
    assert trimmed == {"userId": login["userId"], "customerAccount": {"id": bert_id}}
    spent = sdk_error(tickets.refreshUserAuthTicket, "not-a-refresh-token")
    assert spent.statusCode == 401 and spent.errorCode

    # The customer's own call with the SDK's user claim (x-vol-user-claims next to x-vol-app-claims):
    # the SDK has no route for it, but its header is the one every later call of every client sends.
    mozu.withUserClaim(by_email_login["accessToken"])
    assert shared_headers["x-vol-user-claims"] == by_email_login["accessToken"]
    me = await client.get(
        f"{ACCOUNTS}/current",
        headers={
            "x-vol-app-claims": mozu.appAuth.getAccessToken(),
            "x-vol-user-claims": shared_headers["x-vol-user-claims"],
        },
    )
    assert me.status_code == 200 and me.json()["id"] == bert_id, me.text
    del shared_headers["x-vol-user-claims"]

    # --- contacts ----------------------------------------------------------------------------------------
    home = contacts.addAccountContact(
        {
            "firstName": "Ada",
            "lastNameOrSurname": "Lovelace",
            "label": "home",
            "types": [{"name": "Shipping", "isPrimary": True}],
            "phoneNumbers": {"mobile": "07946 000000"},
            "address": {"address1": "12 St James Square", "cityOrTown": "London", "countryCode": "GB"},
        },
        ada["id"],
    )
    assert isinstance(home["id"], int) and home["accountId"] == ada["id"] and home["label"] == "home"
    listed = contacts.getAccountContacts(ada["id"], startIndex=0, pageSize=1)
    assert (listed["totalCount"], listed["pageCount"], len(listed["items"])) == (2, 2, 1), listed
    got = contacts.getAccountContact(ada["id"], home["id"])
    assert got["phoneNumbers"]["mobile"] == "07946 000000"
    changed = contacts.updateAccountContact(
        {**got, "label": "office", "address": {**got["address"], "cityOrTown": "Cambridge"}}, ada["id"], home["id"]
    )
    assert (changed["id"], changed["label"], changed["address"]["cityOrTown"]) == (home["id"], "office", "Cambridge")
    contacts.deleteAccountContact(ada["id"], home["id"])
    # A 404 that carries x-vol-correlation is "not found" to the SDK: it answers None.
    assert contacts.getAccountContact(ada["id"], home["id"]) is None
    assert contacts.getAccountContacts(ada["id"])["totalCount"] == 1

    # --- passwords and login state -------------------------------------------------------------------------
    state = accounts.getLoginState(bert_id)
    assert (state["isLocked"], state["isPasswordChangeRequired"], state["failedLoginAttemptCount"]) == (
        False,
        False,
        1,
    ), state
    parse_kibo_date(state["createdOn"])
    bad = sdk_error(accounts.changePassword, {"oldPassword": "not the password", "newPassword": new_password}, bert_id)
    assert (bad.statusCode, bad.errorCode) == (400, "INVALID_OLD_PASSWORD")
    accounts.changePassword({"oldPassword": password, "newPassword": new_password}, bert_id)
    assert sdk_error(tickets.createUserAuthTicket, {"username": f"bert.{tag}", "password": password}).statusCode == 401
    check_ticket(tickets.createUserAuthTicket({"username": f"bert.{tag}", "password": new_password}), bert_id)
    # The password change ended every earlier session.
    assert sdk_error(tickets.refreshUserAuthTicket, bert_ticket["refreshToken"]).statusCode == 401

    accounts.setLoginLocked(True, bert_id)
    locked = accounts.getLoginStateByEmailAddress(f"bert.{tag}@example.com")
    assert locked["isLocked"] is True and locked["lastPasswordChangeOn"]
    parse_kibo_date(locked["lastLockedOn"])
    assert (
        sdk_error(tickets.createUserAuthTicket, {"username": f"bert.{tag}", "password": new_password}).statusCode == 401
    )
    accounts.setLoginLocked(False, bert_id)
    accounts.setPasswordChangeRequired(True, bert_id)
    by_name = accounts.getLoginStateByUserName(f"bert.{tag}")
    assert (by_name["isLocked"], by_name["isPasswordChangeRequired"]) == (False, True)
    assert (
        accounts.getLoginStateByUserName(f"bert.{tag}", customerSetCode="default")["isPasswordChangeRequired"] is True
    )
    # An unknown user name is a 404 with x-vol-correlation: None to the SDK.
    assert accounts.getLoginStateByUserName(f"ghost.{tag}") is None

    mails_before = len(mailbox.messages)
    accounts.resetPassword({"emailAddress": f"cleo.{tag}@example.com"})
    assert re.search(
        r"^ {4}\S+", mailbox.wait_for(f"cleo.{tag}@example.com", after=mails_before).get_content(), re.MULTILINE
    )

    accounts.deleteAccount(cleo_id)
    assert accounts.getAccount(cleo_id) is None

    # --- what the SDK did, seen over plain HTTP -----------------------------------------------------------
    h = tenant.app_headers
    assert_kibo_error(await client.get(f"{ACCOUNTS}/{cleo_id}", headers=h), 404, "ACCOUNT_NOT_FOUND")
    augusta = (await client.get(f"{ACCOUNTS}/{ada['id']}", params={"responseGroups": "Contacts"}, headers=h)).json()
    assert (augusta["firstName"], augusta["userName"], [c["firstName"] for c in augusta["contacts"]]) == (
        "Augusta",
        f"ada.{tag}",
        ["Ada"],
    )
    state = (await client.get(f"{ACCOUNTS}/{bert_id}/loginstate", headers=h)).json()
    assert (state["isLocked"], state["isPasswordChangeRequired"]) == (False, True)
    login = await client.post(TICKETS, json={"username": f"bert.{tag}", "password": new_password}, headers=h)
    assert login.status_code == 200, login.text
    assert (await client.get(f"{ACCOUNTS}/current", headers=bearer(login.json()["accessToken"]))).json()[
        "id"
    ] == bert_id
    # The SDK's app ticket is an ordinary one: it ends with DELETE .../authtickets/{refreshToken}.
    assert (
        await client.delete(f"/api/platform/applications/authtickets/{mozu.appAuth.auth['refreshToken']}")
    ).status_code == 204
    assert_kibo_error(
        await client.get(f"{ACCOUNTS}/{bert_id}", headers={"x-vol-app-claims": mozu.appAuth.auth["accessToken"]}), 401
    )


async def test_mozurestsdk_lowercased_addresses_reach_the_same_routes(
    client: httpx.AsyncClient,
    tenant: TenantFixture,
    shared_headers: dict[str, Any],
) -> None:
    """The SDK's lower-cased addresses, and any other casing, reach the routes; values keep their case."""
    h = tenant.app_headers
    email = f"{unique('Case')}@Example.com"
    response = await client.post(
        f"{ACCOUNTS.upper().replace('/API/', '/api/')}/ADD-ACCOUNT-AND-LOGIN",
        headers=h,
        json={"account": {"emailAddress": email, "userName": email}, "password": "case insensitive routes"},
    )
    assert response.status_code == 200, response.text
    ticket = response.json()
    account_id = ticket["customerAccount"]["id"]
    refreshed = await client.put(
        f"{TICKETS}/REFRESH", params={"REFRESHTOKEN": ticket["refreshToken"], "responsefields": "userId"}, headers=h
    )
    assert refreshed.status_code == 200 and refreshed.json() == {"userId": ticket["userId"]}, refreshed.text
    # Query values keep their case: the user name is found as sent, the filter value compared as Kibo does.
    state = await client.post(f"{ACCOUNTS}/LoginStateByUserName", params={"USERNAME": email}, headers=h)
    assert state.status_code == 200, state.text
    listed = await client.get(
        f"{ACCOUNTS}/",
        params={"FILTER": f"userName eq '{email}'", "pagesize": "1", "RESPONSEFIELDS": "items(userName)"},
        headers=h,
    )
    assert listed.json() == {"items": [{"userName": email}]}, listed.text
    assert (await client.get(f"{ACCOUNTS}/{account_id}/LOGINSTATE", headers=h)).status_code == 200
    # Path parameters are never rewritten: the app's refresh token (mixed case) is ended as sent.
    app_ticket = (
        await client.post(
            "/api/platform/applications/authtickets",
            json={"applicationId": tenant.client_id, "sharedSecret": tenant.client_secret},
        )
    ).json()
    assert app_ticket["refreshToken"] != app_ticket["refreshToken"].lower()
    ended = await client.delete(f"/api/Platform/Applications/AUTHTICKETS/{app_ticket['refreshToken']}")
    assert ended.status_code == 204, ended.text
    refresh = await client.put(
        "/api/platform/applications/authtickets/Refresh-Ticket", json={"refreshToken": app_ticket["refreshToken"]}
    )
    assert_kibo_error(refresh, 401)
    # Unknown addresses stay unknown, whatever their case.
    assert_kibo_error(await client.post("/api/commerce/customer/add-account-and-login", json={}, headers=h), 404)
    assert_kibo_error(await client.post(f"{ACCOUNTS}/1/create-login/extra", json={}, headers=h), 404)
