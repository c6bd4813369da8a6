"""Kibo customer accounts over HTTP: CRUD, lists and filters, logins, passwords, isolation, audit."""

from __future__ import annotations

import asyncio
import re

import httpx
import pytest

from tests.conftest import Mailbox, TenantFixture, assert_kibo_error, assert_problem, make_tenant, unique

ACCOUNTS = "/api/commerce/customer/accounts"
MAGENTO_LIKE_PASSWORD_POLICY = {"password": {"minLength": 8, "requiredCharacterClasses": 3, "rejectCommon": False}}


def email_for(prefix: str = "shopper") -> str:
    return f"{unique(prefix)}@example.com"


async def create_account(client: httpx.AsyncClient, tenant: TenantFixture, **fields: object) -> dict:
    body = {"emailAddress": email_for(), "firstName": "Ada", "lastName": "Lovelace", **fields}
    response = await client.post(ACCOUNTS, json=body, headers=tenant.app_headers)
    assert response.status_code == 201, response.text
    return response.json()


async def create_with_login(
    client: httpx.AsyncClient, tenant: TenantFixture, password: str = "correct horse battery", **fields: object
) -> dict:
    account = {"emailAddress": email_for(), "firstName": "Grace", **fields}
    response = await client.post(
        f"{ACCOUNTS}/Bulk", json=[{"account": account, "password": password}], headers=tenant.app_headers
    )
    assert response.status_code == 201, response.text
    return response.json()["items"][0]


async def test_account_crud(client: httpx.AsyncClient, tenant: TenantFixture) -> None:
    created = await create_account(
        client,
        tenant,
        externalId="ext-1",
        acceptsMarketing=True,
        contacts=[
            {
                "firstName": "Ada",
                "types": [{"name": "Billing", "isPrimary": True}],
                "address": {"cityOrTown": "London", "countryCode": "GB"},
            }
        ],
        auditInfo={"createBy": "forged"},
        id=999999,
        commerceSummary={"orderCount": 77},
    )
    account_id = created["id"]
    assert isinstance(account_id, int) and account_id != 999999
    assert created["customerSet"] == "default" and created["isActive"] is True and created["isLocked"] is False
    assert created["auditInfo"]["createBy"] == f"app:{tenant.client_id}"
    assert created["commerceSummary"]["orderCount"] == 0
    assert created["contacts"][0]["address"]["cityOrTown"] == "London"

    fetched = (await client.get(f"{ACCOUNTS}/{account_id}", headers=tenant.app_headers)).json()
    assert fetched["emailAddress"] == created["emailAddress"] and fetched["contacts"] == []
    with_contacts = (
        await client.get(f"{ACCOUNTS}/{account_id}?responseGroups=Contacts", headers=tenant.app_headers)
    ).json()
    assert len(with_contacts["contacts"]) == 1

    updated = await client.put(
        f"{ACCOUNTS}/{account_id}", json={**fetched, "firstName": "Augusta"}, headers=tenant.app_headers
    )
    assert updated.status_code == 200 and updated.json()["firstName"] == "Augusta"
    assert updated.json()["lastName"] == "Lovelace"

    trimmed = await client.get(
        f"{ACCOUNTS}/{account_id}?responseFields=id,firstName,auditInfo(createBy)", headers=tenant.app_headers
    )
    assert trimmed.json() == {
        "id": account_id,
        "firstName": "Augusta",
        "auditInfo": {"createBy": f"app:{tenant.client_id}"},
    }
    assert_kibo_error(await client.get(f"{ACCOUNTS}/{account_id}?responseFields=id,(", headers=tenant.app_headers), 400)

    assert (await client.delete(f"{ACCOUNTS}/{account_id}", headers=tenant.app_headers)).status_code == 204
    assert_kibo_error(
        await client.get(f"{ACCOUNTS}/{account_id}", headers=tenant.app_headers), 404, "ACCOUNT_NOT_FOUND"
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"emailAddress": 5}, "emailAddress"),
        ({"emailAddress": "not-an-email"}, "emailAddress"),
        ({"firstName": "x" * 101}, "firstName"),
        ({"favouriteColour": "red"}, None),
        ({"contacts": [{"types": [{"name": "Holiday"}]}]}, None),
        ({"isActive": "yes"}, None),
    ],
)
async def test_account_bad_input(
    client: httpx.AsyncClient, tenant: TenantFixture, body: dict, field: str | None
) -> None:
    response = await client.post(ACCOUNTS, json={"emailAddress": email_for(), **body}, headers=tenant.app_headers)
    error = assert_kibo_error(response, 400)
    if field:
        assert field in response.text
    assert error["applicationName"] == "Gatehouse"


