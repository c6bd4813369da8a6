"""Every capability of one process, built once, each handed its collaborators by keyword.

`create_app` builds them for the HTTP service and the command line builds them for its commands;
nothing looks a capability up at run time. The HTTP surfaces receive them through Litestar's
dependency injection (see `service.app`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from typing import Any

from redis.asyncio import Redis

from service.accounts.passwords import AccountPasswords
from service.accounts.reset import PasswordResets
from service.accounts.service import Accounts
from service.admins.service import Admins
from service.applications.service import Applications
from service.applications.tickets import AppTickets
from service.audit import AuditTrail
from service.contacts.service import Contacts
from service.limits.lockout import Lockout
from service.magento.access import MagentoAccess
from service.magento.customers import MagentoCustomers
from service.magento.stores import MagentoStores
from service.platform.background import Background
from service.platform.config import Settings
from service.platform.crypto import Passwords, SecretBox
from service.platform.db import Database
from service.platform.mail import Mailer
from service.platform.redis import create_redis
from service.sessions.issuer import SessionIssuer
from service.sessions.logins import Logins
from service.sessions.rotation import RefreshRotation
from service.sessions.second_steps import SecondSteps
from service.sessions.store import Sessions
from service.tenants.service import Tenants
from service.tokens.introspection import TokenIntrospection
from service.tokens.keys import KeyCache
from service.twofactor.challenges import Challenges
from service.twofactor.service import TwoFactor


@dataclass(frozen=True, kw_only=True, slots=True)
class Capabilities:
    settings: Settings
    db: Database
    redis: Redis
    background: Background
    app_tickets: AppTickets
    tenants: Tenants
    applications: Applications
    admins: Admins
    audit_trail: AuditTrail
    accounts: Accounts
    account_passwords: AccountPasswords
    password_resets: PasswordResets
    contacts: Contacts
    sessions: Sessions
    challenges: Challenges
    twofactor: TwoFactor
    logins: Logins
    second_steps: SecondSteps
    keys: KeyCache
    introspection: TokenIntrospection
    magento_stores: MagentoStores
    magento_customers: MagentoCustomers
    magento_access: MagentoAccess

    def by_name(self) -> dict[str, Any]:
        """Each capability under its field name: the names handlers ask for."""
        return {field.name: getattr(self, field.name) for field in fields(self)}


@dataclass(frozen=True, kw_only=True, slots=True)
class _Platform:
    settings: Settings
    db: Database
    redis: Redis
    background: Background
    passwords: Passwords
    mailer: Mailer
    box: SecretBox


def _platform(settings: Settings) -> _Platform:
    """Nothing here connects: the database opens with the application, Redis on first use."""
    background = Background()
    return _Platform(
        settings=settings,
        db=Database(settings.database_url or ""),
        redis=create_redis(settings.redis_url or "redis://127.0.0.1:6379"),
        background=background,
        # As many hashing threads as cores: a worker may get more than its share of logins.
        passwords=Passwords(max_parallel=os.cpu_count() or 1),
        mailer=Mailer(smtp_url=settings.smtp_url, sender=settings.mail_from, outbox=settings.data_dir / "outbox",
                      background=background),
        box=SecretBox(settings.secrets_key),
    )


def build_capabilities(settings: Settings) -> Capabilities:
    p = _platform(settings)
    db, redis = p.db, p.redis
    app_tickets = AppTickets(
        db=db, redis=redis, access_minutes=settings.app_token_minutes, refresh_minutes=settings.app_refresh_token_minutes
    )
    tenants = Tenants(db=db, caps=settings.caps, app_tickets=app_tickets)
    admins = Admins(db=db, redis=redis, passwords=p.passwords, token_minutes=settings.admin_token_minutes)
    sessions, lockout, challenges = Sessions(redis=redis), Lockout(redis=redis), Challenges(redis=redis)
    keys = KeyCache(db=db, box=p.box)
    twofactor = TwoFactor(db=db, challenges=challenges, mailer=p.mailer, box=p.box)
    account_passwords = AccountPasswords(db=db, passwords=p.passwords, sessions=sessions, lockout=lockout)
    accounts = Accounts(db=db, passwords=account_passwords, sessions=sessions, lockout=lockout)
    password_resets = PasswordResets(
        db=db, redis=redis, passwords=account_passwords, mailer=p.mailer, background=p.background
    )
    issuer = SessionIssuer(settings=settings, db=db, sessions=sessions, keys=keys, challenges=challenges)
    logins = Logins(
        settings=settings, db=db, passwords=p.passwords, account_passwords=account_passwords, accounts=accounts,
        sessions=sessions, rotation=RefreshRotation(redis=redis), keys=keys, lockout=lockout, twofactor=twofactor,
        issuer=issuer,
    )
    return Capabilities(
        settings=settings, db=db, redis=redis, background=p.background, app_tickets=app_tickets, tenants=tenants,
        applications=Applications(db=db, tickets=app_tickets), admins=admins, audit_trail=AuditTrail(db=db),
        accounts=accounts, account_passwords=account_passwords, password_resets=password_resets,
        contacts=Contacts(db=db), sessions=sessions, challenges=challenges, twofactor=twofactor, logins=logins,
        second_steps=SecondSteps(settings=settings, db=db, tenants=tenants, twofactor=twofactor, issuer=issuer,
                                 mailer=p.mailer, background=p.background),
        keys=keys, introspection=TokenIntrospection(sessions=sessions, keys=keys, issuer_for=settings.issuer_for),
        magento_stores=MagentoStores(db=db),
        magento_customers=MagentoCustomers(
            db=db, accounts=accounts, account_passwords=account_passwords, sessions=sessions
        ),
        magento_access=MagentoAccess(
            db=db, redis=redis, admins=admins, logins=logins, sessions=sessions, account_passwords=account_passwords,
            password_resets=password_resets,
        ),
    )
