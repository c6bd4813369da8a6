"""Kibo's own REST SDK (npm `@kibocommerce/rest-sdk`, run under node) against the customer-account and
auth-ticket APIs.

tests/kibo_sdk/accounts.mjs makes every CustomerAccountApi call the service serves, and
tests/kibo_sdk/authtickets.mjs every StorefrontAuthTicketApi call (login, refresh, two-factor and
passwordless sign-in); both check the answers themselves. These tests install the pinned SDK from
tests/kibo_sdk/package-lock.json when needed, run the scripts (passing them the codes the mailbox
received), and then check over plain HTTP that what the SDK did really happened.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import httpx
import jwt
import pytest

from tests.conftest import Mailbox, ServiceProcess, TenantFixture, assert_kibo_error, bearer, make_tenant, unique

SDK_DIR = Path(__file__).resolve().parent / "kibo_sdk"
SDK_PACKAGE = "@kibocommerce/rest-sdk"
ACCOUNTS = "/api/commerce/customer/accounts"
TICKETS = "/api/commerce/customer/authtickets"


def _node_tools() -> tuple[str, str]:
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        pytest.skip("node and npm are needed to run Kibo's JavaScript SDK (tests/kibo_sdk); install Node.js 18+")
    version = subprocess.run([node, "--version"], capture_output=True, text=True, check=True).stdout.strip()
    if int(version.lstrip("v").split(".")[0]) < 18:
        pytest.skip(f"node {version} is too old for tests/kibo_sdk; install Node.js 18+")
    return node, npm


def _install_sdk(npm: str) -> None:
    """`npm ci` from the committed lockfile unless the pinned SDK version is already installed."""
    pinned = json.loads((SDK_DIR / "package.json").read_text())["dependencies"][SDK_PACKAGE]
    installed = SDK_DIR / "node_modules" / SDK_PACKAGE / "package.json"
    if installed.exists() and json.loads(installed.read_text())["version"] == pinned:
        return
    result = subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund"],
        cwd=SDK_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,  # the assertion below shows npm's output
    )
    assert result.returncode == 0, f"npm ci failed in {SDK_DIR}:\n{result.stdout}\n{result.stderr}"


async def _run_script(node: str, command: str, settings: dict[str, str], script: str = "accounts.mjs") -> dict:
    env = {**os.environ, **{f"KIBO_{name}": value for name, value in settings.items()}}
    result = await asyncio.to_thread(
        subprocess.run,
        [node, script, command],
        cwd=SDK_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    lines = result.stdout.strip().splitlines()
    assert lines, f"no output from {script} {command} (exit {result.returncode}):\n{result.stderr}"
    summary = json.loads(lines[-1])
    assert result.returncode == 0 and summary["ok"], (
        f"{script} {command} failed (exit {result.returncode}): {summary.get('error')}\n"
        f"calls: {summary.get('calls')}\nstderr: {result.stderr}"
    )
    return summary


async def _sdk_tenant(
    client: httpx.AsyncClient, platform_headers: dict[str, str], service: ServiceProcess
) -> tuple[str, TenantFixture, dict[str, str]]:
    """node, a fresh tenant, and the scripts' settings for it (its app token as the SDK's accessToken)."""
    node, npm = _node_tools()
    await asyncio.to_thread(_install_sdk, npm)
    tenant: TenantFixture = await make_tenant(client, platform_headers)
    token = tenant.app_headers["Authorization"].removeprefix("Bearer ")
    settings = {
        "API_HOST": service.base_url,
        "TENANT_ID": str(tenant.id),
        "SITE_ID": str(tenant.default_site_id),
        "ACCESS_TOKEN": token,
    }
    return node, tenant, settings


def _mailed_code(mailbox: Mailbox, to: str, after: int) -> str:
    message = mailbox.wait_for(to, after=after)
    return re.search(r"^ {4}(\S+)", message.get_content(), re.MULTILINE).group(1)


async def test_kibo_rest_sdk_drives_the_accounts_api(
    client: httpx.AsyncClient, platform_headers: dict[str, str], service: ServiceProcess, mailbox: Mailbox
) -> None:
    node, tenant, settings = await _sdk_tenant(client, platform_headers, service)
    mails_before = len(mailbox.messages)

    summary = await _run_script(node, "run", settings)

    called = {c["method"] for c in summary["calls"]}
    assert called == {
        "addAccount",
        "getAccount",
        "getAccounts",
        "updateAccount",
        "addAccountContact",
        "addAccountContactList",
        "getAccountContacts",
        "getAccountContact",
        "updateAccountContact",
        "deleteAccountContact",
        "addAccounts",
        "getLoginState",
        "getLoginStateByEmailAddress",
        "getLoginStateByUserName",
        "setLoginLocked",
        "setPasswordChangeRequired",
        "changePassword",
        "resetPassword",
        "deleteAccount",
    }, called
    assert all(c["ok"] for c in summary["calls"]) and summary["checks"] >= 60, summary

    # What the SDK did is really there, seen over plain HTTP.
    h = tenant.app_headers
    assert_kibo_error(
        await client.get(f"{ACCOUNTS}/{summary['deletedAccountId']}", headers=h), 404, "ACCOUNT_NOT_FOUND"
    )
    account_id = summary["account"]["id"]
    account = (await client.get(f"{ACCOUNTS}/{account_id}", headers=h)).json()
    assert (account["emailAddress"], account["firstName"], account["companyOrOrganization"]) == (
        summary["account"]["emailAddress"],
        "Augusta",
        "Analytical Engines Ltd",
    )
    expected = summary["updatedContact"]
    contact = (await client.get(f"{ACCOUNTS}/{account_id}/contacts/{expected['id']}", headers=h)).json()
    assert (contact["label"], contact["firstName"], contact["address"]["cityOrTown"], contact["phoneNumbers"]) == (
        expected["label"],
        expected["firstName"],
        expected["cityOrTown"],
        {"home": None, "mobile": None, "work": expected["work"]},
    )
    assert_kibo_error(
        await client.get(f"{ACCOUNTS}/{account_id}/contacts/{summary['deletedContactId']}", headers=h),
        404,
        "CONTACT_NOT_FOUND",
    )
    assert (await client.get(f"{ACCOUNTS}/{account_id}/contacts", headers=h)).json()["totalCount"] == 3

    login = summary["login"]
    state = (await client.get(f"{ACCOUNTS}/{login['id']}/loginstate", headers=h)).json()
    assert state["isPasswordChangeRequired"] is True and state["isLocked"] is False and state["lastPasswordChangeOn"]

    # resetPassword mailed a code to the real account only; the SDK sets a new password with it.
    code = _mailed_code(mailbox, login["emailAddress"], mails_before)
    assert not [m for m in mailbox.messages[mails_before:] if m["To"].startswith("nobody.")]
    new_password = f"third sdk password {summary['tag']}"
    await _run_script(
        node,
        "update-forgotten-password",
        {
            **settings,
            "USER_NAME": login["userName"],
            "CONFIRMATION_CODE": code,
            "NEW_PASSWORD": new_password,
        },
    )
    stale = await client.post(
        f"{ACCOUNTS}/{login['id']}/Change-Password",
        json={"oldPassword": login["password"], "newPassword": "x" * 20},
        headers=h,
    )
    assert_kibo_error(stale, 400, "INVALID_OLD_PASSWORD")
    fresh = await client.post(
        f"{ACCOUNTS}/{login['id']}/Change-Password",
        json={"oldPassword": new_password, "newPassword": "fourth sdk password"},
        headers=h,
    )
    assert fresh.status_code == 204, fresh.text


async def test_kibo_rest_sdk_logs_customers_in_and_refreshes(
    client: httpx.AsyncClient, platform_headers: dict[str, str], service: ServiceProcess
) -> None:
    node, tenant, settings = await _sdk_tenant(client, platform_headers, service)

    summary = await _run_script(node, "login", settings, "authtickets.mjs")

    assert {c["method"] for c in summary["calls"]} == {
        "addAccountAndLogin",
        "addAccount",
        "addLoginToExistingCustomer",
        "createUserAuthTicket",
        "refreshUserAuthTicket",
        "getCurrentAccount",
        "getAccount",
    }, summary["calls"]
    assert summary["checks"] >= 80, summary
    # The sessions the SDK made are real: the last refresh token works once more.
    h, nell = tenant.app_headers, summary["nell"]
    renewed = await client.put(f"{TICKETS}/refresh", params={"refreshToken": nell["refreshToken"]}, headers=h)
    assert renewed.status_code == 200 and renewed.json()["customerAccount"]["id"] == nell["id"], renewed.text
    assert renewed.json()["customerAccount"]["contacts"] == []
    me = bearer(renewed.json()["accessToken"])
    sessions = (await client.get(f"{TICKETS}/sessions", headers=me)).json()
    # Sign-up, two logins: three sessions, one from the SDK's fingerprint and region.
    assert (
        len(sessions) == 3 and [(s["fingerprint"], s["region"]) for s in sessions].count(("sdk-device", "EU")) == 1
    ), sessions
    login = await client.post(TICKETS, json={"username": nell["email"], "password": nell["password"]}, headers=h)
    assert login.status_code == 200 and login.json()["userId"] == nell["userId"], login.text
    otto = await client.get(f"{ACCOUNTS}/current", headers=bearer(summary["otto"]["accessToken"]))
    assert otto.status_code == 200 and otto.json()["id"] == summary["otto"]["id"], otto.text
    # A refresh token two rotations back is a replay, not a retry: that session ends, the others live.
    assert_kibo_error(
        await client.put(f"{TICKETS}/refresh", params={"refreshToken": nell["retiredRefreshToken"]}, headers=h), 401
    )
    assert_kibo_error(await client.get(f"{ACCOUNTS}/current", headers=me), 401)
    assert len((await client.get(f"{TICKETS}/sessions", headers=bearer(login.json()["accessToken"]))).json()) == 3


async def test_kibo_rest_sdk_two_factor_login(
    client: httpx.AsyncClient, platform_headers: dict[str, str], service: ServiceProcess, mailbox: Mailbox
) -> None:
    node, tenant, settings = await _sdk_tenant(client, platform_headers, service)
    current = (await client.get(f"/admin/v1/tenants/{tenant.id}/settings", headers=tenant.admin_headers)).json()
    current["twoFactor"] = {**current["twoFactor"], "mode": "always"}
    assert (
        await client.put(f"/admin/v1/tenants/{tenant.id}/settings", json=current, headers=tenant.admin_headers)
    ).status_code == 200
    email, password = f"{unique('tess')}@example.com", "two factor sdk password"
    signup = await client.post(
        f"{ACCOUNTS}/Add-Account-And-Login",
        json={"account": {"emailAddress": email}, "password": password},
        headers=tenant.app_headers,
    )
    assert signup.status_code == 200 and signup.json()["requires2FA"] is False, (
        signup.text
    )  # sign-up asks no second factor
    mails_before = len(mailbox.messages)

    started = await _run_script(
        node, "2fa-start", {**settings, "EMAIL": email, "PASSWORD": password}, "authtickets.mjs"
    )
    assert {c["method"] for c in started["calls"]} == {
        "createUserAuthTicket",
        "generateAndSend2faOtp",
        "getCurrentAccount",
    }
    code = _mailed_code(mailbox, email, mails_before)
    assert re.fullmatch(r"\d{6}", code) and len(mailbox.sent_to(email)) == 1  # one code: the app-only request sent none
    finished = await _run_script(
        node,
        "2fa-finish",
        {
            **settings,
            "PENDING_TOKEN": started["pendingToken"],
            "USER_ID": started["userId"],
            "OTP_CODE": code,
        },
        "authtickets.mjs",
    )
    assert {c["method"] for c in finished["calls"]} == {"validate2FAAndCreateAuthTicket", "refreshUserAuthTicket"}

    ticket = finished["ticket"]
    current_account = await client.get(f"{ACCOUNTS}/current", headers=bearer(ticket["accessToken"]))
    assert current_account.status_code == 200 and current_account.json()["last2FaDate"], current_account.text
    claims = jwt.decode(ticket["jwtAccessToken"], options={"verify_signature": False})
    assert set(claims["amr"]) == {"pwd", "otp", "mfa"} and claims["account_id"] == ticket["accountId"]
    # The pending login is spent.
    assert_kibo_error(await client.post(f"{TICKETS}/2fa/request", headers=bearer(started["pendingToken"])), 401)


async def test_kibo_rest_sdk_passwordless_login(
    client: httpx.AsyncClient, platform_headers: dict[str, str], service: ServiceProcess, mailbox: Mailbox
) -> None:
    node, tenant, settings = await _sdk_tenant(client, platform_headers, service)
    email = f"{unique('pia')}@example.com"
    created = await client.post(
        f"{ACCOUNTS}/Bulk",
        json=[{"account": {"emailAddress": email}, "password": "passwordless sdk password"}],
        headers=tenant.app_headers,
    )
    assert created.status_code == 201, created.text
    mails_before = len(mailbox.messages)

    started = await _run_script(node, "otp-start", {**settings, "EMAIL": email}, "authtickets.mjs")
    code = _mailed_code(mailbox, email, mails_before)
    finished = await _run_script(node, "otp-finish", {**settings, "EMAIL": email, "OTP_CODE": code}, "authtickets.mjs")
    assert {c["method"] for c in started["calls"] + finished["calls"]} == {
        "generateAndSendOtp",
        "validateOtpAndCreateAuthTicket",
    }

    ticket = finished["ticket"]
    assert ticket["accountId"] == created.json()["items"][0]["id"]
    me = await client.get(f"{ACCOUNTS}/current", headers=bearer(ticket["accessToken"]))
    assert me.status_code == 200 and me.json()["emailAddress"] == email, me.text
    refreshed = await client.put(
        f"{TICKETS}/refresh", params={"refreshToken": ticket["refreshToken"]}, headers=tenant.app_headers
    )
    assert refreshed.status_code == 200, refreshed.text
    assert not mailbox.sent_to(started["nobody"])  # the unknown address got no mail
