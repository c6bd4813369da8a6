"""Kibo's customer-account API: `/api/commerce/customer/accounts`."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, delete, get, post, put
from litestar.params import JSONBody, QueryParameter

from service.accounts.passwords import AccountPasswords
from service.accounts.reset import PasswordResets
from service.accounts.service import Accounts
from service.applications.behaviors import Behavior
from service.audit import Actor
from service.http.common import Id, Injected, PageSize, StartIndex, actor
from service.http.contract import APPLICATION_SECURITY, answers
from service.http.kibo.auth import CUSTOMER_SCOPE, scope_of
from service.http.kibo.conventions import kibo_response
from service.http.kibo.inputs import account_changes, new_account
from service.http.kibo.models import (
    ConfirmationInfo,
    CustomerAccount,
    CustomerAccountAndAuthInfo,
    CustomerPasswordInfo,
    CustomerResetPasswordInfo,
)
from service.http.kibo.render import account_body, collection, login_state_body
from service.http.kibo.unstored import check_account, check_bulk_item, check_password_info
from service.tenants.scope import CustomerScope

Text = Annotated[str | None, QueryParameter(max_length=1000)]
FilterText = Annotated[str | None, QueryParameter(name="filter", max_length=1000)]
CustomerSetCodeQuery = Annotated[str | None, QueryParameter(name="customerSetCode", max_length=100)]
ResponseGroups = Annotated[
    str | None, QueryParameter(name="responseGroups", max_length=200, description="`Contacts` adds contacts.")
]


def app_actor(request: Request[Any, Any, Any], customer: CustomerScope) -> Actor:
    return actor(request, customer.app.actor_name)


def _with_contacts(response_groups: str | None) -> bool:
    return "contacts" in (response_groups or "").lower()


class KiboController(Controller):
    """Base of Kibo commerce routes: the router has authenticated the application and found its scope (`scope_of`)."""

    security = APPLICATION_SECURITY


class AccountController(KiboController):
    path = "/api/commerce/customer/accounts"
    tags = ["Kibo: customer accounts"]
    opt = {CUSTOMER_SCOPE: True}

    @post("/", summary="Create a customer account (C1)", description="Answers 201 (Kibo documents 200).")
    async def add_account(
        self,
        request: Request[Any, Any, Any],
        accounts: Injected[Accounts],
        data: JSONBody[CustomerAccount],
    ) -> Response[CustomerAccount]:
        customer = scope_of(request)
        customer.app.require(Behavior.ACCOUNTS_WRITE)
        check_account(data, customer, None)
        account = await accounts.create(customer, app_actor(request, customer), new_account(data))
        return kibo_response(request, account_body(account), 201)

    @post("/Bulk", summary="Create accounts with their logins, each in its own transaction (C4)")
    async def add_accounts(
        self,
        request: Request[Any, Any, Any],
        accounts: Injected[Accounts],
        data: JSONBody[Annotated[list[CustomerAccountAndAuthInfo], msgspec.Meta(max_length=100)]],
    ) -> Response[Any]:
        customer = scope_of(request)
        customer.app.require(Behavior.ACCOUNTS_WRITE)
        for index, item in enumerate(data):  # all checked before the first is created
            check_bulk_item(item, customer, index)
        created = await accounts.import_accounts(
            customer,
            app_actor(request, customer),
            [(new_account(item.account or CustomerAccount()), item.password) for item in data],
        )
        items = [account_body(account) for account in created]
        return kibo_response(request, collection(items, 0, len(items), len(items)), 201)

    @get("/", summary="List customer accounts (C7)")
    async def get_accounts(
        self,
        request: Request[Any, Any, Any],
        accounts: Injected[Accounts],
        start_index: StartIndex = 0,
        page_size: PageSize = 20,
        sort_by: Annotated[str | None, QueryParameter(name="sortBy", max_length=100)] = None,
        filter_text: FilterText = None,
        q: Text = None,
        response_groups: ResponseGroups = None,
    ) -> Response[Any]:
        customer = scope_of(request)
        customer.app.require(Behavior.ACCOUNTS_READ)
        page = await accounts.list(
            customer,
            start_index=start_index,
            page_size=page_size,
            sort_by=sort_by,
            filter_text=filter_text,
            q=q,
            with_contacts=_with_contacts(response_groups),
        )
        items = [account_body(account) for account in page.items]
        return kibo_response(request, collection(items, start_index, page_size, page.total_count))

    @get("/{account_id:int}", summary="Get a customer account (C5)")
    async def get_account(
        self,
        request: Request[Any, Any, Any],
        accounts: Injected[Accounts],
        account_id: Id,
        response_groups: ResponseGroups = None,
    ) -> Response[CustomerAccount]:
        customer = scope_of(request)
        customer.app.require(Behavior.ACCOUNTS_READ)
        account = await accounts.get(customer, account_id, with_contacts=_with_contacts(response_groups))
        return kibo_response(request, account_body(account))

    @put("/{account_id:int}", summary="Update a customer account (C8); fields left out keep their value")
    async def update_account(
        self,
        request: Request[Any, Any, Any],
        accounts: Injected[Accounts],
        account_id: Id,
        data: JSONBody[CustomerAccount],
    ) -> Response[CustomerAccount]:
        customer = scope_of(request)
        customer.app.require(Behavior.ACCOUNTS_WRITE)
        # Read apart from the update, which changes neither the lock nor the contacts this compares with.
        check_account(data, customer, await accounts.get(customer, account_id, with_contacts=bool(data.contacts)))
        account = await accounts.update(customer, app_actor(request, customer), account_id, account_changes(data))
        return kibo_response(request, account_body(account))

    @delete("/{account_id:int}", summary="Delete a customer account with its login and contacts (C9)")
    async def delete_account(
        self, request: Request[Any, Any, Any], accounts: Injected[Accounts], account_id: Id
    ) -> None:
        customer = scope_of(request)
        customer.app.require(Behavior.ACCOUNTS_WRITE)
        await accounts.delete(customer, app_actor(request, customer), account_id)

    # --- passwords and login state -----------------------------------------------------------------

    @post(
        "/{account_id:int}/Change-Password",
        status_code=204,
        summary="Change a password, knowing the old one",
        description="An application with `customer:accounts:write` may change any account's password; a customer, "
        "with their own access token (x-vol-user-claims or bearer), their own. Every session of the account ends.",
    )
    async def change_password(
        self,
        request: Request[Any, Any, Any],
        account_passwords: Injected[AccountPasswords],
        account_id: Id,
        data: JSONBody[CustomerPasswordInfo],
        unlock_account: Annotated[bool, QueryParameter(name="unlockAccount")] = False,
    ) -> None:
        customer = scope_of(request)
        check_password_info(data)
        shopper = request.state.shopper
        if shopper is not None and shopper.account_id == account_id and not unlock_account:
            who = actor(request, f"customer:{account_id}")
        else:
            customer.app.require(Behavior.ACCOUNTS_WRITE)
            who = app_actor(request, customer)
        await account_passwords.change(
            customer, who, account_id, data.old_password, data.new_password, unlock=unlock_account
        )

    @post(
        "/Reset-Password",
        status_code=204,
        summary="Mail a single-use password reset code",
        description="Answers 204 whether or not the account exists.",
    )
    async def reset_password(
        self,
        request: Request[Any, Any, Any],
        password_resets: Injected[PasswordResets],
        data: JSONBody[CustomerResetPasswordInfo],
    ) -> None:
        customer = scope_of(request)
        customer.app.require(Behavior.ACCOUNTS_WRITE)
        await password_resets.request(
            customer, app_actor(request, customer), data.email_address, data.user_name, data.customer_set_code
        )

    @post("/Update-Forgotten-Password", status_code=204, summary="Set a new password with a reset code")
    async def update_forgotten_password(
        self,
        request: Request[Any, Any, Any],
        password_resets: Injected[PasswordResets],
        data: JSONBody[ConfirmationInfo],
    ) -> None:
        customer = scope_of(request)
        customer.app.require(Behavior.ACCOUNTS_WRITE)
        await password_resets.confirm(
            customer, app_actor(request, customer), data.user_name, data.confirmation_code, data.new_password
        )

    @post("/{account_id:int}/Set-Login-Locked", status_code=204, summary="Lock (true) or unlock (false) a login")
    async def set_login_locked(
        self,
        request: Request[Any, Any, Any],
        accounts: Injected[Accounts],
        account_id: Id,
        data: JSONBody[bool],
    ) -> None:
        customer = scope_of(request)
        customer.app.require(Behavior.ACCOUNTS_WRITE)
        await accounts.set_login_locked(customer, app_actor(request, customer), account_id, data)

    @post(
        "/{account_id:int}/Set-Password-Change-Required",
        status_code=204,
        summary="Require a new password at next login",
    )
    async def set_password_change_required(
        self,
        request: Request[Any, Any, Any],
        accounts: Injected[Accounts],
        account_id: Id,
        data: JSONBody[bool],
    ) -> None:
        customer = scope_of(request)
        customer.app.require(Behavior.ACCOUNTS_WRITE)
        await accounts.set_password_change_required(customer, app_actor(request, customer), account_id, data)

    @get("/{account_id:int}/loginstate", summary="Login state of an account")
    async def get_login_state(
        self, request: Request[Any, Any, Any], accounts: Injected[Accounts], account_id: Id
    ) -> Response[Any]:
        customer = scope_of(request)
        customer.app.require(Behavior.ACCOUNTS_READ)
        return kibo_response(request, login_state_body(await accounts.login_state(customer, account_id)))

    @post("/loginstatebyemailaddress", status_code=200, summary="Login state by email address", responses=answers(404))
    async def get_login_state_by_email(
        self,
        request: Request[Any, Any, Any],
        accounts: Injected[Accounts],
        email_address: Annotated[str, QueryParameter(name="emailAddress", min_length=1, max_length=254)],
        customer_set_code: CustomerSetCodeQuery = None,
    ) -> Response[Any]:
        customer = scope_of(request)
        customer.app.require(Behavior.ACCOUNTS_READ)
        state = await accounts.login_state_by(customer, email=email_address, customer_set_code=customer_set_code)
        return kibo_response(request, login_state_body(state))

    @post("/loginstatebyusername", status_code=200, summary="Login state by user name", responses=answers(404))
    async def get_login_state_by_user_name(
        self,
        request: Request[Any, Any, Any],
        accounts: Injected[Accounts],
        user_name: Annotated[str, QueryParameter(name="userName", min_length=1, max_length=100)],
        customer_set_code: CustomerSetCodeQuery = None,
    ) -> Response[Any]:
        customer = scope_of(request)
        customer.app.require(Behavior.ACCOUNTS_READ)
        state = await accounts.login_state_by(customer, user_name=user_name, customer_set_code=customer_set_code)
        return kibo_response(request, login_state_body(state))
