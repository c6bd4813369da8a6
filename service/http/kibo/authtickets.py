"""Kibo's storefront auth tickets, Create-Login, Add-Account-And-Login, the current account, and
the customer's own sessions."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, Response, delete, get, post, put
from litestar.di import Provide
from litestar.params import FromPath, JSONBody, QueryParameter

from service.accounts.service import Accounts
from service.applications.behaviors import Behavior
from service.errors import ErrorCode, InvalidInput, NotFound, Unauthenticated
from service.http.common import Id, Injected, actor, bearer_token
from service.http.kibo.accounts import KiboController, app_actor
from service.http.kibo.auth import App, Customer, Shopper, provide_shopper
from service.http.kibo.conventions import kibo_datetime_ms, kibo_response
from service.http.kibo.models import (
    AuthTicket2FAInfo, AuthTicketOtpInfo, CustomerAccount, CustomerAccountAndAuthInfo, CustomerLoginInfo,
    CustomerUserAuthInfo, OtpRequest, RequestedDurations,
)
from service.http.kibo.inputs import new_account
from service.http.kibo.render import account_body, ticket_body
from service.sessions.issuer import CustomerTicket
from service.sessions.logins import Device, Logins
from service.sessions.second_steps import SecondSteps
from service.sessions.store import Sessions
from service.tokens.resolver import TokenKind, kind_of

AccessMinutesQuery = Annotated[int | None, QueryParameter(name="authTicketDurationMinutes", ge=1, le=525_600)]
RefreshMinutesQuery = Annotated[int | None, QueryParameter(name="refreshTokenDurationMinutes", ge=1, le=525_600)]
RefreshTokenParam = Annotated[str, QueryParameter(name="refreshToken", min_length=1, max_length=200)]


NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


class CustomerAuthTicket(msgspec.Struct, rename="camel", kw_only=True):
    """Kibo's CustomerAuthTicket, plus `requires2FA`."""

    access_token: str | None
    access_token_expiration: str | None
    jwt_access_token: str | None
    refresh_token: str | None
    refresh_token_expiration: str | None
    user_id: str | None
    requires2_fa: bool = msgspec.field(name="requires2FA")
    customer_account: CustomerAccount | None


class SessionInfo(msgspec.Struct, rename="camel", kw_only=True):
    id: str
    client_id: str
    fingerprint: str | None
    region: str | None
    created_on: str | None
    last_used_on: str | None
    current: bool


def _ticket_response(request: Request[Any, Any, Any], ticket: CustomerTicket) -> Response[Any]:
    response = kibo_response(request, ticket_body(ticket))
    response.headers.update(NO_STORE)
    return response


def _pending_token(request: Request[Any, Any, Any]) -> str:
    token = bearer_token(request) or ""
    return token if kind_of(token) is TokenKind.PENDING_LOGIN else (request.headers.get("x-vol-user-claims") or "").strip()


def _requested(body: RequestedDurations, query_access: int | None, query_refresh: int | None) -> tuple[int | None, int | None]:
    """Requested lifetimes from the body, else the query (Kibo's docs show both)."""
    access = body.auth_ticket_duration_minutes
    refresh = body.refresh_token_duration_minutes
    return (access if access is not None else query_access, refresh if refresh is not None else query_refresh)


