"""Magento's customer, token and store operations on Gatehouse's accounts, contacts and sessions.

Nothing here has data of its own beyond Magento's extra fields: a Magento customer is a customer
account (its website the account's customer set), its addresses are the account's contacts, its
default billing/shipping address the primary Billing/Shipping contact, and a customer token is the
access token of an ordinary Gatehouse session. What one API writes, the other reads.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

import asyncpg
import msgspec

from service import audit
from service.accounts import repository as accounts_repo
from service.accounts.creation import NewAccount, insert_account
from service.accounts.fields import account_columns, duplicate, normalize_email, normalize_user_name
from service.accounts.passwords import AccountPasswords
from service.accounts.records import Account, AccountChanges, Contact, ContactFields, ContactType
from service.accounts.reset import PasswordResets
from service.accounts.service import Accounts
from service.admins.service import Admins
from service.audit import Actor
from service.contacts import repository as contacts_repo
from service.contacts.service import insert_contact
from service.errors import Conflict, GatehouseError, InvalidInput, NotFound, TooManyRequests, Unauthenticated
from service.magento import repository as repo
from service.magento.errors import (
    email_taken, invalid_value, no_such_entity, required, sign_in_failed, store_not_found,
)
from service.magento.inputs import MagentoAddressInput, MagentoCustomerInput
from service.magento.context import MagentoContext
from service.magento.records import (
    AddressExtras, CustomerExtras, CustomerPage, MagentoCustomer, Store, StoreGroup, Website, telephone,
)
from service.magento.search import SearchCriteria, compile_criteria
from service.platform.redis import PREFIX
from redis.asyncio import Redis

from service.platform.db import Database
from service.sessions.logins import Device, Logins
from service.sessions.store import Sessions
from service.tenants.settings import TenantSettings

RESET_TEMPLATES = ("email_reset", "email_reminder")
ADMIN_STORE_CODE = "all"
DEFAULT_STORE_CODE = "default"
_ADDRESS_REQUIRED = ("firstname", "lastname", "street", "city", "country_id", "telephone")
# Magento's token-endpoint throttle (RequestThrottler), counted per website and user name. An attempt
# takes its slot before the password is checked, so parallel guesses cannot pass the limit; the attempt
# that reaches it extends the count's life to the lock time; a success clears it.
_RESERVE_ATTEMPT = """
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
if n == tonumber(ARGV[2]) then redis.call('EXPIRE', KEYS[1], ARGV[3]) end
return n
"""


def _account_changes(customer: MagentoCustomerInput) -> AccountChanges:
    return AccountChanges(
        email_address=customer.email, first_name=customer.firstname, last_name=customer.lastname,
        tax_id=customer.taxvat, accepts_marketing=customer.is_subscribed,
    )


def _magento_error(exc: GatehouseError, customer: MagentoCustomerInput | None = None) -> GatehouseError:
    """Account-service errors in Magento's words, where Magento has its own."""
    if exc.code == "INVALID_EMAIL" and customer is not None:
        return invalid_value("email", customer.email)
    if exc.code in ("EMAIL_TAKEN", "USERNAME_TAKEN"):
        return email_taken()
    if exc.code == "TOO_MANY_CONTACTS":
        return InvalidInput(exc.message.replace("An account", "A customer").replace("contacts", "addresses"), code=exc.code)
    if exc.code in ("INVALID_OLD_PASSWORD", "INVALID_PASSWORD"):
        return Unauthenticated("The password doesn't match this account. Verify the password and try again.",
                               code=exc.code)
    if exc.code == "INVALID_CONFIRMATION_CODE":
        return InvalidInput("The password token is mismatched. Reset and try again.", code=exc.code)
    return exc


def _contact_fields(address: MagentoAddressInput, current: Contact | None) -> ContactFields:
    """Contact fields from a Magento address. Fields Magento cannot see (email, label, mobile and work
    phones, address type) keep their current values; the ones it can see are replaced, as Magento does."""
    kept = current.fields if current is not None else ContactFields()
    street: list[str | None] = [*(address.street or ()), None, None, None, None]
    phone_home = address.telephone
    if current is not None and address.telephone == telephone(kept):
        phone_home = kept.phone_home  # the number shown, sent back: the phones stay as they are
    return msgspec.structs.replace(
        kept, first_name=address.firstname, last_name_or_surname=address.lastname,
        middle_name_or_initial=address.middlename, company_or_organization=address.company,
        fax_number=address.fax, phone_home=phone_home, address1=street[0], address2=street[1],
        address3=street[2], address4=street[3], city_or_town=address.city, state_or_province=address.region_code,
        postal_or_zip_code=address.postcode, country_code=address.country_id,
    )


