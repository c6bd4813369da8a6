"""Kibo's Create-Login and Add-Account-And-Login (a login and its first session), and the current account."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Response, get, post
from litestar.params import JSONBody, QueryParameter

from service.accounts.service import Accounts
from service.applications.behaviors import Behavior
from service.errors import ErrorCode, NotFound
from service.http.common import Id, Injected
from service.http.contract import CUSTOMER_SECURITY, answers
from service.http.kibo.accounts import KiboController, app_actor
from service.http.kibo.auth import CUSTOMER_REQUIRED, CUSTOMER_SCOPE, scope_of, shopper_of
from service.http.kibo.authtickets import (
    AccessMinutesQuery,
    CustomerAuthTicket,
    RefreshMinutesQuery,
    requested_durations,
    ticket_response,
)
from service.http.kibo.conventions import kibo_response
from service.http.kibo.inputs import new_account
from service.http.kibo.models import (
    CustomerAccount,
    CustomerAccountAndAuthInfo,
    CustomerLoginInfo,
)
from service.http.kibo.render import account_body
from service.http.kibo.unstored import check_account, check_password_info
from service.sessions.logins import Device, Logins


class CustomerLoginController(KiboController):
    path = "/api/commerce/customer/accounts"
    tags = ["Kibo: customer auth tickets"]
    opt = {CUSTOMER_SCOPE: True}

    @post(
        "/{account_id:int}/Create-Login",
        status_code=200,
        summary="Create the login of an existing account and log it in (C3)",
    )
    async def add_login_to_existing_customer(
        self,
        request: Request[Any, Any, Any],
        logins: Injected[Logins],
        account_id: Id,
        data: JSONBody[CustomerLoginInfo],
        auth_ticket_duration_minutes: AccessMinutesQuery = None,
        refresh_token_duration_minutes: RefreshMinutesQuery = None,
    ) -> Response[CustomerAuthTicket]:
        customer = scope_of(request)
        customer.app.require(Behavior.ACCOUNTS_WRITE)
        customer.app.require(Behavior.AUTHTICKETS)
        check_password_info(data)
        requested = requested_durations(data, auth_ticket_duration_minutes, refresh_token_duration_minutes)
        ticket = await logins.create_login(
            customer,
            app_actor(request, customer),
            account_id,
            data.email_address,
            data.username,
            data.password,
            Device(data.fingerprint, data.region),
            requested,
        )
        return ticket_response(request, ticket)

    @post("/Add-Account-And-Login", status_code=200, summary="Create an account with its login and log it in (C2)")
    async def add_account_and_login(
        self,
        request: Request[Any, Any, Any],
        logins: Injected[Logins],
        data: JSONBody[CustomerAccountAndAuthInfo],
        auth_ticket_duration_minutes: AccessMinutesQuery = None,
        refresh_token_duration_minutes: RefreshMinutesQuery = None,
    ) -> Response[CustomerAuthTicket]:
        customer = scope_of(request)
        customer.app.require(Behavior.ACCOUNTS_WRITE)
        customer.app.require(Behavior.AUTHTICKETS)
        check_password_info(data)
        check_account(data.account or CustomerAccount(), customer, None, "account.")
        requested = requested_durations(data, auth_ticket_duration_minutes, refresh_token_duration_minutes)
        ticket = await logins.add_account_and_login(
            customer,
            app_actor(request, customer),
            new_account(data.account or CustomerAccount()),
            data.password,
            Device(data.fingerprint, data.region),
            requested,
        )
        return ticket_response(request, ticket)


class CurrentAccountController(KiboController):
    path = "/api/commerce/customer/accounts/current"
    tags = ["Kibo: customer accounts"]
    security = CUSTOMER_SECURITY
    opt = {CUSTOMER_REQUIRED: True, CUSTOMER_SCOPE: True}

    @get("/", summary="The logged-in customer's own account (C6)", responses=answers(404))
    async def get_current_account(
        self,
        request: Request[Any, Any, Any],
        accounts: Injected[Accounts],
        response_groups: Annotated[str | None, QueryParameter(name="responseGroups", max_length=200)] = None,
    ) -> Response[CustomerAccount]:
        customer = scope_of(request)
        shopper = shopper_of(request)
        if shopper.session.customer_set_id != customer.customer_set_id:
            raise NotFound("Customer account not found.", code=ErrorCode.ACCOUNT_NOT_FOUND)
        account = await accounts.get(
            customer, shopper.account_id, with_contacts="contacts" in (response_groups or "").lower()
        )
        return kibo_response(request, account_body(account))