class AuthTicketController(KiboController):
    path = "/api/commerce/customer/authtickets"
    tags = ["Kibo: customer auth tickets"]
    dependencies = {**KiboController.dependencies, "shopper": Provide(provide_shopper, sync_to_thread=False)}

    @post(
        "/", status_code=200, summary="Log a customer in (A1)",
        description="Unknown user, wrong password, locked and inactive accounts all answer the same 401.",
    )
    async def create_user_auth_ticket(
        self, request: Request[Any, Any, Any], logins: Injected[Logins], customer: Customer, data: JSONBody[CustomerUserAuthInfo],
        auth_ticket_duration_minutes: AccessMinutesQuery = None,
        refresh_token_duration_minutes: RefreshMinutesQuery = None,
    ) -> Response[CustomerAuthTicket]:
        customer.app.require(Behavior.AUTHTICKETS)
        requested = _requested(data, auth_ticket_duration_minutes, refresh_token_duration_minutes)
        ticket = await logins.login(
            customer, app_actor(request, customer), data.username, data.account_id, data.password,
            Device(data.fingerprint, data.region), requested,
        )
        return _ticket_response(request, ticket)

    @put(
        "/refresh", summary="Exchange a refresh token for a new ticket (A2)",
        description="The presented refresh token is retired. Presenting a retired token ends the session, except "
        "a replay of the immediate parent within the tenant's refreshReuseGraceSeconds, which returns the same "
        "successor.",
    )
    async def refresh_user_auth_ticket(
        self, request: Request[Any, Any, Any], logins: Injected[Logins], app: App, refresh_token: RefreshTokenParam,
        account_id: Annotated[int | None, QueryParameter(name="accountId", ge=1, le=2**31 - 1)] = None,
    ) -> Response[CustomerAuthTicket]:
        # No customer scope here: refresh must not touch PostgreSQL, and the session knows its scope.
        app.principal.require(Behavior.AUTHTICKETS)
        ticket = await logins.refresh(app.principal.tenant_id, refresh_token)
        return _ticket_response(request, ticket)

    @delete("/", summary="Log out: end the session of a refresh token", description="Answers 204 for unknown tokens too.")
    async def delete_user_auth_ticket(self, request: Request[Any, Any, Any], logins: Injected[Logins], app: App, refresh_token: RefreshTokenParam) -> None:
        app.principal.require(Behavior.AUTHTICKETS)
        await logins.logout(app.principal.tenant_id, refresh_token)

    @post(
        "/2fa/request", status_code=204, summary="Mail a fresh 6-digit code for a pending login (A5)",
        description="Needs the pending-login token (from a login that answered `requires2FA: true`) as bearer or "
        "`x-vol-user-claims`: nobody can have codes sent without passing the password step first.",
    )
    async def generate_and_send_2fa_otp(
        self, request: Request[Any, Any, Any], second_steps: Injected[SecondSteps], app: App
    ) -> None:
        pending = request.state.pending
        if pending is None:
            raise Unauthenticated("The pending-login token is required.", code=ErrorCode.MISSING_PENDING_LOGIN)
        await second_steps.send_two_factor_code(app.principal.tenant_id, pending.digest)

    @post(
        "/2fa/auth", status_code=200, summary="Complete a pending login with a second factor (A6)",
        description="Accepts the mailed code, a code of an enrolled authenticator app, or a recovery code. Three wrong "
        "codes end the pending login.",
    )
    async def validate_2fa_and_create_auth_ticket(
        self, request: Request[Any, Any, Any], second_steps: Injected[SecondSteps], app: App,
        data: JSONBody[AuthTicket2FAInfo],
    ) -> Response[CustomerAuthTicket]:
        pending = request.state.pending
        if pending is None:
            app.principal.require(Behavior.AUTHTICKETS)
        if not data.otp_code or (pending is None and not data.user_id):
            raise InvalidInput("userId and otpCode are required.", code=ErrorCode.VALIDATION_FAILED)
        pending_token = _pending_token(request) if pending is not None else None
        ticket = await second_steps.complete_two_factor(
            app.principal.tenant_id, actor(request, app.principal.actor_name), pending_token, data.user_id, data.otp_code
        )
        return _ticket_response(request, ticket)

    @post("/otp/request", status_code=204, summary="Mail a sign-in code (passwordless, A7)",
          description="Answers 204 whether or not the address belongs to an account.")
    async def generate_and_send_otp(
        self, request: Request[Any, Any, Any], second_steps: Injected[SecondSteps], customer: Customer,
        data: JSONBody[OtpRequest],
    ) -> None:
        customer.app.require(Behavior.AUTHTICKETS)
        if not data.email:
            raise InvalidInput("email is required.", code=ErrorCode.VALIDATION_FAILED)
        await second_steps.request_email_login(customer, app_actor(request, customer), data.email)

    @post("/otp/auth", status_code=200, summary="Log in with a mailed sign-in code (A8)")
    async def validate_otp_and_create_auth_ticket(
        self, request: Request[Any, Any, Any], second_steps: Injected[SecondSteps], customer: Customer, data: JSONBody[AuthTicketOtpInfo]
    ) -> Response[CustomerAuthTicket]:
        customer.app.require(Behavior.AUTHTICKETS)
        if not data.email or not data.otp_code:
            raise InvalidInput("email and otpCode are required.", code=ErrorCode.VALIDATION_FAILED)
        ticket = await second_steps.email_login(
            customer, app_actor(request, customer), data.email, data.otp_code, Device(data.fingerprint, data.region)
        )
        return _ticket_response(request, ticket)

    @get("/sessions", summary="The calling customer's sessions")
    async def list_sessions(self, sessions: Injected[Sessions], shopper: Shopper) -> list[SessionInfo]:
        sessions = await sessions.list_for_account(shopper.tenant_id, shopper.account_id)
        return [
            SessionInfo(
                id=s.session_id, client_id=s.client_id, fingerprint=s.fingerprint, region=s.region,
                created_on=kibo_datetime_ms(s.created_ms), last_used_on=kibo_datetime_ms(s.last_used_ms),
                current=s.session_id == shopper.session_id,
            )
            for s in sorted(sessions, key=lambda s: s.created_ms)
        ]

    @delete("/sessions/{session_id:str}", summary="End one of the calling customer's sessions")
    async def end_session(self, sessions: Injected[Sessions], shopper: Shopper, session_id: FromPath[str]) -> None:
        session = await sessions.get(session_id)
        if session is None or session.tenant_id != shopper.tenant_id or session.account_id != shopper.account_id:
            raise NotFound("Session not found.", code=ErrorCode.SESSION_NOT_FOUND)
        await sessions.end(session)

    @delete("/sessions", summary="End all of the calling customer's sessions, this one included")
    async def end_all_sessions(self, sessions: Injected[Sessions], shopper: Shopper) -> None:
        await sessions.end_all_for_account(shopper.tenant_id, shopper.account_id)


