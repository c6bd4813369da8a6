"""Kibo's own REST SDK (npm `@kibocommerce/rest-sdk`, run under node) against the customer-account API.

tests/kibo_sdk/accounts.mjs makes every CustomerAccountApi call the service serves and checks the
answers itself; this test installs the pinned SDK from tests/kibo_sdk/package-lock.json when needed,
runs the script, and then checks over plain HTTP that what the SDK did really happened.
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
import pytest

from tests.conftest import Mailbox, ServiceProcess, TenantFixture, assert_kibo_error, make_tenant

SDK_DIR = Path(__file__).resolve().parent / "kibo_sdk"
SDK_PACKAGE = "@kibocommerce/rest-sdk"
ACCOUNTS = "/api/commerce/customer/accounts"


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
        [npm, "ci", "--no-audit", "--no-fund"], cwd=SDK_DIR, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, f"npm ci failed in {SDK_DIR}:\n{result.stdout}\n{result.stderr}"


async def _run_script(node: str, command: str, settings: dict[str, str]) -> dict:
    env = {**os.environ, **{f"KIBO_{name}": value for name, value in settings.items()}}
    result = await asyncio.to_thread(
        subprocess.run, [node, "accounts.mjs", command], cwd=SDK_DIR, env=env, capture_output=True, text=True, timeout=60,
    )
    lines = result.stdout.strip().splitlines()
    assert lines, f"no output from accounts.mjs {command} (exit {result.returncode}):\n{result.stderr}"
    summary = json.loads(lines[-1])
    assert result.returncode == 0 and summary["ok"], (
        f"accounts.mjs {command} failed (exit {result.returncode}): {summary.get('error')}\n"
        f"calls: {summary.get('calls')}\nstderr: {result.stderr}"
    )
    return summary


async def test_kibo_rest_sdk_drives_the_accounts_api(
    client: httpx.AsyncClient, platform_headers: dict[str, str], service: ServiceProcess, mailbox: Mailbox
) -> None:
    node, npm = _node_tools()
    await asyncio.to_thread(_install_sdk, npm)
    tenant: TenantFixture = await make_tenant(client, platform_headers)
    token = tenant.app_headers["Authorization"].removeprefix("Bearer ")
    settings = {"API_HOST": service.base_url, "TENANT_ID": str(tenant.id), "SITE_ID": str(tenant.default_site_id), "ACCESS_TOKEN": token}
    mails_before = len(mailbox.messages)

    summary = await _run_script(node, "run", settings)

    called = {c["method"] for c in summary["calls"]}
    assert called == {
        "addAccount", "getAccount", "getAccounts", "updateAccount", "addAccountContact", "addAccountContactList",
        "getAccountContacts", "getAccountContact", "updateAccountContact", "deleteAccountContact", "addAccounts",
        "getLoginState", "getLoginStateByEmailAddress", "getLoginStateByUserName", "setLoginLocked",
        "setPasswordChangeRequired", "changePassword", "resetPassword", "deleteAccount",
    }, called
    assert all(c["ok"] for c in summary["calls"]) and summary["checks"] >= 60, summary

    # What the SDK did is really there, seen over plain HTTP.
    h = tenant.app_headers
    assert_kibo_error(await client.get(f"{ACCOUNTS}/{summary['deletedAccountId']}", headers=h), 404, "ACCOUNT_NOT_FOUND")
    account_id = summary["account"]["id"]
    account = (await client.get(f"{ACCOUNTS}/{account_id}", headers=h)).json()
    assert (account["emailAddress"], account["firstName"], account["companyOrOrganization"]) == (
        summary["account"]["emailAddress"], "Augusta", "Analytical Engines Ltd",
    )
    expected = summary["updatedContact"]
    contact = (await client.get(f"{ACCOUNTS}/{account_id}/contacts/{expected['id']}", headers=h)).json()
    assert (contact["label"], contact["firstName"], contact["address"]["cityOrTown"], contact["phoneNumbers"]) == (
        expected["label"], expected["firstName"], expected["cityOrTown"], {"home": None, "mobile": None, "work": expected["work"]},
    )
    assert_kibo_error(await client.get(f"{ACCOUNTS}/{account_id}/contacts/{summary['deletedContactId']}", headers=h), 404, "CONTACT_NOT_FOUND")
    assert (await client.get(f"{ACCOUNTS}/{account_id}/contacts", headers=h)).json()["totalCount"] == 3

    login = summary["login"]
    state = (await client.get(f"{ACCOUNTS}/{login['id']}/loginstate", headers=h)).json()
    assert state["isPasswordChangeRequired"] is True and state["isLocked"] is False and state["lastPasswordChangeOn"]

    # resetPassword mailed a code to the real account only; the SDK sets a new password with it.
    message = mailbox.wait_for(login["emailAddress"], after=mails_before)
    code = re.search(r"^ {4}(\S+)", message.get_content(), re.MULTILINE).group(1)
    assert not [m for m in mailbox.messages[mails_before:] if m["To"].startswith("nobody.")]
    new_password = f"third sdk password {summary['tag']}"
    await _run_script(node, "update-forgotten-password", {
        **settings, "USER_NAME": login["userName"], "CONFIRMATION_CODE": code, "NEW_PASSWORD": new_password,
    })
    stale = await client.post(f"{ACCOUNTS}/{login['id']}/Change-Password", json={"oldPassword": login["password"], "newPassword": "x" * 20}, headers=h)
    assert_kibo_error(stale, 400, "INVALID_OLD_PASSWORD")
    fresh = await client.post(f"{ACCOUNTS}/{login['id']}/Change-Password", json={"oldPassword": new_password, "newPassword": "fourth sdk password"}, headers=h)
    assert fresh.status_code == 204, fresh.text
