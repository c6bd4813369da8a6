"""Without SMTP_URL, mail lands in an outbox folder under the data directory (what `make run` uses)."""

from __future__ import annotations

import asyncio
import email
import email.policy
import re

import httpx

from tests.conftest import Servers, admin_token, bearer, make_tenant, start_service, stop_service, unique

ACCOUNTS = "/api/commerce/customer/accounts"


async def test_reset_code_is_written_to_the_outbox(servers: Servers, tmp_path, platform_admin) -> None:
    data_dir = tmp_path / "data"
    service = start_service(servers, tmp_path / "service.log", GATEHOUSE_DATA_DIR=str(data_dir))
    try:
        async with httpx.AsyncClient(base_url=service.base_url, timeout=30) as client:
            tenant = await make_tenant(client, bearer(await admin_token(client, *platform_admin)))
            address = f"{unique('outbox')}@example.com"
            created = await client.post(
                f"{ACCOUNTS}/Bulk",
                json=[{"account": {"emailAddress": address}, "password": "outbox passphrase"}],
                headers=tenant.app_headers,
            )
            assert created.status_code == 201
            reset = await client.post(
                f"{ACCOUNTS}/Reset-Password", json={"emailAddress": address}, headers=tenant.app_headers
            )
            assert reset.status_code == 204
            outbox = data_dir / "outbox"
            for _ in range(100):
                if outbox.exists() and list(outbox.glob("*.eml")):
                    break
                await asyncio.sleep(0.05)
            [path] = list(outbox.glob("*.eml"))
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            assert message["To"] == address and message["Subject"] == "Your password reset code"
            code = re.search(r"^ {4}(\S+)", message.get_content(), re.MULTILINE).group(1)
            used = await client.post(
                f"{ACCOUNTS}/Update-Forgotten-Password",
                json={"userName": address, "confirmationCode": code, "newPassword": "fresh passphrase"},
                headers=tenant.app_headers,
            )
            assert used.status_code == 204
        assert str(path) in service.log_text()  # the log says where the message went
    finally:
        stop_service(service)