class CustomerLoginController(KiboController):
    path = "/api/commerce/customer/accounts"
    tags = ["Kibo: customer auth tickets"]

    @post("/{account_id:int}/Create-Login", status_code=200, summary="Create the login of an existing account and log it in (C3)")
    async def add_login_to_existing_customer(
        self, request: Request[Any, Any, Any], logins: Injected[Logins], customer: Customer, account_id: Id, data: JSONBody[CustomerLoginInfo],
        auth_ticket_duration_minutes: AccessMinutesQuery = None,
        refresh_token_duration_minutes: RefreshMinutesQuery = None,
    ) -> Response[CustomerAuthTicket]:
        customer.app.require(Behavior.ACCOUNTS_WRITE)
        customer.app.require(Behavior.AUTHTICKETS)
        requested = _requested(data, auth_ticket_duration_minutes, refresh_token_duration_minutes)
        ticket = await logins.create_login(
            customer, app_actor(request, customer), account_id, data.email_address, data.username, data.password,
            Device(data.fingerprint, data.region), requested,
        )
        return _ticket_response(request, ticket)

    @post("/Add-Account-And-Login", status_code=200, summary="Create an account with its login and log it in (C2)")
    async def add_account_and_login(
        self, request: Request[Any, Any, Any], logins: Injected[Logins], customer: Customer, data: JSONBody[CustomerAccountAndAuthInfo],
        auth_ticket_duration_minutes: AccessMinutesQuery = None,
        refresh_token_duration_minutes: RefreshMinutesQuery = None,
    ) -> Response[CustomerAuthTicket]:
        customer.app.require(Behavior.ACCOUNTS_WRITE)
        customer.app.require(Behavior.AUTHTICKETS)
        requested = _requested(data, auth_ticket_duration_minutes, refresh_token_duration_minutes)
        ticket = await logins.add_account_and_login(
            customer, app_actor(request, customer), new_account(data.account or CustomerAccount()), data.password,
            Device(data.fingerprint, data.region), requested,
        )
        return _ticket_response(request, ticket)


class CurrentAccountController(KiboController):
    path = "/api/commerce/customer/accounts/current"
    tags = ["Kibo: customer accounts"]
    dependencies = {**KiboController.dependencies, "shopper": Provide(provide_shopper, sync_to_thread=False)}

    @get("/", summary="The logged-in customer's own account (C6)")
    async def get_current_account(
        self, request: Request[Any, Any, Any], accounts: Injected[Accounts], customer: Customer, shopper: Shopper,
        response_groups: Annotated[str | None, QueryParameter(name="responseGroups", max_length=200)] = None,
    ) -> Response[CustomerAccount]:
        if shopper.session.customer_set_id != customer.customer_set_id:
            raise NotFound("Customer account not found.", code=ErrorCode.ACCOUNT_NOT_FOUND)
        account = await accounts.get(
            customer, shopper.account_id, with_contacts="contacts" in (response_groups or "").lower()
        )
        return kibo_response(request, account_body(account))
