"""Bad input, error shapes, body limits, health probes, logs, shutdown and configuration errors."""

from __future__ import annotations

import base64
import json
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import (
    ROOT,
    Servers,
    ServiceProcess,
    TenantFixture,
    assert_kibo_error,
    assert_problem,
    bearer,
    start_service,
    stop_service,
)

OAUTH = "/api/platform/applications/authtickets/oauth"
TICKETS = "/api/platform/applications/authtickets"


def assert_error_headers(response: httpx.Response) -> None:
    assert response.status_code >= 400
    assert (
        response.headers["x-request-id"] and response.headers["x-vol-correlation"] == response.headers["x-request-id"]
    )
    assert response.headers["cache-control"] == "no-store"
    assert "Traceback" not in response.text and 'File "' not in response.text and "asyncpg" not in response.text


def wait_for_log(service: ServiceProcess, needle: str) -> str:
    """The service's log once `needle` is in it: the access line is written just after the response is sent."""
    deadline = time.monotonic() + 10
    while True:
        text = service.log_text()
        if needle in text or time.monotonic() > deadline:
            return text
        time.sleep(0.05)


# --- malformed input ----------------------------------------------------------------------------


async def test_malformed_json_is_a_400_problem(client: httpx.AsyncClient, tenant: TenantFixture) -> None:
    for content in (b'{"name":', b"{'name': 'x'}", b"\xff\xfe", b"", b"name=x"):
        response = await client.post(
            f"/admin/v1/tenants/{tenant.id}/customer-sets",
            content=content,
            headers={**tenant.admin_headers, "content-type": "application/json"},
        )
        body = assert_problem(response, 400)
        assert body["code"] in ("MALFORMED_REQUEST", "VALIDATION_FAILED"), body
        assert_error_headers(response)
    assert (await client.get(f"/admin/v1/tenants/{tenant.id}/customer-sets", headers=tenant.admin_headers)).json()[0][
        "code"
    ] == "default"
    # The sign-in route has no guard: its malformed bodies are refused the same way.
    assert_problem(
        await client.post("/admin/v1/token", content=b"{", headers={"content-type": "application/json"}), 400
    )


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/customer-sets", {"code": 5, "name": "x"}),
        ("/customer-sets", {"code": "ok", "name": ["x"]}),
        ("/customer-sets", {"code": None, "name": "x"}),
        ("/customer-sets", ["code", "name"]),
        ("/customer-sets", "code"),
        ("/customer-sets", None),
        ("/applications", {"name": "x", "behaviors": [1, 2]}),
        ("/applications", {"name": {"first": "x"}}),
        ("/sites", {"code": "s", "name": "S", "customerSetCode": 7}),
        ("/admin-users", {"username": "u", "password": True}),
    ],
)
async def test_wrong_types_are_400_with_field_errors(
    client: httpx.AsyncClient, tenant: TenantFixture, path: str, body: object
) -> None:
    response = await client.post(f"/admin/v1/tenants/{tenant.id}{path}", json=body, headers=tenant.admin_headers)
    problem = assert_problem(response, 400, "VALIDATION_FAILED")
    assert problem["errors"] and all(e["field"] and e["message"] for e in problem["errors"]), problem
    assert_error_headers(response)


async def test_ids_beyond_int32_are_400_not_500(client: httpx.AsyncClient, tenant: TenantFixture) -> None:
    h = tenant.admin_headers
    for url in (
        "/admin/v1/tenants/2147483648",
        "/admin/v1/tenants/99999999999999999999999",
        f"/admin/v1/tenants/{tenant.id}/applications/2147483648",
        f"/admin/v1/tenants/{tenant.id}/admin-users/9223372036854775808",
        f"/admin/v1/tenants/{tenant.id}/sites/0",
        f"/admin/v1/tenants/{tenant.id}/sites/-1",
        "/admin/v1/tenants?startIndex=2147483648",
        "/admin/v1/tenants?pageSize=abc",
    ):
        response = await client.get(url, headers=h)
        assert_problem(response, 400, "VALIDATION_FAILED")
        assert_error_headers(response)
    # The limit holds in the body too, and on the Kibo routes.
    assert_problem(
        await client.post("/admin/v1/token", json={"username": "a", "password": "b", "tenantId": 2**31}), 400
    )
    assert_problem(
        await client.post("/admin/v1/token", json={"username": "a", "password": "b", "tenantId": 2**64}), 400
    )
    for url in ("/api/platform/tenants/2147483648", "/api/platform/tenants/0"):
        response = await client.get(url, headers=tenant.app_headers)
        assert_kibo_error(response, 400, "VALIDATION_FAILED")
        assert_error_headers(response)


