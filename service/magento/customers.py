"""Magento's customers on Gatehouse's customer accounts: read, search, create, change, delete.

A Magento customer is a customer account (its website the account's customer set) with a few fields
of Magento's own; what Magento writes, Kibo reads, and the other way round.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import asyncpg
import msgspec

from service import audit
from service.accounts import repository as accounts_repo
from service.accounts.creation import NewAccount, insert_account
from service.accounts.fields import account_columns, changed_columns, normalize_email
from service.accounts.passwords import AccountPasswords
from service.accounts.records import AccountChanges
from service.accounts.service import Accounts
from service.audit import Actor
from service.errors import Conflict, ErrorCode, InvalidInput
from service.magento import repository as repo
from service.magento.addresses import check_address, save_address, save_addresses, set_defaults
from service.magento.context import MagentoContext
from service.magento.errors import (
    email_taken,
    in_magento_words,
    invalid_value,
    no_such_entity,
    required,
    store_not_found,
)
from service.magento.inputs import MagentoCustomerInput
from service.magento.records import CustomerExtras, CustomerPage, MagentoCustomer, Store
from service.magento.search import SearchCriteria, compile_criteria
from service.platform.db import Conn, Connection, Database, returned_row
from service.sessions.store import Sessions
from service.tenants.transactions import tenant_transaction

_NEW_CUSTOMER_GROUP = 1  # Magento's "General" group


def _account_changes(customer: MagentoCustomerInput) -> AccountChanges:
    return AccountChanges(
        email_address=customer.email,
        first_name=customer.firstname,
        last_name=customer.lastname,
        tax_id=customer.taxvat,
        accepts_marketing=customer.is_subscribed,
    )


def _check_new_customer(customer: MagentoCustomerInput) -> None:
    for name in ("email", "firstname", "lastname"):
        if not getattr(customer, name):
            raise required(name)
    for address in customer.addresses or ():
        check_address(address)


def _store_not_in_website() -> InvalidInput:
    return InvalidInput("The store view is not in the associated website.", code=ErrorCode.STORE_NOT_IN_WEBSITE)


def _extras(customer: MagentoCustomerInput, current: CustomerExtras, *, as_admin: bool) -> CustomerExtras:
    """Magento's own customer fields: what the body sends, else the current values. Only an admin
    chooses the customer group (as in Magento, a customer cannot move itself into another group)."""

    def pick(name: str, value: Any) -> Any:
        return value if value is not None else getattr(current, name)

    return msgspec.structs.replace(
        current,
        group_id=pick("group_id", customer.group_id if as_admin else None),
        disable_auto_group_change=pick(
            "disable_auto_group_change", customer.disable_auto_group_change if as_admin else None
        ),
        prefix=pick("prefix", customer.prefix),
        middlename=pick("middlename", customer.middlename),
        suffix=pick("suffix", customer.suffix),
        dob=pick("dob", customer.dob),
        gender=pick("gender", customer.gender),
    )


def _changed_fields(before: CustomerExtras, after: CustomerExtras) -> list[str]:
    """Names of Magento's own fields that a save changed (names only, as the audit trail keeps them)."""
    return [name for name in before.__struct_fields__ if getattr(before, name) != getattr(after, name)]


async def _require_customer(conn: Conn, tenant_id: int, customer_id: int) -> MagentoCustomer:
    customer = await repo.get_customer(conn, tenant_id, customer_id)
    if customer is None:
        raise no_such_entity("customerId", customer_id)
    return customer


async def _placement(conn: Conn, ctx: MagentoContext, customer: MagentoCustomerInput) -> tuple[Store | None, int]:
    """(store, website id) of a new customer: its store_id and website_id, else the call's store. The admin
    store (`all`, store_id 0) has no website of its own."""
    store_id, website_id = customer.store_id, customer.website_id
    if store_id:
        store = await repo.get_store(conn, ctx.tenant_id, store_id)
        if store is None:
            raise store_not_found()
        if website_id is not None and website_id != store.website_id:
            raise _store_not_in_website()
        return store, store.website_id
    if website_id:
        if await repo.get_website(conn, ctx.tenant_id, website_id) is None:
            raise invalid_value("website_id", website_id)
        if ctx.store is not None and ctx.store.website_id == website_id:
            return ctx.store, website_id
        return await repo.default_store_of(conn, ctx.tenant_id, website_id), website_id
    if store_id == 0 or ctx.store is None:
        raise InvalidInput(
            "The customer website ID must be specified when using the website scope.", code=ErrorCode.WEBSITE_REQUIRED
        )
    return ctx.store, ctx.store.website_id


