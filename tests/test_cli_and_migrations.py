"""The `gatehouse` command line against the test servers, and the migration runner on fresh databases."""

from __future__ import annotations

import asyncio
import json
import secrets
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import asyncpg
import httpx
import pytest

from service.applications.behaviors import Behavior
from service.platform.migrate import ADVISORY_LOCK_KEY, MIGRATIONS_DIR, MigrationError, apply_migrations, discover
from tests.conftest import Servers, assert_problem, bearer, free_port, start_service, stop_service, unique


def cli_json(result) -> dict:
    assert result.returncode == 0, (result.stdout, result.stderr)
    return json.loads(result.stdout)


# --- tenant, application and admin creation -----------------------------------------------------


@pytest.mark.parametrize("json_first", [False, True])
async def test_tenant_create(run_cli, client: httpx.AsyncClient, platform_headers, json_first: bool) -> None:
    name = unique("cli-tenant")
    args = (
        ("--json", "tenant", "create", "--name", name) if json_first else ("tenant", "create", "--name", name, "--json")
    )
    tenant = cli_json(run_cli(*args))
    assert isinstance(tenant["id"], int) and tenant["name"] == name and isinstance(tenant["defaultSiteId"], int)

    over_http = await client.get(f"/admin/v1/tenants/{tenant['id']}", headers=platform_headers)
    assert over_http.status_code == 200 and over_http.json()["name"] == name
    sites = (await client.get(f"/admin/v1/tenants/{tenant['id']}/sites", headers=platform_headers)).json()
    assert [(s["id"], s["isDefault"]) for s in sites] == [(tenant["defaultSiteId"], True)]

    text = run_cli("tenant", "create", "--name", name + "-text")
    assert text.returncode == 0, text.stderr
    assert text.stdout.startswith("created tenant ") and name + "-text" in text.stdout


async def test_application_create_prints_the_secret_once(run_cli, client: httpx.AsyncClient, platform_headers) -> None:
    tenant = cli_json(run_cli("--json", "tenant", "create", "--name", unique("cli-apps")))
    result = run_cli("application", "create", "--tenant-id", str(tenant["id"]), "--name", "pos", "--json")
    app = cli_json(result)
    secret = app["clientSecret"]
    assert secret and result.stdout.count(secret) == 1 and secret not in result.stderr
    assert app["tenantId"] == tenant["id"] and app["name"] == "pos"
    assert sorted(app["behaviors"]) == sorted(b.value for b in Behavior)  # all behaviors by default

    token = await client.post(
        "/api/platform/applications/authtickets/oauth",
        json={"grant_type": "client_credentials", "client_id": app["clientId"], "client_secret": secret},
    )
    assert token.status_code == 200, token.text
    kibo = await client.get(f"/api/platform/tenants/{tenant['id']}", headers=bearer(token.json()["access_token"]))
    assert kibo.status_code == 200 and kibo.json()["id"] == tenant["id"]
    listed = await client.get(f"/admin/v1/tenants/{tenant['id']}/applications", headers=platform_headers)
    assert [a["clientId"] for a in listed.json()] == [app["clientId"]] and secret not in listed.text

    text = run_cli(
        "application",
        "create",
        "--tenant-id",
        str(tenant["id"]),
        "--name",
        "narrow",
        "--behavior",
        "customer:authtickets",
        "--behavior",
        "tokens:introspect",
    )
    assert text.returncode == 0, text.stderr
    secret_lines = [line for line in text.stdout.splitlines() if "client_secret" in line]
    assert len(secret_lines) == 1 and "shown once" in secret_lines[0]
    apps = (await client.get(f"/admin/v1/tenants/{tenant['id']}/applications", headers=platform_headers)).json()
    assert [a["behaviors"] for a in apps if a["name"] == "narrow"] == [["customer:authtickets", "tokens:introspect"]]


