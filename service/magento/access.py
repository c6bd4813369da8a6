"""Signing in through Magento: admin and customer tokens, and a customer's password change and reset.

An admin token is a Gatehouse admin token; a customer token is the access token of an ordinary
Gatehouse session in the store's website, so Kibo and Magento see the same sessions.
"""

from __future__ import annotations

from dataclasses import dataclass

from service.accounts.fields import normalize_user_name
from service.accounts.passwords import AccountPasswords
from service.accounts.reset import PasswordResets
from service.admins.service import Admins
from service.audit import Actor
from service.errors import ErrorCode, InvalidInput, TooManyRequests, Unauthenticated
from service.limits.attempts import AttemptLimiter
from service.limits.lockout import attempt_policy
from service.magento import repository as repo
from service.magento.context import MagentoContext
from service.magento.errors import in_magento_words, invalid_value, sign_in_failed
from service.platform.db import Database
from service.platform.keyspace import magento_token_attempt_keys
from service.sessions.logins import Device, Logins
from service.sessions.revocations import SessionRevocations
from service.tenants.scope import CustomerScope

RESET_TEMPLATES = ("email_reset", "email_reminder")


@dataclass(frozen=True, kw_only=True, slots=True)
class MagentoAccess:
    db: Database
    attempts: AttemptLimiter
    admins: Admins
    logins: Logins
    revocations: SessionRevocations
    account_passwords: AccountPasswords
    password_resets: PasswordResets

    async def admin_token(self, ctx: MagentoContext, actor: Actor, username: str, password: str) -> str:
        try:
            token = await self.admins.sign_in(
                username=username, password=password, tenant_id=ctx.tenant_id, client_address=actor.client_address
            )
        except (Unauthenticated, TooManyRequests):
            raise sign_in_failed() from None
        return token.access_token

    async def customer_token(self, ctx: MagentoContext, actor: Actor, username: str, password: str) -> str:
        """A new session for the customer, in the store's website, living the tenant's accessTokenMinutes."""
        scope = ctx.login_scope()
        # Magento's token-endpoint throttle (RequestThrottler), per website and user name, on the tenant's
        # lockout settings: the attempt takes its slot before the password is checked.
        policy = attempt_policy(ctx.settings.lockout)
        attempt_keys = magento_token_attempt_keys(ctx.tenant_id, scope.customer_set_id, normalize_user_name(username))
        attempt = await self.attempts.reserve(attempt_keys, policy)
        if not attempt.granted:
            raise sign_in_failed()
        try:
            # The tenant's access-token lifetime; the session (whose refresh token nobody gets) ends with it.
            settings = ctx.settings
            lifetime = min(settings.access_token_minutes, settings.max_requested_refresh_token_minutes)
            ticket = await self.logins.login(scope, actor, username, None, password, Device(), (None, lifetime))
        except (Unauthenticated, TooManyRequests):
            await self.attempts.failed(attempt_keys, attempt.number, policy)
            raise sign_in_failed() from None
        await self.attempts.succeeded(attempt_keys)
        if ticket.requires_second_factor:
            # Magento's token route has no second step; the customer signs in where 2FA can be completed.
            raise Unauthenticated(
                "This account signs in with a second factor, which this route cannot take.",
                code=ErrorCode.TWO_FACTOR_REQUIRED,
            )
        return ticket.access_token

    async def revoke_customer_tokens(self, ctx: MagentoContext, actor: Actor) -> None:
        await self.revocations.end_all(actor, ctx.tenant_id, ctx.calling_customer.account_id)

    async def change_password(
        self, ctx: MagentoContext, actor: Actor, current_password: str, new_password: str
    ) -> None:
        """The customer's own password; every session of the customer ends, this token's included."""
        customer = ctx.calling_customer
        session = customer.session
        scope = ctx.customer_scope(session.customer_set_id, session.customer_set_code, ctx.storefront.id)
        try:
            await self.account_passwords.change(
                scope, actor, customer.account_id, current_password, new_password, unlock=False
            )
        except InvalidInput as exc:
            raise in_magento_words(exc) from None

    async def request_password_reset(
        self, ctx: MagentoContext, actor: Actor, email: str, template: str, website_id: int | None
    ) -> None:
        """Mails a single-use reset token when the customer exists, and is silent when not, so the route
        does not tell who has an account (Magento answers 404 for unknown addresses)."""
        if template not in RESET_TEMPLATES:
            raise invalid_value("template", template)
        scope = await self._website_scope(ctx, website_id)
        await self.password_resets.request(scope, actor, email, None, None)

    async def reset_password(
        self, ctx: MagentoContext, actor: Actor, email: str, token: str, new_password: str
    ) -> None:
        try:
            await self.password_resets.confirm(ctx.store_scope(), actor, email, token, new_password)
        except InvalidInput as exc:
            raise in_magento_words(exc) from None

    async def _website_scope(self, ctx: MagentoContext, website_id: int | None) -> CustomerScope:
        if website_id is None:
            return ctx.store_scope()
        website = await repo.get_website(self.db, ctx.tenant_id, website_id)
        if website is None:
            raise invalid_value("websiteId", website_id)
        return ctx.customer_scope(website.id, website.code, ctx.storefront.id)
