"""SQL the sessions write to PostgreSQL: the record of a login (sessions themselves live in Redis)."""

from __future__ import annotations

from service.audit import repository as audit_repo
from service.audit.repository import AuditEntry
from service.platform.db import Conn


async def record_login(conn: Conn, audited: AuditEntry, account_id: int, region: str | None) -> None:
    """A successful login: its time and region, with its audit row and event, in one statement (one round trip,
    no BEGIN and COMMIT on every login). The tenant's row is key-share locked before the login's row, the order
    `tenant_transaction` keeps: the audit row's reference to the tenant is checked only at the statement's end."""
    await conn.execute(
        f"""WITH {audit_repo.AUDIT_ROW_AND_EVENT},
           tenant AS (SELECT id FROM tenants WHERE id = $1 FOR KEY SHARE),
           login AS (
               UPDATE customer_logins SET last_login_on = now(), last_region = coalesce($14, last_region)
               WHERE tenant_id = (SELECT id FROM tenant) AND account_id = $13
           )
           SELECT 1""",
        *audit_repo.parameters(audited),
        account_id,
        region,
    )
