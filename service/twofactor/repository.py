"""SQL for authenticators, recovery codes, trusted devices. Every statement names tenant and account."""

from __future__ import annotations

from service.platform.db import Conn
from service.twofactor.records import Authenticator, TrustedDevice


async def get_authenticator(conn: Conn, tenant_id: int, account_id: int) -> Authenticator | None:
    row = await conn.fetchrow(
        """SELECT secret, confirmed_at, last_used_step FROM customer_authenticators
           WHERE tenant_id = $1 AND account_id = $2""",
        tenant_id,
        account_id,
    )
    return Authenticator(**dict(row)) if row is not None else None


async def put_unconfirmed_authenticator(conn: Conn, tenant_id: int, account_id: int, secret: str) -> bool:
    """Start (or restart) an enrolment; an already confirmed authenticator is left alone."""
    status = await conn.execute(
        """INSERT INTO customer_authenticators (tenant_id, account_id, secret) VALUES ($1, $2, $3)
           ON CONFLICT (account_id) DO UPDATE SET secret = EXCLUDED.secret, last_used_step = 0, created_at = now()
           WHERE customer_authenticators.confirmed_at IS NULL""",
        tenant_id,
        account_id,
        secret,
    )
    return status != "INSERT 0 0"


async def spend_step(conn: Conn, tenant_id: int, account_id: int, step: int, confirm: bool) -> bool:
    """Use a TOTP step once: true only for the first caller with a step later than any used."""
    status = await conn.execute(
        """UPDATE customer_authenticators SET last_used_step = $3,
               confirmed_at = CASE WHEN $4 THEN coalesce(confirmed_at, now()) ELSE confirmed_at END
           WHERE tenant_id = $1 AND account_id = $2 AND last_used_step < $3
             AND (confirmed_at IS NOT NULL OR $4)""",
        tenant_id,
        account_id,
        step,
        confirm,
    )
    return status == "UPDATE 1"


async def delete_authenticator(conn: Conn, tenant_id: int, account_id: int) -> bool:
    await conn.execute(
        "DELETE FROM customer_recovery_codes WHERE tenant_id = $1 AND account_id = $2", tenant_id, account_id
    )
    status = await conn.execute(
        "DELETE FROM customer_authenticators WHERE tenant_id = $1 AND account_id = $2", tenant_id, account_id
    )
    return status != "DELETE 0"


async def replace_recovery_codes(conn: Conn, tenant_id: int, account_id: int, hashes: list[str]) -> None:
    await conn.execute(
        "DELETE FROM customer_recovery_codes WHERE tenant_id = $1 AND account_id = $2", tenant_id, account_id
    )
    await conn.executemany(
        "INSERT INTO customer_recovery_codes (tenant_id, account_id, code_hash) VALUES ($1, $2, $3)",
        [(tenant_id, account_id, h) for h in hashes],
    )


async def spend_recovery_code(conn: Conn, tenant_id: int, account_id: int, code_hash: str) -> bool:
    status = await conn.execute(
        """UPDATE customer_recovery_codes SET used_at = now()
           WHERE tenant_id = $1 AND account_id = $2 AND code_hash = $3 AND used_at IS NULL""",
        tenant_id,
        account_id,
        code_hash,
    )
    return status == "UPDATE 1"


async def unused_recovery_codes(conn: Conn, tenant_id: int, account_id: int) -> int:
    value: int = await conn.fetchval(
        "SELECT count(*) FROM customer_recovery_codes WHERE tenant_id = $1 AND account_id = $2 AND used_at IS NULL",
        tenant_id,
        account_id,
    )
    return value


async def is_trusted_device(conn: Conn, tenant_id: int, account_id: int, fingerprint_hash: str) -> bool:
    value: bool = await conn.fetchval(
        """SELECT EXISTS (SELECT 1 FROM customer_trusted_devices WHERE tenant_id = $1 AND account_id = $2
                          AND fingerprint_hash = $3 AND expires_at > now())""",
        tenant_id,
        account_id,
        fingerprint_hash,
    )
    return value


async def trust_device(
    conn: Conn, tenant_id: int, account_id: int, fingerprint_hash: str, region: str | None, days: int
) -> None:
    await conn.execute(
        """INSERT INTO customer_trusted_devices (tenant_id, account_id, fingerprint_hash, region, expires_at)
           VALUES ($1, $2, $3, $4, now() + make_interval(days => $5))
           ON CONFLICT (tenant_id, account_id, fingerprint_hash)
           DO UPDATE SET region = EXCLUDED.region, last_seen_at = now(), expires_at = EXCLUDED.expires_at""",
        tenant_id,
        account_id,
        fingerprint_hash,
        region,
        days,
    )


async def list_trusted_devices(conn: Conn, tenant_id: int, account_id: int) -> list[TrustedDevice]:
    rows = await conn.fetch(
        """SELECT id, region, created_at, last_seen_at, expires_at FROM customer_trusted_devices
           WHERE tenant_id = $1 AND account_id = $2 AND expires_at > now() ORDER BY id""",
        tenant_id,
        account_id,
    )
    return [TrustedDevice(**dict(row)) for row in rows]


async def forget_device(conn: Conn, tenant_id: int, account_id: int, device_id: int) -> bool:
    status = await conn.execute(
        "DELETE FROM customer_trusted_devices WHERE tenant_id = $1 AND account_id = $2 AND id = $3",
        tenant_id,
        account_id,
        device_id,
    )
    return status != "DELETE 0"


async def record_second_factor(conn: Conn, tenant_id: int, account_id: int) -> None:
    await conn.execute(
        "UPDATE customer_accounts SET last_2fa_date = now() WHERE tenant_id = $1 AND id = $2", tenant_id, account_id
    )