async def test_email_is_unique_per_customer_set_case_insensitively(
    client: httpx.AsyncClient, tenant: TenantFixture
) -> None:
    address = email_for("dup")
    await create_account(client, tenant, emailAddress=address)
    again = await client.post(ACCOUNTS, json={"emailAddress": "  " + address.upper() + " "}, headers=tenant.app_headers)
    assert_kibo_error(again, 409, "EMAIL_TAKEN")


async def test_concurrent_creation_with_one_email_leaves_one_account(
    client: httpx.AsyncClient, tenant: TenantFixture
) -> None:
    address = email_for("race")
    responses = await asyncio.gather(
        *(client.post(ACCOUNTS, json={"emailAddress": address}, headers=tenant.app_headers) for _ in range(20))
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [409] * 19, statuses
    listed = await client.get(ACCOUNTS, params={"filter": f"emailAddress eq '{address}'"}, headers=tenant.app_headers)
    assert listed.json()["totalCount"] == 1


async def test_list_filter_sort_and_paging(client: httpx.AsyncClient, tenant: TenantFixture) -> None:
    tag = unique("grp")
    for name in ("Anna", "Bert", "Cleo", "Dora"):
        await create_account(client, tenant, firstName=name, lastName=tag, externalId=f"{tag}-{name}")
    h = tenant.app_headers

    async def ids(params: dict) -> list[str]:
        response = await client.get(ACCOUNTS, params=params, headers=h)
        assert response.status_code == 200, response.text
        return [a["firstName"] for a in response.json()["items"]]

    assert await ids({"filter": f"lastName eq '{tag}'", "sortBy": "firstName desc"}) == ["Dora", "Cleo", "Bert", "Anna"]
    assert await ids({"filter": f"lastName eq '{tag}' and firstName sw 'C'"}) == ["Cleo"]
    assert await ids(
        {"filter": f"lastName eq '{tag}' and (firstName eq 'Anna')".replace("(", "").replace(")", "")}
    ) == ["Anna"]
    assert await ids({"filter": f"externalId cont '{tag}-B' or externalId eq '{tag}-Dora'"}) == ["Bert", "Dora"]
    assert await ids(
        {"filter": f"lastName eq '{tag}' and isLocked eq false and firstName ne 'Anna'", "sortBy": "firstName asc"}
    ) == ["Bert", "Cleo", "Dora"]
    assert await ids({"q": tag, "sortBy": "firstName asc"}) == ["Anna", "Bert", "Cleo", "Dora"]

    page = (
        await client.get(
            ACCOUNTS,
            params={"filter": f"lastName eq '{tag}'", "startIndex": 1, "pageSize": 2, "sortBy": "firstName"},
            headers=h,
        )
    ).json()
    assert [a["firstName"] for a in page["items"]] == ["Bert", "Cleo"]
    assert (page["startIndex"], page["pageSize"], page["pageCount"], page["totalCount"]) == (1, 2, 2, 4)

    # Wildcards in values are data, not patterns.
    assert await ids({"filter": f"lastName sw '{tag[:3]}%'"}) == []


@pytest.mark.parametrize(
    "params",
    [
        {"filter": "lastName eq"},
        {"filter": "shoeSize eq 4"},
        {"filter": "firstName like 'A'"},
        {"filter": "id eq abc"},
        {"filter": "id gt 99999999999"},
        {"filter": "firstName eq 'A' xor id eq 1"},
        {"filter": "id sw '1'"},
        {"filter": "firstName eq 'unterminated"},
        {"filter": "customerSinceDate gt yesterday"},
        {"filter": "lastName eq 'x'; DROP TABLE customer_accounts; --"},
        {"sortBy": "password desc"},
        {"sortBy": "firstName sideways"},
        {"pageSize": 201},
        {"startIndex": -1},
    ],
)
async def test_bad_list_queries_are_400(client: httpx.AsyncClient, tenant: TenantFixture, params: dict) -> None:
    response = await client.get(ACCOUNTS, params=params, headers=tenant.app_headers)
    assert_kibo_error(response, 400)


async def test_tenant_isolation_and_behaviors(
    client: httpx.AsyncClient, platform_headers, tenant: TenantFixture
) -> None:
    other = await make_tenant(client, platform_headers)
    account = await create_account(client, tenant)
    for method, path in (("GET", ""), ("PUT", ""), ("DELETE", ""), ("GET", "/contacts"), ("GET", "/loginstate")):
        response = await client.request(
            method, f"{ACCOUNTS}/{account['id']}{path}", json={} if method == "PUT" else None, headers=other.app_headers
        )
        assert_kibo_error(response, 404)
    listed = await client.get(ACCOUNTS, params={"filter": f"id eq {account['id']}"}, headers=other.app_headers)
    assert listed.json()["totalCount"] == 0

    reader = await make_tenant(client, platform_headers, behaviors=["customer:accounts:read"])
    assert (await client.get(ACCOUNTS, headers=reader.app_headers)).status_code == 200
    assert_kibo_error(
        await client.post(ACCOUNTS, json={"emailAddress": email_for()}, headers=reader.app_headers),
        403,
        "MISSING_BEHAVIOR",
    )
    nobody = await make_tenant(client, platform_headers, behaviors=[])
    assert_kibo_error(await client.get(ACCOUNTS, headers=nobody.app_headers), 403, "MISSING_BEHAVIOR")
    assert_kibo_error(await client.get(ACCOUNTS), 401)


async def test_customer_sets_separate_accounts(client: httpx.AsyncClient, tenant: TenantFixture) -> None:
    base = f"/admin/v1/tenants/{tenant.id}"
    await client.post(
        f"{base}/customer-sets", json={"code": "wholesale", "name": "Wholesale"}, headers=tenant.admin_headers
    )
    site = await client.post(
        f"{base}/sites",
        json={"code": "trade", "name": "Trade", "customerSetCode": "wholesale"},
        headers=tenant.admin_headers,
    )
    site_headers = {**tenant.app_headers, "x-vol-site": str(site.json()["id"])}
    address = email_for("shared")
    await create_account(client, tenant, emailAddress=address)
    other_set = await client.post(ACCOUNTS, json={"emailAddress": address}, headers=site_headers)
    assert other_set.status_code == 201 and other_set.json()["customerSet"] == "wholesale"
    listed = await client.get(ACCOUNTS, params={"filter": f"emailAddress eq '{address}'"}, headers=site_headers)
    assert [a["id"] for a in listed.json()["items"]] == [other_set.json()["id"]]


async def test_contacts(client: httpx.AsyncClient, tenant: TenantFixture) -> None:
    account = await create_account(client, tenant)
    url = f"{ACCOUNTS}/{account['id']}/contacts"
    h = tenant.app_headers
    first = await client.post(
        url,
        json={
            "firstName": "Ada",
            "types": [{"name": "Billing", "isPrimary": True}, {"name": "Shipping", "isPrimary": True}],
            "phoneNumbers": {"mobile": "+44 20 7946 0000"},
            "address": {"address1": "1 Main St", "countryCode": "GB"},
        },
        headers=h,
    )
    assert first.status_code == 201, first.text
    bulk = await client.put(
        url,
        json=[
            {"firstName": "Bob", "types": [{"name": "billing", "isPrimary": True}]},
            {"firstName": "Cy", "types": [{"name": "Shipping", "isPrimary": False}]},
        ],
        headers=h,
    )
    assert bulk.status_code == 200 and bulk.json()["totalCount"] == 2
    contacts = (await client.get(url, headers=h)).json()
    assert contacts["totalCount"] == 3
    primaries = {(c["firstName"], t["name"]) for c in contacts["items"] for t in c["types"] if t["isPrimary"]}
    assert primaries == {("Bob", "Billing"), ("Ada", "Shipping")}  # the newest primary Billing replaced Ada's

    contact_id = first.json()["id"]
    replaced = await client.put(
        f"{url}/{contact_id}", json={"firstName": "Ada", "label": "home", "types": []}, headers=h
    )
    assert replaced.json()["label"] == "home" and replaced.json()["types"] == []
    assert (await client.get(f"{url}/{contact_id}", headers=h)).json()["phoneNumbers"]["mobile"] is None
    assert_kibo_error(
        await client.put(url, json=[{"types": [{"name": "Billing"}, {"name": "Billing"}]}], headers=h), 400
    )
    assert (await client.delete(f"{url}/{contact_id}", headers=h)).status_code == 204
    assert_kibo_error(await client.get(f"{url}/{contact_id}", headers=h), 404, "CONTACT_NOT_FOUND")


async def test_concurrent_primaries_keep_one(client: httpx.AsyncClient, tenant: TenantFixture) -> None:
    account = await create_account(client, tenant)
    url = f"{ACCOUNTS}/{account['id']}/contacts"
    body = {"types": [{"name": "Shipping", "isPrimary": True}]}
    responses = await asyncio.gather(*(client.post(url, json=body, headers=tenant.app_headers) for _ in range(8)))
    assert all(r.status_code in (201, 409) for r in responses), [r.text for r in responses]
    items = (await client.get(url, headers=tenant.app_headers)).json()["items"]
    assert sum(t["isPrimary"] for c in items for t in c["types"]) == 1


async def test_password_policy(client: httpx.AsyncClient, tenant: TenantFixture) -> None:
    async def bulk(password: str) -> httpx.Response:
        return await client.post(
            f"{ACCOUNTS}/Bulk",
            json=[{"account": {"emailAddress": email_for()}, "password": password}],
            headers=tenant.app_headers,
        )

    assert "at least 8" in assert_kibo_error(await bulk("short"), 400, "PASSWORD_POLICY")["message"]
    assert "common" in assert_kibo_error(await bulk("Password1"), 400, "PASSWORD_POLICY")["message"]
    assert (await bulk("ünïcødé-pässwörd-🔑")).status_code == 201
    await client.put(
        f"/admin/v1/tenants/{tenant.id}/settings", json=MAGENTO_LIKE_PASSWORD_POLICY, headers=tenant.admin_headers
    )
    assert (await bulk("Password1")).status_code == 201  # the seeds' password, for a Magento-like tenant
    assert "mix at least 3" in assert_kibo_error(await bulk("alllowercase"), 400)["message"]


async def test_change_password_and_login_state(client: httpx.AsyncClient, tenant: TenantFixture) -> None:
    account = await create_with_login(client, tenant, password="first password 1")
    url = f"{ACCOUNTS}/{account['id']}"
    h = tenant.app_headers
    assert account["userId"] and re.fullmatch(r"[0-9a-f]{32}", account["userId"])
    wrong = await client.post(
        f"{url}/Change-Password", json={"oldPassword": "nope", "newPassword": "second password 2"}, headers=h
    )
    assert_kibo_error(wrong, 400, "INVALID_OLD_PASSWORD")

    assert (await client.post(f"{url}/Set-Login-Locked", json=True, headers=h)).status_code == 204
    state = (await client.get(f"{url}/loginstate", headers=h)).json()
    assert state["isLocked"] is True and state["lastLockedOn"] and state["remainingLoginAttempts"] == 0
    assert_kibo_error(await client.post(f"{url}/Set-Login-Locked", json="yes", headers=h), 400)

    changed = await client.post(
        f"{url}/Change-Password?unlockAccount=true",
        json={"oldPassword": "first password 1", "newPassword": "second password 2"},
        headers=h,
    )
    assert changed.status_code == 204
    by_email = await client.post(
        f"{ACCOUNTS}/loginstatebyemailaddress", params={"emailAddress": account["emailAddress"].upper()}, headers=h
    )
    assert by_email.json()["isLocked"] is False

    assert (await client.post(f"{url}/Set-Password-Change-Required", json=True, headers=h)).status_code == 204
    assert (await client.get(f"{url}/loginstate", headers=h)).json()["isPasswordChangeRequired"] is True
    assert_kibo_error(
        await client.post(f"{ACCOUNTS}/loginstatebyusername", params={"userName": unique("ghost")}, headers=h), 404
    )
    no_login = await create_account(client, tenant)
    assert_kibo_error(await client.get(f"{ACCOUNTS}/{no_login['id']}/loginstate", headers=h), 404, "LOGIN_NOT_FOUND")


async def test_reset_password_by_email_code(client: httpx.AsyncClient, tenant: TenantFixture, mailbox: Mailbox) -> None:
    account = await create_with_login(client, tenant, password="old password 11")
    h = tenant.app_headers
    before = len(mailbox.messages)
    known = await client.post(f"{ACCOUNTS}/Reset-Password", json={"emailAddress": account["emailAddress"]}, headers=h)
    unknown = await client.post(f"{ACCOUNTS}/Reset-Password", json={"emailAddress": email_for("nobody")}, headers=h)
    assert known.status_code == unknown.status_code == 204 and known.content == unknown.content == b""
    message = mailbox.wait_for(account["emailAddress"], after=before)
    code = re.search(r"^ {4}(\S+)", message.get_content(), re.MULTILINE).group(1)

    wrong = await client.post(
        f"{ACCOUNTS}/Update-Forgotten-Password",
        json={"userName": account["emailAddress"], "confirmationCode": "guess", "newPassword": "new password 22"},
        headers=h,
    )
    assert_kibo_error(wrong, 400, "INVALID_CONFIRMATION_CODE")
    ok = await client.post(
        f"{ACCOUNTS}/Update-Forgotten-Password",
        json={"userName": account["emailAddress"], "confirmationCode": code, "newPassword": "new password 22"},
        headers=h,
    )
    assert ok.status_code == 204, ok.text
    replay = await client.post(
        f"{ACCOUNTS}/Update-Forgotten-Password",
        json={"userName": account["emailAddress"], "confirmationCode": code, "newPassword": "new password 33"},
        headers=h,
    )
    assert_kibo_error(replay, 400, "INVALID_CONFIRMATION_CODE")
    changed = await client.post(
        f"{ACCOUNTS}/{account['id']}/Change-Password",
        json={"oldPassword": "new password 22", "newPassword": "third password 44"},
        headers=h,
    )
    assert changed.status_code == 204
    assert len(mailbox.sent_to(account["emailAddress"])) == 1


async def test_account_audit_trail(
    client: httpx.AsyncClient, tenant: TenantFixture, other_tenant: TenantFixture
) -> None:
    account = await create_account(client, tenant)
    await client.put(f"{ACCOUNTS}/{account['id']}", json={"lastName": "Byron"}, headers=tenant.app_headers)
    url = f"/admin/v1/tenants/{tenant.id}/accounts/{account['id']}/audit-events"
    events = (await client.get(url, headers=tenant.viewer_headers)).json()
    assert [e["action"] for e in events] == ["account.updated", "account.created"]
    assert events[0]["actor"] == f"app:{tenant.client_id}" and events[0]["details"] == {"changed": ["last_name"]}
    assert events[0]["clientIp"] == "127.0.0.1" and events[0]["requestId"]
    assert_problem(await client.get(url, headers=other_tenant.admin_headers), 404)


async def test_customer_since_date_given_at_creation_is_kept_and_filters(
    client: httpx.AsyncClient, tenant: TenantFixture
) -> None:
    """Imports bring the date the shop first knew a customer: it is stored, returned and filtered on."""
    email = f"{unique('since')}@example.com"
    created = await client.post(
        ACCOUNTS,
        json={"emailAddress": email, "customerSinceDate": "2019-05-01T10:00:00.000Z"},
        headers=tenant.app_headers,
    )
    assert created.status_code == 201, created.text
    assert created.json()["customerSinceDate"] == "2019-05-01T10:00:00.000Z"
    found = await client.get(
        ACCOUNTS, params={"filter": "customerSinceDate lt 2020-01-01T00:00:00Z"}, headers=tenant.app_headers
    )
    assert [a["emailAddress"] for a in found.json()["items"]] == [email]
    # An update that leaves the date out keeps it.
    updated = await client.put(
        f"{ACCOUNTS}/{created.json()['id']}", json={"firstName": "Ada"}, headers=tenant.app_headers
    )
    assert updated.json()["customerSinceDate"] == "2019-05-01T10:00:00.000Z"


def refused_field(response: httpx.Response) -> str:
    """The field an UNSUPPORTED_FIELD answer names."""
    error = assert_kibo_error(response, 400, "UNSUPPORTED_FIELD")
    assert len(error["items"]) == 1 and error["items"][0]["name"] in error["message"], error
    return error["items"][0]["name"]


async def test_account_fields_gatehouse_would_drop_are_refused_by_name(
    client: httpx.AsyncClient, tenant: TenantFixture
) -> None:
    h = tenant.app_headers
    refused = {
        "notes": [{"content": "call back"}],
        "attributes": [{"fullyQualifiedName": "tenant~vip", "values": [True]}],
        "segments": [{"id": 1}],
        "customerSet": "wholesale",
        "isLocked": True,  # a new login is unlocked
    }
    for field, value in refused.items():
        response = await client.post(ACCOUNTS, json={"emailAddress": email_for(), field: value}, headers=h)
        assert refused_field(response) == field
    # What Gatehouse shows is accepted back.
    await create_account(client, tenant, notes=[], attributes=[], segments=[], customerSet="default", isLocked=False)

    bulk = [{"account": {"emailAddress": email_for()}, "password": "correct horse battery"}]
    for extra, field in [
        ({"externalPassword": "$2y$10$abc"}, "[1].externalPassword"),
        ({"isImport": True}, "[1].isImport"),
        ({"fingerprint": "device-1"}, "[1].fingerprint"),
        ({"region": "eu"}, "[1].region"),
        ({"authTicketDurationMinutes": 5}, "[1].authTicketDurationMinutes"),
        ({"refreshTokenDurationMinutes": 60}, "[1].refreshTokenDurationMinutes"),
        ({"account": {"emailAddress": email_for(), "segments": [{"id": 2}]}}, "[1].account.segments"),
    ]:
        response = await client.post(f"{ACCOUNTS}/Bulk", json=[*bulk, {**bulk[0], **extra}], headers=h)
        assert refused_field(response) == field
    # Every item is checked before the first is created.
    listed = await client.get(
        ACCOUNTS, params={"filter": f"emailAddress eq '{bulk[0]['account']['emailAddress']}'"}, headers=h
    )
    assert listed.json()["totalCount"] == 0
    assert (await client.post(f"{ACCOUNTS}/Bulk", json=[{**bulk[0], "isImport": False}], headers=h)).status_code == 201

    account = await create_with_login(client, tenant)
    change = await client.post(
        f"{ACCOUNTS}/{account['id']}/Change-Password",
        json={"oldPassword": "correct horse battery", "newPassword": "another horse battery", "externalPassword": "x"},
        headers=h,
    )
    assert refused_field(change) == "externalPassword"


async def test_update_takes_back_what_get_shows_and_refuses_other_locks_and_contacts(
    client: httpx.AsyncClient, tenant: TenantFixture
) -> None:
    h = tenant.app_headers
    account = await create_with_login(
        client, tenant, contacts=[{"firstName": "Ada", "types": [{"name": "Billing", "isPrimary": True}]}]
    )
    url = f"{ACCOUNTS}/{account['id']}"
    shown = (await client.get(f"{url}?responseGroups=Contacts", headers=h)).json()
    echoed = await client.put(url, json={**shown, "firstName": "Augusta"}, headers=h)
    assert echoed.status_code == 200 and echoed.json()["firstName"] == "Augusta", echoed.text

    contact = shown["contacts"][0]
    for contacts in (
        [{**contact, "address": {**contact["address"], "cityOrTown": "Paris"}}],
        [{**contact, "types": []}],
        [contact, {"firstName": "New"}],
    ):
        assert refused_field(await client.put(url, json={**shown, "contacts": contacts}, headers=h)) == "contacts"
    assert refused_field(await client.put(url, json={"isLocked": True}, headers=h)) == "isLocked"
    assert (await client.post(f"{url}/Set-Login-Locked", json=True, headers=h)).status_code == 204
    assert (await client.put(url, json={"isLocked": True, "lastName": "Byron"}, headers=h)).status_code == 200
    assert refused_field(await client.put(url, json={"isLocked": False}, headers=h)) == "isLocked"


async def test_a_get_body_sent_back_changes_nothing(client: httpx.AsyncClient, tenant: TenantFixture) -> None:
    """customerSinceDate is shown to the millisecond and kept to the millisecond: the echo is no change."""
    account = await create_account(client, tenant)
    shown = (await client.get(f"{ACCOUNTS}/{account['id']}", headers=tenant.app_headers)).json()
    echoed = await client.put(f"{ACCOUNTS}/{account['id']}", json=shown, headers=tenant.app_headers)
    assert echoed.json()["customerSinceDate"] == shown["customerSinceDate"]
    url = f"/admin/v1/tenants/{tenant.id}/accounts/{account['id']}/audit-events"
    events = (await client.get(url, headers=tenant.viewer_headers)).json()
    assert events[0]["action"] == "account.updated" and events[0]["details"] == {"changed": []}, events[0]
