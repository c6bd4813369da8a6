"""Every capability of one process, built once, each handed its collaborators by keyword.

`create_app` builds them for the HTTP service and the command line builds them for its commands;
nothing looks a capability up at run time. The HTTP surfaces receive them through Litestar's
dependency injection (see `service.app`).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, fields
from functools import cached_property
from typing import Any

from service.accounts.passwords import AccountPasswords
from service.accounts.reset import PasswordResets
from service.accounts.service import Accounts
from service.admins.service import Admins
from service.applications.service import Applications
from service.applications.tickets import AppTickets
from service.audit import AuditTrail
from service.contacts.service import Contacts
from service.events.delivery import DeliveryPolicy, DeliveryWorker
from service.events.endpoints import Webhooks
from service.events.sender import Sender
from service.events.ssrf import AddressPolicy
from service.imports.runner import Hashing
from service.imports.service import Imports
from service.limits.attempts import AttemptLimiter
from service.limits.lockout import Lockout
from service.magento.access import MagentoAccess
from service.magento.customers import MagentoCustomers
from service.magento.stores import MagentoStores
from service.platform.background import Background
from service.platform.config import Settings
from service.platform.crypto import SecretBox
from service.platform.db import Database
from service.platform.hash_slots import HashSlots
from service.platform.mail import Mailer
from service.platform.passwords import Passwords
from service.platform.redis import RedisClient, create_redis
from service.platform.replica_acks import AcknowledgedWrites
from service.sessions.issuer import SessionIssuer
from service.sessions.logins import Logins
from service.sessions.revocations import SessionRevocations
from service.sessions.rotation import RefreshRotation
from service.sessions.second_steps import SecondSteps
from service.sessions.store import Sessions
from service.tenants.service import Tenants
from service.tokens.introspection import TokenIntrospection
from service.tokens.keys import KeyCache
from service.tokens.resolver import TokenResolver
from service.tokens.verified_jwts import VerifiedJwts
from service.twofactor.challenges import Challenges
from service.twofactor.service import TwoFactor


@dataclass(frozen=True, kw_only=True, slots=True)
class Capabilities:
    settings: Settings
    db: Database
    redis: RedisClient
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
    session_revocations: SessionRevocations
    challenges: Challenges
    twofactor: TwoFactor
    logins: Logins
    second_steps: SecondSteps
    keys: KeyCache
    tokens: TokenResolver
    introspection: TokenIntrospection
    magento_stores: MagentoStores
    magento_customers: MagentoCustomers
    magento_access: MagentoAccess
    webhooks: Webhooks
    deliveries: DeliveryWorker
    imports: Imports

    def by_name(self) -> dict[str, Any]:
        """Each capability under its field name: the names handlers ask for."""
        return {field.name: getattr(self, field.name) for field in fields(self)}


class _Builder:
    """Builds each capability once, on first use, from the ones it needs: the order follows the dependencies."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        # Nothing here connects: the database opens with the application, Redis on first use.
        self.db = Database(settings.database_url or "", settings.db_pool)
        self.redis = create_redis(settings.redis_url or "redis://127.0.0.1:6379")
        self.background = Background()
        # As many hashing threads as cores this process may run on, unless set (in a container the CPU limit, not
        # the node's cores, is what the hashes share): one worker may get most of the logins. As many slots, shared by
        # all workers, so that they never run more hashes at once than that between them (service.platform.hash_slots).
        self.hash_threads = settings.hash_threads or len(os.sched_getaffinity(0))
        self.passwords = Passwords(max_parallel=self.hash_threads, slots=HashSlots.of_service(self.hash_threads))
        self.mailer = Mailer(
            smtp_url=settings.smtp_url,
            sender=settings.mail_from,
            outbox=settings.data_dir / "outbox",
            background=self.background,
        )
        self.box = SecretBox(settings.secrets_key)
        self.writes = AcknowledgedWrites(
            redis=self.redis, replicas=settings.redis_wait_replicas, timeout_ms=settings.redis_wait_timeout_ms
        )
        self.sessions = Sessions(redis=self.redis, writes=self.writes)
        self.session_revocations = SessionRevocations(db=self.db, sessions=self.sessions)
        self.challenges = Challenges(redis=self.redis)
        self.attempts = AttemptLimiter(redis=self.redis)
        self.lockout = Lockout(redis=self.redis, attempts=self.attempts)
        self.keys = KeyCache(db=self.db, box=self.box)
        self.audit_trail = AuditTrail(db=self.db)
        self.contacts = Contacts(db=self.db)
        self.address_policy = AddressPolicy(settings.webhook_allowed_networks)
        # Imported hashes are checked (and weak ones wrapped in Argon2id) on threads of their own, as many as the
        # login's hashing threads, for the same reason.
        threads = self.hash_threads
        hashing = Hashing(ThreadPoolExecutor(threads, thread_name_prefix="import-hashes"), threads)
        self.imports = Imports(db=self.db, hashing=hashing, sessions=self.sessions)

    @cached_property
    def app_tickets(self) -> AppTickets:
        s = self.settings
        return AppTickets(
            db=self.db,
            redis=self.redis,
            access_minutes=s.app_token_minutes,
            refresh_minutes=s.app_refresh_token_minutes,
        )

    @cached_property
    def tenants(self) -> Tenants:
        return Tenants(db=self.db, caps=self.settings.caps, app_tickets=self.app_tickets)

    @cached_property
    def applications(self) -> Applications:
        return Applications(db=self.db, tickets=self.app_tickets)

    @cached_property
    def admins(self) -> Admins:
        return Admins(
            db=self.db,
            redis=self.redis,
            passwords=self.passwords,
            attempts=self.attempts,
            token_minutes=self.settings.admin_token_minutes,
        )

    @cached_property
    def twofactor(self) -> TwoFactor:
        return TwoFactor(db=self.db, challenges=self.challenges, mailer=self.mailer, box=self.box)

    @cached_property
    def account_passwords(self) -> AccountPasswords:
        return AccountPasswords(db=self.db, passwords=self.passwords, sessions=self.sessions, lockout=self.lockout)

    @cached_property
    def accounts(self) -> Accounts:
        return Accounts(db=self.db, passwords=self.account_passwords, sessions=self.sessions, lockout=self.lockout)

    @cached_property
    def password_resets(self) -> PasswordResets:
        return PasswordResets(
            db=self.db,
            redis=self.redis,
            passwords=self.account_passwords,
            mailer=self.mailer,
            background=self.background,
        )

    @cached_property
    def issuer(self) -> SessionIssuer:
        return SessionIssuer(
            settings=self.settings, db=self.db, sessions=self.sessions, keys=self.keys, challenges=self.challenges
        )

    @cached_property
    def logins(self) -> Logins:
        return Logins(
            settings=self.settings,
            db=self.db,
            passwords=self.passwords,
            account_passwords=self.account_passwords,
            accounts=self.accounts,
            sessions=self.sessions,
            revocations=self.session_revocations,
            rotation=RefreshRotation(redis=self.redis, writes=self.writes),
            lockout=self.lockout,
            twofactor=self.twofactor,
            issuer=self.issuer,
        )

    @cached_property
    def second_steps(self) -> SecondSteps:
        return SecondSteps(
            settings=self.settings,
            db=self.db,
            tenants=self.tenants,
            twofactor=self.twofactor,
            issuer=self.issuer,
            mailer=self.mailer,
            background=self.background,
        )

    @cached_property
    def tokens(self) -> TokenResolver:
        jwts = VerifiedJwts(keys=self.keys, issuer_for=self.settings.issuer_for)
        return TokenResolver(sessions=self.sessions, jwts=jwts)

    @cached_property
    def introspection(self) -> TokenIntrospection:
        return TokenIntrospection(
            app_tickets=self.app_tickets,
            sessions=self.sessions,
            revocations=self.session_revocations,
            resolver=self.tokens,
            issuer_for=self.settings.issuer_for,
        )

    @cached_property
    def magento_stores(self) -> MagentoStores:
        return MagentoStores(db=self.db)

    @cached_property
    def magento_customers(self) -> MagentoCustomers:
        return MagentoCustomers(
            db=self.db, accounts=self.accounts, account_passwords=self.account_passwords, sessions=self.sessions
        )

    @cached_property
    def magento_access(self) -> MagentoAccess:
        return MagentoAccess(
            db=self.db,
            attempts=self.attempts,
            admins=self.admins,
            logins=self.logins,
            revocations=self.session_revocations,
            account_passwords=self.account_passwords,
            password_resets=self.password_resets,
        )

    @cached_property
    def webhooks(self) -> Webhooks:
        return Webhooks(db=self.db, box=self.box, policy=self.address_policy)

    @cached_property
    def deliveries(self) -> DeliveryWorker:
        s = self.settings
        policy = DeliveryPolicy(
            workers=s.webhook_workers,
            concurrency=s.webhook_concurrency,
            timeout_seconds=s.webhook_timeout_seconds,
            backoff_seconds=s.webhook_backoff_seconds,
            retry_seconds=s.webhook_retry_seconds,
            retention_days=s.webhook_retention_days,
        )
        sender = Sender(
            policy=self.address_policy,
            timeout_seconds=s.webhook_timeout_seconds,
            connections=max(s.webhook_workers, 1) * s.webhook_concurrency,
        )
        return DeliveryWorker(db=self.db, box=self.box, sender=sender, policy=policy)


def build_capabilities(settings: Settings) -> Capabilities:
    builder = _Builder(settings)
    return Capabilities(**{field.name: getattr(builder, field.name) for field in fields(Capabilities)})