async def test_admin_create_for_a_tenant(run_cli, client: httpx.AsyncClient) -> None:
    tenant = cli_json(run_cli("--json", "tenant", "create", "--name", unique("cli-admins")))
    username, password = unique("cli-viewer"), secrets.token_urlsafe(16)
    result = run_cli(
        "--json",
        "admin",
        "create",
        "--username",
        username,
        "--tenant-id",
        str(tenant["id"]),
        "--role",
        "viewer",
        "--password-stdin",
        stdin=password + "\n",
    )
    user = cli_json(result)
    assert user["username"] == username and user["tenantId"] == tenant["id"] and user["role"] == "viewer"
    assert password not in result.stdout + result.stderr and "argon2" not in result.stdout

    signed_in = await client.post(
        "/admin/v1/token", json={"username": username, "password": password, "tenantId": tenant["id"]}
    )
    assert signed_in.status_code == 200, signed_in.text
    headers = bearer(signed_in.json()["accessToken"])
    assert (await client.get(f"/admin/v1/tenants/{tenant['id']}/sites", headers=headers)).status_code == 200
    assert_problem(
        await client.post(
            f"/admin/v1/tenants/{tenant['id']}/customer-sets", json={"code": "c", "name": "C"}, headers=headers
        ),
        403,
        "READ_ONLY_ADMIN",
    )
    # Without --tenant-id it is a platform admin; a tenant admin's name does not clash with it.
    platform = cli_json(
        run_cli("--json", "admin", "create", "--username", username, "--password-stdin", stdin=password + "\n")
    )
    assert platform["tenantId"] is None and platform["role"] == "platform-admin"
    assert (await client.post("/admin/v1/token", json={"username": username, "password": password})).status_code == 200


def test_failures_exit_non_zero_with_a_message(run_cli) -> None:
    password = "a-long-enough-password\n"
    twice = unique("twice")
    assert run_cli("admin", "create", "--username", twice, "--password-stdin", stdin=password).returncode == 0
    calls = {
        "unknown tenant": (("application", "create", "--tenant-id", "2147483000", "--name", "x"), None),
        "unknown tenant, json": (
            ("--json", "admin", "create", "--username", unique("u"), "--tenant-id", "2147483000", "--password-stdin"),
            password,
        ),
        "short password": (("admin", "create", "--username", unique("short"), "--password-stdin"), "elevenchars\n"),
        "no --password-stdin": (("admin", "create", "--username", unique("u")), password),
        "exists": (("admin", "create", "--username", twice.upper(), "--password-stdin"), password),
        "huge id": (("application", "create", "--tenant-id", "99999999999", "--name", "x"), None),
        "zero id": (("admin", "create", "--username", "x", "--tenant-id", "0", "--password-stdin"), password),
        "bad behavior": (
            ("application", "create", "--tenant-id", "1", "--name", "x", "--behavior", "everything"),
            None,
        ),
        "no name": (("tenant", "create"), None),
    }
    with ThreadPoolExecutor(max_workers=len(calls)) as pool:  # independent commands, run side by side
        futures = {what: pool.submit(run_cli, *args, stdin=stdin) for what, (args, stdin) in calls.items()}
        r = {what: future.result() for what, future in futures.items()}
    for what, result in r.items():
        assert result.returncode != 0 and result.stdout == "" and "Traceback" not in result.stderr, (what, result)

    assert r["unknown tenant"].returncode == 1 and "not found" in r["unknown tenant"].stderr.lower()
    assert r["unknown tenant, json"].returncode == 1 and json.loads(r["unknown tenant, json"].stderr)["error"]
    assert r["short password"].returncode == 1 and "12 characters" in r["short password"].stderr
    assert "elevenchars" not in r["short password"].stderr
    assert r["no --password-stdin"].returncode == 1 and "--password-stdin" in r["no --password-stdin"].stderr
    assert r["exists"].returncode == 1 and "exists" in r["exists"].stderr
    assert r["huge id"].returncode == 2 and "--tenant-id" in r["huge id"].stderr
    assert r["zero id"].returncode == 2 and "--tenant-id" in r["zero id"].stderr
    assert r["bad behavior"].returncode == 2 and "everything" in r["bad behavior"].stderr
    assert r["no name"].returncode == 2 and "--name" in r["no name"].stderr


