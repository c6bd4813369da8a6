"""Kibo's storefront auth tickets, Create-Login, Add-Account-And-Login, the current account, and
the customer's own sessions."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, Response, delete, post, put
from litestar.params import JSONBody, QueryParameter

from service.applications.behaviors import Behavior
from service.errors import ErrorCode, FieldError, InvalidInput, Unauthenticated
from service.http.common import Injected, actor, bearer_token
from service.http.contract import answers
from service.http.kibo.accounts import KiboController, app_actor
from service.http.kibo.auth import CUSTOMER_SCOPE, SECOND_STEP, app_of, scope_of
from service.http.kibo.conventions import kibo_response
from service.http.kibo.models import (
    AuthTicket2FAInfo,
    AuthTicketOtpInfo,
    CustomerAccount,
    CustomerUserAuthInfo,
    OtpRequest,
    RequestedDurations,
)
from service.http.kibo.render import ticket_body
from service.sessions.issuer import CustomerTicket
from service.sessions.logins import Device, Logins
from service.sessions.second_steps import SecondSteps
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


def ticket_response(request: Request[Any, Any, Any], ticket: CustomerTicket) -> Response[Any]:
    response = kibo_response(request, ticket_body(ticket))
    response.headers.update(NO_STORE)
    return response


def _pending_token(request: Request[Any, Any, Any]) -> str:
    token = bearer_token(request) or ""
    return (
        token if kind_of(token) is TokenKind.PENDING_LOGIN else (request.headers.get("x-vol-user-claims") or "").strip()
    )


def requested_durations(
    body: RequestedDurations, query_access: int | None, query_refresh: int | None
) -> tuple[int | None, int | None]:
    """Requested lifetimes from the body or the query (Kibo's docs show both); both, with different values, is
    a 400 rather than a silent choice."""
    return (
        _one_request("authTicketDurationMinutes", body.auth_ticket_duration_minutes, query_access),
        _one_request("refreshTokenDurationMinutes", body.refresh_token_duration_minutes, query_refresh),
    )


def _one_request(field: str, in_body: int | None, in_query: int | None) -> int | None:
    if in_body is not None and in_query is not None and in_body != in_query:
        raise InvalidInput(
            f"{field} is sent in the body and in the query, with different values.",
            field_errors=(FieldError(field, "differs between the body and the query"),),
        )
    return in_body if in_body is not None else in_query


class AuthTicketController(KiboController):
    path = "/api/commerce/customer/authtickets"
    tags = ["Kibo: customer auth tickets"]

    @post(
        "/",
        status_code=200,
        summary="Log a customer in (A1)",
        description="Unknown user, wrong password, locked and inactive accounts all answer the same 401.",
        responses=answers(401, 429),
        opt={CUSTOMER_SCOPE: True},
    )
    async def create_user_auth_ticket(
        self,
        request: Request[Any, Any, Any],
        logins: Injected[Logins],
        data: JSONBody[CustomerUserAuthInfo],
        auth_ticket_duration_minutes: AccessMinutesQuery = None,
        refresh_token_duration_minutes: RefreshMinutesQuery = None,
    ) -> Response[CustomerAuthTicket]:
        customer = scope_of(request)
        customer.app.require(Behavior.AUTHTICKETS)
        requested = requested_durations(data, auth_ticket_duration_minutes, refresh_token_duration_minutes)
        ticket = await logins.login(
            customer,
            app_actor(request, customer),
            data.username,
            data.account_id,
            data.password,
            Device(data.fingerprint, data.region),
            requested,
        )
        return ticket_response(request, ticket)

    @put(
        "/refresh",
        summary="Exchange a refresh token for a new ticket (A2)",
        description="The presented refresh token is retired. Presenting a retired token ends the session, except "
        "a replay of the immediate parent within the tenant's refreshReuseGraceSeconds, which returns the same "
        "successor.",
    )
    async def refresh_user_auth_ticket(
        self,
        request: Request[Any, Any, Any],
        logins: Injected[Logins],
        refresh_token: RefreshTokenParam,
        account_id: Annotated[
            int | None,
            QueryParameter(name="accountId", ge=1, le=2**31 - 1, description="The session's account, or a 400."),
        ] = None,
    ) -> Response[CustomerAuthTicket]:
        # No customer scope here: refresh must not touch PostgreSQL, and the session knows its scope.
        app = app_of(request).principal
        app.require(Behavior.AUTHTICKETS)
        ticket = await logins.refresh(app.tenant_id, refresh_token, account_id)
        return ticket_response(request, ticket)

    @delete(
        "/", summary="Log out: end the session of a refresh token", description="Answers 204 for unknown tokens too."
    )
    async def delete_user_auth_ticket(
        self, request: Request[Any, Any, Any], logins: Injected[Logins], refresh_token: RefreshTokenParam
    ) -> None:
        app = app_of(request).principal
        app.require(Behavior.AUTHTICKETS)
        await logins.logout(actor(request, app.actor_name), app.tenant_id, refresh_token)

    @post(
        "/2fa/request",
        status_code=204,
        summary="Mail a fresh 6-digit code for a pending login (A5)",
        description="Needs the pending-login token (from a login that answered `requires2FA: true`) as bearer or "
        "`x-vol-user-claims`: nobody can have codes sent without passing the password step first.",
        opt={SECOND_STEP: True},
        responses=answers(429),
    )
    async def generate_and_send_2fa_otp(
        self, request: Request[Any, Any, Any], second_steps: Injected[SecondSteps]
    ) -> None:
        pending = request.state.pending
        if pending is None:
            raise Unauthenticated("The pending-login token is required.", code=ErrorCode.MISSING_PENDING_LOGIN)
        await second_steps.send_two_factor_code(app_of(request).principal.tenant_id, pending.digest)

    @post(
        "/2fa/auth",
        status_code=200,
        summary="Complete a pending login with a second factor (A6)",
        description="Accepts the mailed code, a code of an enrolled authenticator app, or a recovery code. Three wrong "
        "codes end the pending login.",
        opt={SECOND_STEP: True},
        responses=answers(429),
    )
    async def validate_2fa_and_create_auth_ticket(
        self,
        request: Request[Any, Any, Any],
        second_steps: Injected[SecondSteps],
        data: JSONBody[AuthTicket2FAInfo],
    ) -> Response[CustomerAuthTicket]:
        pending = request.state.pending
        app = app_of(request).principal
        if pending is None:
            app.require(Behavior.AUTHTICKETS)
        if not data.otp_code or (pending is None and not data.user_id):
            raise InvalidInput("userId and otpCode are required.", code=ErrorCode.VALIDATION_FAILED)
        pending_token = _pending_token(request) if pending is not None else None
        ticket = await second_steps.complete_two_factor(
            app.tenant_id,
            actor(request, app.actor_name),
            pending_token,
            data.user_id,
            data.otp_code,
        )
        return ticket_response(request, ticket)

    @post(
        "/otp/request",
        status_code=204,
        summary="Mail a sign-in code (passwordless, A7)",
        description="Answers 204 whether or not the address belongs to an account.",
        responses=answers(429),
        opt={CUSTOMER_SCOPE: True},
    )
    async def generate_and_send_otp(
        self,
        request: Request[Any, Any, Any],
        second_steps: Injected[SecondSteps],
        data: JSONBody[OtpRequest],
    ) -> None:
        customer = scope_of(request)
        customer.app.require(Behavior.AUTHTICKETS)
        if not data.email:
            raise InvalidInput("email is required.", code=ErrorCode.VALIDATION_FAILED)
        await second_steps.request_email_login(customer, app_actor(request, customer), data.email)

    @post(
        "/otp/auth",
        status_code=200,
        summary="Log in with a mailed sign-in code (A8)",
        responses=answers(429),
        opt={CUSTOMER_SCOPE: True},
    )
    async def validate_otp_and_create_auth_ticket(
        self,
        request: Request[Any, Any, Any],
        second_steps: Injected[SecondSteps],
        data: JSONBody[AuthTicketOtpInfo],
    ) -> Response[CustomerAuthTicket]:
        customer = scope_of(request)
        customer.app.require(Behavior.AUTHTICKETS)
        if not data.email or not data.otp_code:
            raise InvalidInput("email and otpCode are required.", code=ErrorCode.VALIDATION_FAILED)
        ticket = await second_steps.email_login(
            customer, app_actor(request, customer), data.email, data.otp_code, Device(data.fingerprint, data.region)
        )
        return ticket_response(request, ticket)