@pytest.mark.parametrize("header", ["x-vol-site", "x-vol-tenant"])
@pytest.mark.parametrize(
    "value", [b"\xb2", b"1\xb9", b"\xbd", b"12345678901234567890", b"1e3", b"7 8", b"+5", b"\xd9\xa3"]
)
async def test_odd_kibo_id_headers_are_400(
    client: httpx.AsyncClient, tenant: TenantFixture, header: str, value: bytes
) -> None:
    # Latin-1 '²' and '½' pass str.isdigit() or str.isnumeric() but are not integers.
    response = await client.get(f"/api/platform/tenants/{tenant.id}", headers={**tenant.app_headers, header: value})
    assert_kibo_error(response, 400, "INVALID_HEADER")
    assert_error_headers(response)


@pytest.mark.parametrize(
    "authorization",
    [
        b"Basic \xff\xfe",
        b"Basic \xe9t\xe9",
        b"Basic \xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9",
        b"Basic ====",
        b"Basic " + base64.b64encode(b"no-colon"),
        b"Basic " + base64.b64encode(b"\xff\xfe:secret"),
    ],
)
async def test_malformed_basic_credentials_are_400(client: httpx.AsyncClient, authorization: bytes) -> None:
    response = await client.post(
        OAUTH, data={"grant_type": "client_credentials"}, headers={"Authorization": authorization}
    )
    body = assert_kibo_error(response, 400, "INVALID_REQUEST")
    assert body["error"] == "invalid_request"
    assert_error_headers(response)


async def test_nul_bytes_and_odd_text_are_400(client: httpx.AsyncClient, tenant: TenantFixture) -> None:
    response = await client.post(
        f"/admin/v1/tenants/{tenant.id}/applications", json={"name": "nul\u0000name"}, headers=tenant.admin_headers
    )
    assert_problem(response, 400)
    for body in (
        {"grant_type": "client_credentials", "client_id": "a\u0000", "client_secret": "b"},
        {"grant_type": "refresh_token", "refresh_token": "gh_rt_\u0000"},
    ):
        response = await client.post(OAUTH, json=body)
        assert 400 <= response.status_code < 500, response.text
        assert_kibo_error(response, response.status_code)
    legacy = await client.post(TICKETS, json={"applicationId": "\u0000", "sharedSecret": "x"})
    assert 400 <= legacy.status_code < 500
    assert_kibo_error(legacy, legacy.status_code)
    # Lone surrogates escaped in JSON.
    escaped = await client.post(
        OAUTH,
        content=b'{"grant_type": "client_credentials", "client_id": "\\ud800", "client_secret": "\\udfff"}',
        headers={"content-type": "application/json"},
    )
    assert 400 <= escaped.status_code < 500, escaped.text
    assert_kibo_error(escaped, escaped.status_code)


# --- routing errors -----------------------------------------------------------------------------


async def test_unknown_routes_and_methods(client: httpx.AsyncClient) -> None:
    for path in ("/nothing-here", "/admin/v1/nothing", "/admin/v1/tenants/abc"):
        response = await client.get(path)
        assert_problem(response, 404, "ITEM_NOT_FOUND")
        assert_error_headers(response)
    kibo = await client.get("/api/platform/nothing-here")
    assert_kibo_error(kibo, 404, "ITEM_NOT_FOUND")
    assert kibo.headers["content-type"].startswith("application/json")
    assert_error_headers(kibo)

    wrong_method = await client.put("/admin/v1/token", json={})
    assert_problem(wrong_method, 405, "METHOD_NOT_ALLOWED")
    assert {m.strip() for m in wrong_method.headers["allow"].split(",")} >= {"POST", "DELETE"}
    assert_error_headers(wrong_method)
    kibo_method = await client.get(OAUTH)
    assert_kibo_error(kibo_method, 405, "METHOD_NOT_ALLOWED")
    assert "POST" in kibo_method.headers["allow"]
    assert_error_headers(kibo_method)