# --- migrations ---------------------------------------------------------------------------------


@pytest.fixture
def migrations_dir(tmp_path: Path) -> Path:
    """A snapshot of migrations/, so that files added to the project meanwhile do not change what a test sees."""
    directory = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, directory)
    return directory


def names_in(directory: Path) -> list[str]:
    names = [m.name for m in discover(directory)]
    assert names and names[0] == "0001_platform.sql" and names == sorted(names)
    return names


async def recorded(database_url: str) -> list[str]:
    conn = await asyncpg.connect(database_url)
    try:
        return [r["name"] for r in await conn.fetch("SELECT name FROM schema_migrations ORDER BY version")]
    finally:
        await conn.close()


async def test_applies_everything_once_then_nothing(fresh_database: str, migrations_dir: Path) -> None:
    everything = names_in(migrations_dir)
    assert await apply_migrations(fresh_database, migrations_dir) == everything
    assert await recorded(fresh_database) == everything
    conn = await asyncpg.connect(fresh_database)
    try:
        tables = {
            r["tablename"] for r in await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        }
    finally:
        await conn.close()
    assert {"tenants", "applications", "admin_users", "schema_migrations"} <= tables
    assert await apply_migrations(fresh_database, migrations_dir) == []
    assert await apply_migrations(fresh_database, migrations_dir) == []
    assert await recorded(fresh_database) == everything

    # A new file is applied on its own, after the others.
    (migrations_dir / "9000_later.sql").write_text("CREATE TABLE later_table (id int);", encoding="utf-8")
    assert await apply_migrations(fresh_database, migrations_dir) == ["9000_later.sql"]
    assert await recorded(fresh_database) == [*everything, "9000_later.sql"]


async def test_concurrent_runs_apply_each_file_exactly_once(fresh_database: str, migrations_dir: Path) -> None:
    everything = names_in(migrations_dir)
    results = await asyncio.gather(*(apply_migrations(fresh_database, migrations_dir) for _ in range(5)))
    applied = [name for result in results for name in result]
    assert sorted(applied) == everything  # every file once, across all five runs
    assert sum(1 for result in results if result) == 1  # the first to take the lock did all the work
    assert await recorded(fresh_database) == everything


async def test_an_edited_applied_file_stops_the_run(fresh_database: str, migrations_dir: Path) -> None:
    everything = names_in(migrations_dir)
    assert await apply_migrations(fresh_database, migrations_dir) == everything

    edited = migrations_dir / everything[0]
    original = edited.read_text(encoding="utf-8")
    edited.write_text(original + "\n-- a harmless-looking comment\n", encoding="utf-8")
    with pytest.raises(MigrationError, match=everything[0].replace(".", r"\.")):
        await apply_migrations(fresh_database, migrations_dir)
    # A new file is not applied while an old one is edited.
    (migrations_dir / "9000_later.sql").write_text("CREATE TABLE later_table (id int);", encoding="utf-8")
    with pytest.raises(MigrationError):
        await apply_migrations(fresh_database, migrations_dir)
    assert "9000_later.sql" not in await recorded(fresh_database)

    edited.write_text(original, encoding="utf-8")  # restored: the run proceeds
    assert await apply_migrations(fresh_database, migrations_dir) == ["9000_later.sql"]

    (migrations_dir / "9000_later.sql").unlink()  # applied, then lost from the directory
    with pytest.raises(MigrationError, match=r"9000_later\.sql"):
        await apply_migrations(fresh_database, migrations_dir)