def _address_extras(address: MagentoAddressInput) -> AddressExtras:
    return AddressExtras(region_id=address.region_id, region=address.region, prefix=address.prefix,
                         suffix=address.suffix, vat_id=address.vat_id)


def _contact_types(address: MagentoAddressInput, current: tuple[ContactType, ...]) -> list[tuple[str, bool]]:
    """Billing/Shipping types: a true default flag makes the type primary; false keeps the type but not as
    primary; a flag left out keeps what the contact had."""
    existing = {t.name: t.is_primary for t in current}
    types: dict[str, bool] = {}
    for name, flag in (("Billing", address.default_billing), ("Shipping", address.default_shipping)):
        if flag:
            types[name] = True
        elif name in existing:
            types[name] = existing[name] if flag is None else False
    return list(types.items())


def _check_address(address: MagentoAddressInput) -> None:
    for name in _ADDRESS_REQUIRED:
        if not getattr(address, name):  # left out, empty text or no street line
            raise required(name)


def _check_customer(customer: MagentoCustomerInput) -> None:
    for name in ("email", "firstname", "lastname"):
        if not getattr(customer, name):
            raise required(name)
    for address in customer.addresses or []:
        _check_address(address)


def _throttle_key(tenant_id: int, website_id: int, username: str) -> str:
    digest = hashlib.sha256(normalize_user_name(username).encode()).hexdigest()
    return f"{PREFIX}magefail:{tenant_id}:{website_id}:{digest}"