async def test_kibo_error_shape(client: httpx.AsyncClient, tenant: TenantFixture) -> None:
    response = await client.post(TICKETS, json={"applicationId": 1}, headers={"x-request-id": "kibo-shape-0001"})
    body = assert_kibo_error(response, 400, "VALIDATION_FAILED")
    assert body["applicationName"] == "Gatehouse" and isinstance(body["message"], str) and body["message"]
    assert isinstance(body["items"], list) and body["items"]
    assert all(set(item) >= {"name", "errorCode", "message"} for item in body["items"])
    assert {"name": "correlationId", "value": "kibo-shape-0001"} in body["additionalErrorData"]
    assert response.headers["x-vol-correlation"] == "kibo-shape-0001"
    assert not response.headers["content-type"].startswith("application/problem+json")
    assert "type" not in body and "status" not in body


async def test_request_ids(client: httpx.AsyncClient) -> None:
    mine = await client.get("/admin/v1/nothing", headers={"x-request-id": "trace-abc.123_XYZ"})
    assert mine.headers["x-request-id"] == "trace-abc.123_XYZ" == mine.json()["requestId"]
    # An id that could carry anything into logs is replaced by one of our own.
    for unsafe in ("short", "has space in it", "x" * 65, "inject\"quote'here"):
        replaced = await client.get("/admin/v1/nothing", headers={"x-request-id": unsafe})
        assert (
            replaced.headers["x-request-id"] != unsafe
            and replaced.json()["requestId"] == replaced.headers["x-request-id"]
        )
    ids = {(await client.get("/health/live")).headers["x-request-id"] for _ in range(3)}
    assert len(ids) == 3


# --- body limit ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_body_service(servers: Servers, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    running = start_service(servers, tmp_path_factory.mktemp("small") / "service.log", GATEHOUSE_MAX_BODY_BYTES="2048")
    yield running
    assert stop_service(running) == 0


async def test_bodies_over_the_limit_are_413(
    small_body_service: ServiceProcess, platform_admin: tuple[str, str]
) -> None:
    async with httpx.AsyncClient(base_url=small_body_service.base_url, timeout=30) as http:
        padding = "x" * 3000
        big = await http.post("/admin/v1/token", json={"username": "a", "password": padding})
        assert_problem(big, 413, "PAYLOAD_TOO_LARGE")
        assert_error_headers(big)

        async def chunks():  # no Content-Length: the limit holds for streamed bodies too
            for _ in range(8):
                yield b"x" * 1024

        streamed = await http.post("/admin/v1/token", content=chunks(), headers={"content-type": "application/json"})
        assert streamed.request.headers.get("transfer-encoding") == "chunked"
        assert_problem(streamed, 413, "PAYLOAD_TOO_LARGE")

        kibo = await http.post(
            OAUTH, data={"grant_type": "client_credentials", "client_id": "c", "client_secret": padding}
        )
        assert_kibo_error(kibo, 413, "PAYLOAD_TOO_LARGE")
        assert_error_headers(kibo)
        legacy = await http.post(TICKETS, json={"applicationId": "c", "sharedSecret": "s", "pad": padding})
        assert_kibo_error(legacy, 413, "PAYLOAD_TOO_LARGE")

        # Bodies under the limit still work on the same service.
        token = await http.post("/admin/v1/token", json={"username": platform_admin[0], "password": platform_admin[1]})
        assert token.status_code == 200, token.text
        assert (await http.get("/admin/v1/behaviors", headers=bearer(token.json()["accessToken"]))).status_code == 200


# --- health -------------------------------------------------------------------------------------


async def test_health_probes(client: httpx.AsyncClient) -> None:
    live = await client.get("/health/live")
    assert live.status_code == 200 and live.json()["status"] == "ok"
    ready = await client.get("/health/ready")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ok", "checks": {"postgres": "ok", "redis": "ok"}}
    assert ready.headers["cache-control"] == "no-store"
    # Probes need no credentials and ignore bad ones.
    assert (await client.get("/health/ready", headers=bearer("gha_not-a-token"))).status_code == 200


# --- logs ---------------------------------------------------------------------------------------