@dataclass(frozen=True, kw_only=True, slots=True)
class MagentoCustomers:
    db: Database
    accounts: Accounts
    account_passwords: AccountPasswords
    sessions: Sessions

    async def get_customer(self, ctx: MagentoContext, customer_id: int) -> MagentoCustomer:
        return await _require_customer(self.db, ctx.tenant_id, customer_id)

    async def current_customer(self, ctx: MagentoContext) -> MagentoCustomer:
        return await _require_customer(self.db, ctx.tenant_id, ctx.calling_customer.account_id)

    async def search(self, ctx: MagentoContext, criteria: SearchCriteria) -> CustomerPage:
        where, values, order = compile_criteria(criteria, first_parameter=2)
        items, total = await repo.search_customers(
            self.db, ctx.tenant_id, where, values, order, criteria.offset, criteria.limit
        )
        return CustomerPage(items=tuple(items), total_count=total)

    async def email_available(self, ctx: MagentoContext, email: str, website_id: int | None) -> bool:
        website = website_id if website_id is not None else ctx.storefront.website_id
        return not await repo.email_exists(self.db, ctx.tenant_id, website, normalize_email(email))

    async def create_customer(
        self, ctx: MagentoContext, actor: Actor, customer: MagentoCustomerInput, password: str | None
    ) -> MagentoCustomer:
        _check_new_customer(customer)
        # Registration is open to anyone; an admin who may manage customers also picks the group.
        as_admin = ctx.admin is not None and ctx.admin.role != "viewer"
        password_hash = None if password is None else await self.account_passwords.hash_new(password, ctx.settings)
        async with tenant_transaction(self.db, ctx.tenant_id) as conn:
            store, website_id = await _placement(conn, ctx, customer)
            new = NewAccount(changes=_account_changes(customer), password_hash=password_hash)
            try:
                account_id = await insert_account(conn, ctx.tenant_id, website_id, actor, new, {"via": "magento"})
            except (InvalidInput, Conflict) as exc:
                raise in_magento_words(exc, customer.email) from None
            defaults = CustomerExtras(
                store_id=store.id if store else None,
                created_in=store.name if store else "Admin",
                group_id=_NEW_CUSTOMER_GROUP,
                disable_auto_group_change=0,
            )
            await repo.save_extras(conn, ctx.tenant_id, account_id, _extras(customer, defaults, as_admin=as_admin))
            for address in customer.addresses or ():
                await save_address(conn, ctx.tenant_id, account_id, address, None, actor)
            await set_defaults(conn, ctx.tenant_id, account_id, customer)
            return await _require_customer(conn, ctx.tenant_id, account_id)

    async def update_customer(
        self, ctx: MagentoContext, actor: Actor, customer_id: int, customer: MagentoCustomerInput
    ) -> MagentoCustomer:
        """PUT: fields left out keep their values; `addresses`, when sent, is the whole address list.
        A customer changing itself cannot change its group, website or store."""
        as_admin = ctx.admin is not None
        for address in customer.addresses or ():
            check_address(address)
        async with tenant_transaction(self.db, ctx.tenant_id) as conn:
            current = await _require_customer(conn, ctx.tenant_id, customer_id)
            if as_admin and customer.website_id is not None and customer.website_id != current.website_id:
                raise InvalidInput("A customer's website cannot be changed.", code=ErrorCode.WEBSITE_CHANGE_UNSUPPORTED)
            fields = await self._update_account(conn, ctx.tenant_id, actor, current, customer)
            extras = await self._changed_extras(conn, ctx.tenant_id, current, customer, as_admin=as_admin)
            await repo.save_extras(conn, ctx.tenant_id, customer_id, extras)
            await save_addresses(conn, ctx.tenant_id, customer_id, customer, actor)
            fields += _changed_fields(current.extras, extras) + (
                ["addresses"] if customer.addresses is not None else []
            )
            details = {"via": "magento", "changed": sorted(fields)}
            await audit.record(conn, actor, ctx.tenant_id, "account.updated", "customer_account", customer_id, details)
            changed = await _require_customer(conn, ctx.tenant_id, customer_id)
        # The customer's live sessions (Kibo or Magento) answer with the account as it is now.
        account = await accounts_repo.get_account(self.db, ctx.tenant_id, current.website_id, customer_id)
        if account is not None:
            await self.sessions.update_account(ctx.tenant_id, account)
        return changed

    @staticmethod
    async def _update_account(
        conn: Connection, tenant_id: int, actor: Actor, current: MagentoCustomer, customer: MagentoCustomerInput
    ) -> list[str]:
        """Write the account's own fields; the names of those that changed come back."""
        account = returned_row(await accounts_repo.get_account(conn, tenant_id, current.website_id, current.id))
        try:
            columns = account_columns(_account_changes(customer), account)
        except InvalidInput as exc:
            raise in_magento_words(exc, customer.email) from None
        try:
            async with conn.transaction():  # a savepoint, so a duplicate leaves the outer transaction usable
                await accounts_repo.update_account(conn, tenant_id, current.website_id, current.id, columns, actor.name)
        except asyncpg.UniqueViolationError:
            raise email_taken() from None
        return changed_columns(columns, account)

    @staticmethod
    async def _changed_extras(
        conn: Conn, tenant_id: int, current: MagentoCustomer, customer: MagentoCustomerInput, *, as_admin: bool
    ) -> CustomerExtras:
        """The Magento fields of a changed customer; an admin may move it to another store of its website."""
        extras = _extras(customer, current.extras, as_admin=as_admin)
        if not as_admin or customer.store_id is None or customer.store_id == extras.store_id:
            return extras
        store = await repo.get_store(conn, tenant_id, customer.store_id)
        if store is None or store.website_id != current.website_id:
            raise _store_not_in_website()
        return msgspec.structs.replace(extras, store_id=store.id)

    async def delete_customer(self, ctx: MagentoContext, actor: Actor, customer_id: int) -> None:
        customer = await _require_customer(self.db, ctx.tenant_id, customer_id)
        scope = ctx.customer_scope(customer.website_id, customer.website_code, customer.extras.store_id or 0)
        await self.accounts.delete(scope, actor, customer_id)  # ends the customer's sessions too