@dataclass(frozen=True, kw_only=True, slots=True)
class MagentoCustomers:
    """Magento's customers, tokens and stores, on Gatehouse's accounts, contacts and sessions."""

    db: Database
    redis: Redis
    accounts: Accounts
    account_passwords: AccountPasswords
    password_resets: PasswordResets
    admins: Admins
    logins: Logins
    sessions: Sessions

    # --- tenant and store of a call ---------------------------------------------------------------

    async def tenant_for_host(self, host: str) -> int | None:
        return await repo.tenant_for_host(self.db, host)

    async def storefront(self, tenant_id: int, code: str | None) -> tuple[TenantSettings, Store | None, Store]:
        """(tenant settings, the store of `code`, the default store). `default` (or no code) is the tenant's default
        site, `all` the admin store (None); any other code must be a site code of the tenant."""
        named = None if code in (None, DEFAULT_STORE_CODE, ADMIN_STORE_CODE) else code
        found = await repo.tenant_stores(self.db, tenant_id, named)
        default = next((store for store in found[1] if store.is_default), None) if found is not None else None
        if found is None or default is None:
            raise NotFound("Tenant not found.", code="TENANT_NOT_FOUND")
        settings, stores = found
        if code == ADMIN_STORE_CODE:
            return settings, None, default
        if named is None:
            return settings, default, default
        match = next((store for store in stores if store.code == named), None)
        if match is None:
            raise store_not_found()
        return settings, match, default

    # --- tokens ---------------------------------------------------------------------------------

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
        policy = ctx.settings.lockout
        key = _throttle_key(ctx.tenant_id, scope.customer_set_id, username)
        attempt = await self.redis.eval(
            _RESERVE_ATTEMPT, 1, key, policy.window_minutes * 60, policy.max_failures, policy.lock_minutes * 60
        )
        if int(attempt) > policy.max_failures:
            raise sign_in_failed()
        try:
            # The tenant's access-token lifetime; the session (whose refresh token nobody gets) ends with it.
            settings = ctx.settings
            lifetime = min(settings.access_token_minutes, settings.max_requested_refresh_token_minutes)
            ticket = await self.logins.login(scope, actor, username, None, password, Device(), (None, lifetime))
        except (Unauthenticated, TooManyRequests):
            raise sign_in_failed() from None
        await self.redis.delete(key)
        if ticket.requires_second_factor:
            # Magento's token route has no second step; the customer signs in where 2FA can be completed.
            raise Unauthenticated("This account signs in with a second factor, which this route cannot take.",
                                  code="TWO_FACTOR_REQUIRED")
        return ticket.access_token

    async def revoke_customer_tokens(self, ctx: MagentoContext) -> bool:
        assert ctx.customer is not None
        await self.sessions.end_all_for_account(ctx.tenant_id, ctx.customer.account_id)
        return True

    # --- stores ---------------------------------------------------------------------------------

    async def store_views(self, ctx: MagentoContext) -> list[Store]:
        return await repo.list_stores(self.db, ctx.tenant_id)

    async def websites(self, ctx: MagentoContext) -> list[Website]:
        return await repo.list_websites(self.db, ctx.tenant_id)

    async def store_groups(self, ctx: MagentoContext) -> list[StoreGroup]:
        return await repo.list_store_groups(self.db, ctx.tenant_id)

    # --- reading customers ----------------------------------------------------------------------

    async def _customer(self, conn: Any, tenant_id: int, customer_id: int) -> MagentoCustomer:
        customer = await repo.get_customer(conn, tenant_id, customer_id)
        if customer is None:
            raise no_such_entity("customerId", customer_id)
        return customer

    async def get_customer(self, ctx: MagentoContext, customer_id: int) -> MagentoCustomer:
        return await self._customer(self.db, ctx.tenant_id, customer_id)

    async def current_customer(self, ctx: MagentoContext) -> MagentoCustomer:
        assert ctx.customer is not None
        return await self._customer(self.db, ctx.tenant_id, ctx.customer.account_id)

    async def search(self, ctx: MagentoContext, criteria: SearchCriteria) -> CustomerPage:
        where, values, order = compile_criteria(criteria, first_parameter=2)
        items, total = await repo.search_customers(
            self.db, ctx.tenant_id, where, values, order, criteria.offset, criteria.limit
        )
        return CustomerPage(items=tuple(items), total_count=total)

    async def email_available(self, ctx: MagentoContext, email: str, website_id: int | None) -> bool:
        website = website_id if website_id is not None else ctx.storefront.website_id
        return not await repo.email_exists(self.db, ctx.tenant_id, website, normalize_email(email))

    # --- creating and changing customers --------------------------------------------------------

    async def _placement(self, conn: Any, ctx: MagentoContext, store_id: int | None,
                         website_id: int | None) -> tuple[Store | None, int, str]:
        """(store, website id, website code) of a new customer: its store_id and website_id, else the
        call's store. The admin store (`all`, store_id 0) has no website of its own."""
        if store_id:
            store = await repo.get_store(conn, ctx.tenant_id, store_id)
            if store is None:
                raise store_not_found()
            if website_id is not None and website_id != store.website_id:
                raise InvalidInput("The store view is not in the associated website.", code="STORE_NOT_IN_WEBSITE")
            return store, store.website_id, store.website_code
        if website_id:
            website = await repo.get_website(conn, ctx.tenant_id, website_id)
            if website is None:
                raise invalid_value("website_id", website_id)
            if ctx.store is not None and ctx.store.website_id == website_id:
                return ctx.store, website_id, website.code
            return await repo.default_store_of(conn, ctx.tenant_id, website_id), website_id, website.code
        if store_id == 0 or ctx.store is None:
            raise InvalidInput("The customer website ID must be specified when using the website scope.",
                               code="WEBSITE_REQUIRED")
        return ctx.store, ctx.store.website_id, ctx.store.website_code

    @staticmethod
    def _account_columns(customer: MagentoCustomerInput, current: Account | None) -> dict[str, Any]:
        try:
            return account_columns(_account_changes(customer), current)
        except InvalidInput as exc:
            raise _magento_error(exc, customer) from None

    @staticmethod
    def _extras(customer: MagentoCustomerInput, current: CustomerExtras, *, as_admin: bool) -> CustomerExtras:
        """Magento's own customer fields: what the body sends, else the current values. Only an admin
        chooses the customer group (as in Magento, a customer cannot move itself into another group)."""

        def pick(name: str, value: Any) -> Any:
            return value if value is not None else getattr(current, name)

        return msgspec.structs.replace(
            current,
            group_id=pick("group_id", customer.group_id if as_admin else None),
            disable_auto_group_change=pick("disable_auto_group_change",
                                           customer.disable_auto_group_change if as_admin else None),
            prefix=pick("prefix", customer.prefix), middlename=pick("middlename", customer.middlename),
            suffix=pick("suffix", customer.suffix), dob=pick("dob", customer.dob),
            gender=pick("gender", customer.gender),
        )

    async def _new_password_hash(self, ctx: MagentoContext, password: str | None) -> str | None:
        return None if password is None else await self.account_passwords.hash_new(password, ctx.settings)

    async def create_customer(self, ctx: MagentoContext, actor: Actor, customer: MagentoCustomerInput,
                              password: str | None) -> MagentoCustomer:
        _check_customer(customer)
        # Registration is open to anyone; an admin who may manage customers also picks the group.
        as_admin = ctx.admin is not None and ctx.admin.role != "viewer"
        password_hash = await self._new_password_hash(ctx, password)
        async with self.db.acquire() as conn, conn.transaction():
            store, website_id, _ = await self._placement(conn, ctx, customer.store_id, customer.website_id)
            new = NewAccount(changes=_account_changes(customer), password_hash=password_hash)
            try:
                account_id = await insert_account(conn, ctx.tenant_id, website_id, actor, new, {"via": "magento"})
            except (InvalidInput, Conflict) as exc:
                raise _magento_error(exc, customer) from None
            defaults = CustomerExtras(store_id=store.id if store else None, created_in=store.name if store else "Admin",
                                      group_id=1, disable_auto_group_change=0)
            await repo.save_extras(conn, ctx.tenant_id, account_id, self._extras(customer, defaults, as_admin=as_admin))
            for address in customer.addresses or []:
                await self._save_address(conn, ctx.tenant_id, account_id, address, None, actor)
            return await self._customer(conn, ctx.tenant_id, account_id)

    async def _save_address(self, conn: asyncpg.Connection, tenant_id: int, account_id: int, address: MagentoAddressInput,
                            current: Contact | None, actor: Actor) -> int:
        fields = _contact_fields(address, current)
        types = _contact_types(address, current.types if current is not None else ())
        if current is None:
            try:
                contact_id = await insert_contact(conn, tenant_id, account_id, fields, types, actor.name)
            except InvalidInput as exc:
                raise _magento_error(exc) from None
        else:
            contact_id = current.id
            await contacts_repo.update(conn, tenant_id, account_id, contact_id, fields, actor.name)
            await contacts_repo.replace_types(conn, tenant_id, account_id, contact_id, types)
        await repo.save_address_extras(conn, tenant_id, account_id, contact_id, _address_extras(address))
        return contact_id

    async def _replace_addresses(self, conn: asyncpg.Connection, tenant_id: int, account_id: int,
                                 addresses: tuple[MagentoAddressInput, ...], actor: Actor) -> None:
        """Magento's save: addresses with an id are updated, those without are added, and the customer's
        addresses left out of the list are deleted."""
        current = {contact.id: contact for contact in await contacts_repo.list_for_account(conn, tenant_id, account_id)}
        kept = set()
        for address in addresses:
            if address.id is not None and address.id not in current:
                raise no_such_entity("addressId", address.id)
            kept.add(await self._save_address(conn, tenant_id, account_id, address, current.get(address.id), actor))
        for contact_id in set(current) - kept:
            await contacts_repo.delete(conn, tenant_id, account_id, contact_id)

    async def _set_default(self, conn: asyncpg.Connection, tenant_id: int, account_id: int, type_name: str,
                           address_id: str | None) -> None:
        """`default_billing` / `default_shipping` given as an address id: that address becomes the primary one."""
        if address_id is None or address_id == "":
            return
        contact = await contacts_repo.get(conn, tenant_id, account_id, int(address_id)) if address_id.isdigit() else None
        if contact is None:
            raise no_such_entity("addressId", address_id)
        types = {t.name: t.is_primary for t in contact.types}
        types[type_name] = True
        await contacts_repo.replace_types(conn, tenant_id, account_id, contact.id, list(types.items()))

    async def update_customer(self, ctx: MagentoContext, actor: Actor, customer_id: int,
                              customer: MagentoCustomerInput) -> MagentoCustomer:
        """PUT: fields left out keep their values; `addresses`, when sent, is the whole address list.
        A customer changing itself cannot change its group, website or store."""
        as_admin = ctx.admin is not None
        for address in customer.addresses or []:
            _check_address(address)
        async with self.db.acquire() as conn, conn.transaction():
            current = await self._customer(conn, ctx.tenant_id, customer_id)
            website_id = current.website_id
            if as_admin and customer.website_id is not None and customer.website_id != website_id:
                raise InvalidInput("A customer's website cannot be changed.", code="WEBSITE_CHANGE_UNSUPPORTED")
            account = await accounts_repo.get_account(conn, ctx.tenant_id, website_id, customer_id)
            fields = self._account_columns(customer, account)
            try:
                async with conn.transaction():
                    await accounts_repo.update_account(conn, ctx.tenant_id, website_id, customer_id, fields, actor.name)
            except asyncpg.UniqueViolationError:
                raise email_taken() from None
            extras = self._extras(customer, current.extras, as_admin=as_admin)
            if as_admin and customer.store_id is not None and customer.store_id != extras.store_id:
                store = await repo.get_store(conn, ctx.tenant_id, customer.store_id)
                if store is None or store.website_id != website_id:
                    raise InvalidInput("The store view is not in the associated website.", code="STORE_NOT_IN_WEBSITE")
                extras = msgspec.structs.replace(extras, store_id=store.id)
            await repo.save_extras(conn, ctx.tenant_id, customer_id, extras)
            if customer.addresses is not None:
                await self._replace_addresses(conn, ctx.tenant_id, customer_id, customer.addresses, actor)
            await self._set_default(conn, ctx.tenant_id, customer_id, "Billing", customer.default_billing)
            await self._set_default(conn, ctx.tenant_id, customer_id, "Shipping", customer.default_shipping)
            await audit.record(conn, actor, ctx.tenant_id, "account.updated", "customer_account", customer_id,
                               {"via": "magento"})
            changed = await self._customer(conn, ctx.tenant_id, customer_id)
        # The customer's live sessions (Kibo or Magento) answer with the account as it is now.
        account = await accounts_repo.get_account(self.db, ctx.tenant_id, website_id, customer_id)
        if account is not None:
            await self.sessions.update_account(ctx.tenant_id, account)
        return changed

    async def delete_customer(self, ctx: MagentoContext, actor: Actor, customer_id: int) -> bool:
        customer = await self._customer(self.db, ctx.tenant_id, customer_id)
        scope = ctx.customer_scope(customer.website_id, customer.website_code, customer.extras.store_id or 0)
        await self.accounts.delete(scope, actor, customer_id)  # ends the customer's sessions too
        return True

    # --- passwords ------------------------------------------------------------------------------

    async def change_password(self, ctx: MagentoContext, actor: Actor, current_password: str, new_password: str) -> bool:
        """The customer's own password; every session of the customer ends, this token's included."""
        assert ctx.customer is not None
        session = ctx.customer.session
        scope = ctx.customer_scope(session.customer_set_id, session.customer_set_code, ctx.storefront.id)
        try:
            await self.account_passwords.change(scope, actor, ctx.customer.account_id, current_password, new_password,
                                                unlock=False)
        except InvalidInput as exc:
            raise _magento_error(exc) from None
        return True

    async def _website_scope(self, ctx: MagentoContext, website_id: int | None) -> Any:
        if website_id is None:
            return ctx.store_scope()
        website = await repo.get_website(self.db, ctx.tenant_id, website_id)
        if website is None:
            raise invalid_value("websiteId", website_id)
        return ctx.customer_scope(website.id, website.code, ctx.storefront.id)

    async def request_password_reset(self, ctx: MagentoContext, actor: Actor, email: str, template: str,
                                     website_id: int | None) -> bool:
        """Mails a single-use reset token when the customer exists; answers true either way, so the
        route does not tell who has an account (Magento answers 404 for unknown addresses)."""
        if template not in RESET_TEMPLATES:
            raise invalid_value("template", template)
        scope = await self._website_scope(ctx, website_id)
        await self.password_resets.request(scope, actor, email, None, None)
        return True

    async def reset_password(self, ctx: MagentoContext, actor: Actor, email: str, token: str, new_password: str) -> bool:
        try:
            await self.password_resets.confirm(ctx.store_scope(), actor, email, token, new_password)
        except InvalidInput as exc:
            raise _magento_error(exc) from None
        return True