def json_log_lines(text: str) -> list[dict]:
    """Every log record as a JSON object. The one non-JSON block allowed is the start-up banner for people."""
    records, banner, banner_done = [], [], False
    for line in text.splitlines():
        if not line.strip():
            continue
        if line.startswith("{"):
            record = json.loads(line)
            assert {"ts", "level", "logger", "msg"} <= set(record), line
            records.append(record)
            if banner:
                banner_done = True
        else:
            assert not banner_done, f"a line that is not JSON after the banner: {line!r}"
            banner.append(line)
    assert not banner or banner[0].startswith("Gatehouse is starting on"), banner
    return records


async def test_logs_are_json_and_hold_no_secrets(
    client: httpx.AsyncClient,
    service: ServiceProcess,
    tenant: TenantFixture,
    platform_admin: tuple[str, str],
    platform_headers: dict[str, str],
) -> None:
    wrong_password = "wrong-" + secrets.token_urlsafe(12)
    await client.post("/admin/v1/token", json={"username": platform_admin[0], "password": wrong_password})
    legacy = await client.post(TICKETS, json={"applicationId": tenant.client_id, "sharedSecret": tenant.client_secret})
    basic = await client.post(
        OAUTH, data={"grant_type": "client_credentials"}, auth=(tenant.client_id, tenant.client_secret)
    )
    refreshed = await client.put(f"{TICKETS}/refresh-ticket", json={"refreshToken": legacy.json()["refreshToken"]})
    query_secret = "q-" + secrets.token_urlsafe(12)
    await client.get(f"/admin/v1/tenants?token={query_secret}", headers=platform_headers)
    marker = "log-check-" + secrets.token_hex(8)
    deleted = await client.delete(f"{TICKETS}/{refreshed.json()['refreshToken']}", headers={"x-request-id": marker})
    assert deleted.status_code == 204

    text = wait_for_log(service, marker)
    records = json_log_lines(text)
    secrets_sent = {
        "admin password": platform_admin[1],
        "wrong admin password": wrong_password,
        "client secret": tenant.client_secret,
        "admin token": platform_headers["Authorization"].removeprefix("Bearer "),
        "app token": tenant.app_headers["Authorization"].removeprefix("Bearer "),
        "legacy access token": legacy.json()["accessToken"],
        "legacy refresh token": legacy.json()["refreshToken"],
        "basic access token": basic.json()["access_token"],
        "refresh token in a DELETE URL": refreshed.json()["refreshToken"],
        "query string": query_secret,
    }
    for what, value in secrets_sent.items():
        assert value not in text, f"the {what} is in the log"

    requests = [r for r in records if r["logger"] == "gatehouse.access"]
    assert requests and all(r["request_id"] and r["method"] and isinstance(r["status"], int) for r in requests)
    delete_line = next(r for r in requests if r["request_id"] == marker)
    assert delete_line["method"] == "DELETE" and delete_line["status"] == 204
    assert delete_line["route"] == "/api/platform/applications/authtickets/{refresh_token}"
    unrouted = await client.get("/nothing/" + query_secret, headers={"x-request-id": marker + "-404"})
    assert unrouted.status_code == 404
    text = wait_for_log(service, marker + "-404")
    assert query_secret not in text
    assert "Traceback" not in "".join(r["msg"] for r in json_log_lines(text))


# --- shutdown and configuration -----------------------------------------------------------------


def httpx_refused(base_url: str) -> bool:
    try:
        httpx.get(f"{base_url}/health/live", timeout=5)
    except httpx.ConnectError:
        return True
    return False