async def test_a_failing_migration_leaves_nothing_behind(fresh_database: str, migrations_dir: Path) -> None:
    everything = names_in(migrations_dir)
    broken = migrations_dir / "9001_broken.sql"
    broken.write_text("CREATE TABLE half_done (id int);\nSELECT 1 / 0;\n", encoding="utf-8")
    with pytest.raises(asyncpg.PostgresError):
        await apply_migrations(fresh_database, migrations_dir)
    # The good files before it stay applied; the broken one is neither recorded nor half-applied.
    assert await recorded(fresh_database) == everything
    conn = await asyncpg.connect(fresh_database)
    try:
        assert await conn.fetchval("SELECT to_regclass('half_done')") is None
        # The advisory lock was released: another session can take it at once.
        assert await conn.fetchval("SELECT pg_try_advisory_lock($1)", ADVISORY_LOCK_KEY) is True
        await conn.execute("SELECT pg_advisory_unlock($1)", ADVISORY_LOCK_KEY)
    finally:
        await conn.close()

    broken.write_text("CREATE TABLE half_done (id int);\n", encoding="utf-8")
    assert await apply_migrations(fresh_database, migrations_dir) == ["9001_broken.sql"]


async def test_badly_named_or_duplicate_files_are_refused(fresh_database: str, migrations_dir: Path) -> None:
    (migrations_dir / "add-users.sql").write_text("SELECT 1;", encoding="utf-8")
    with pytest.raises(MigrationError, match=r"add-users\.sql"):
        await apply_migrations(fresh_database, migrations_dir)
    (migrations_dir / "add-users.sql").unlink()
    (migrations_dir / "0001_again.sql").write_text("SELECT 1;", encoding="utf-8")
    with pytest.raises(MigrationError):
        await apply_migrations(fresh_database, migrations_dir)
    conn = await asyncpg.connect(fresh_database)
    try:
        assert await conn.fetchval("SELECT to_regclass('schema_migrations')") is None  # refused before touching it
    finally:
        await conn.close()


async def test_migrate_command(run_cli, fresh_database: str) -> None:
    first = cli_json(run_cli("--json", "migrate", env={"DATABASE_URL": fresh_database}))
    assert first == {"applied": [m.name for m in discover()]}
    assert cli_json(run_cli("migrate", "--json", env={"DATABASE_URL": fresh_database})) == {"applied": []}
    text = run_cli("migrate", env={"DATABASE_URL": fresh_database})
    assert text.returncode == 0 and text.stdout.strip() == "schema is up to date"


async def test_a_start_told_not_to_migrate_applies_nothing_and_waits_for_gatehouse_migrate(
    run_cli, servers: Servers, fresh_database: str, tmp_path: Path
) -> None:
    """GATEHOUSE_MIGRATE_ON_START=false, as in the Kubernetes manifests, where a Job migrates once per release."""
    told = {"DATABASE_URL": fresh_database, "GATEHOUSE_MIGRATE_ON_START": "false", "PORT": str(free_port())}
    refused = run_cli("serve", env=told)
    assert refused.returncode == 1, (refused.stdout, refused.stderr)
    assert "pending" in refused.stderr and "gatehouse migrate" in refused.stderr and "Traceback" not in refused.stderr
    conn = await asyncpg.connect(fresh_database)
    try:
        assert await conn.fetchval("SELECT to_regclass('schema_migrations')") is None  # it applied nothing
    finally:
        await conn.close()

    assert run_cli("migrate", env={"DATABASE_URL": fresh_database}).returncode == 0  # the release's Job
    conn = await asyncpg.connect(fresh_database)
    try:  # a newer release's file, applied: an older replica still restarts during the rolling update
        await conn.execute("INSERT INTO schema_migrations VALUES ('9999', '9999_newer.sql', 'x', now())")
    finally:
        await conn.close()
    service = start_service(
        Servers(fresh_database, servers.redis_url), tmp_path / "service.log", GATEHOUSE_MIGRATE_ON_START="false"
    )
    stop_service(service)
    assert "applying migration" not in service.log_text()