def test_sigterm_finishes_the_request_in_flight_and_exits_0(
    servers: Servers, tmp_path: Path, platform_admin: tuple[str, str]
) -> None:
    running = start_service(servers, tmp_path / "service.log")
    port = int(running.base_url.rsplit(":", 1)[1])
    body = json.dumps({"username": platform_admin[0], "password": platform_admin[1]}).encode()
    with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:
        conn.sendall(
            b"POST /admin/v1/token HTTP/1.1\r\nHost: gatehouse\r\nContent-Type: application/json\r\n"
            b"Expect: 100-continue\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n"
        )
        # The server asks for the body only once the application reads it: the request is in flight.
        assert conn.recv(1024).startswith(b"HTTP/1.1 100 Continue")
        running.process.send_signal(signal.SIGTERM)
        assert '"msg": "Shutting down"' in wait_for_log(running, '"msg": "Shutting down"')
        assert httpx_refused(running.base_url)  # no new connections while it drains
        conn.sendall(body)
        response = b""
        while chunk := conn.recv(65536):  # the server answers, then closes: it is shutting down
            response += chunk
    assert response.startswith(b"HTTP/1.1 200"), response
    assert b'"accessToken"' in response
    try:
        code = running.process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        running.process.kill()
        running.process.wait()
        pytest.fail("the service did not stop after SIGTERM")
    assert code == 0, running.log_text()
    records = json_log_lines(running.log_text())
    assert any(r["msg"] == "Application shutdown complete." for r in records)
    assert not any(r["level"] in ("error", "critical") for r in records), running.log_text()
    assert httpx_refused(running.base_url)


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"PORT": "notanumber"}, "PORT"),
        ({"GATEHOUSE_MAX_BODY_BYTES": "10"}, "GATEHOUSE_MAX_BODY_BYTES"),
        ({"GATEHOUSE_LOG_LEVEL": "LOUD"}, "GATEHOUSE_LOG_LEVEL"),
        ({"DATABASE_URL": "mysql://localhost/db"}, "DATABASE_URL"),
        ({"GATEHOUSE_ADMIN_USERNAME": "root"}, "GATEHOUSE_ADMIN_PASSWORD"),
        ({"GATEHOUSE_ADMIN_USERNAME": "root", "GATEHOUSE_ADMIN_PASSWORD": "pw-7Xq-k2"}, "GATEHOUSE_ADMIN_PASSWORD"),
        ({"GATEHOUSE_SECRETS_KEY": "c2hvcnQ="}, "GATEHOUSE_SECRETS_KEY"),
        ({"GATEHOUSE_SECRETS_KEY": "not base64!"}, "GATEHOUSE_SECRETS_KEY"),
        ({"GATEHOUSE_DB_POOL_MIN_SIZE": "-1"}, "GATEHOUSE_DB_POOL_MIN_SIZE"),
        ({"GATEHOUSE_DB_POOL_MIN_SIZE": "5", "GATEHOUSE_DB_POOL_MAX_SIZE": "4"}, "GATEHOUSE_DB_POOL_MAX_SIZE"),
        ({"GATEHOUSE_DB_TRANSACTION_POOLING": "maybe"}, "GATEHOUSE_DB_TRANSACTION_POOLING"),
        ({"GATEHOUSE_MIGRATE_ON_START": "sometimes"}, "GATEHOUSE_MIGRATE_ON_START"),
        ({"GATEHOUSE_REDIS_WAIT_REPLICAS": "-1"}, "GATEHOUSE_REDIS_WAIT_REPLICAS"),
        ({"GATEHOUSE_REDIS_WAIT_TIMEOUT_MS": "0"}, "GATEHOUSE_REDIS_WAIT_TIMEOUT_MS"),
    ],
)
def test_bad_configuration_exits_2_naming_the_variable(run_cli, env: dict[str, str], named: str) -> None:
    result = run_cli("migrate", env=env)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert named in result.stderr and "Traceback" not in result.stderr
    assert result.stdout == ""
    if "GATEHOUSE_ADMIN_PASSWORD" in env:
        assert env["GATEHOUSE_ADMIN_PASSWORD"] not in result.stderr  # a password is never echoed back


def test_serve_with_bad_configuration_exits_2(servers: Servers) -> None:
    env = {
        "DATABASE_URL": servers.database_url,
        "REDIS_URL": servers.redis_url,
        "PORT": "notanumber",
        "PATH": "/usr/bin:/bin",
    }
    result = subprocess.run(
        [sys.executable, "-m", "service", "serve"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2 and "PORT" in result.stderr, (result.stdout, result.stderr)


@pytest.mark.parametrize(("path", "kibo"), [("/api/commerce/customer/accounts", True), ("/admin/v1/tenants", False)])
async def test_json_nested_too_deeply_is_a_400(
    client: httpx.AsyncClient, tenant: TenantFixture, platform_headers, path: str, kibo: bool
) -> None:
    body = "[" * 200_000 + "]" * 200_000
    headers = {**(tenant.app_headers if kibo else platform_headers), "content-type": "application/json"}
    response = await client.post(path, content=body, headers=headers)
    if kibo:
        assert_kibo_error(response, 400, "MALFORMED_REQUEST")
    else:
        assert_problem(response, 400, "MALFORMED_REQUEST")
