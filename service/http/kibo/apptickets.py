"""Kibo platform API: application auth tickets, and the tenant an application belongs to."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from litestar import Controller, Request, Response, delete, post, put
from litestar.openapi.spec import OpenAPIType, Schema
from litestar.params import FromPath, JSONBody

from service.applications.models import AppAuthInfo, AppAuthTicket, AuthTicketRequest, OAuthTokenResponse
from service.applications.tickets import AppTickets, IssuedTicket
from service.errors import ErrorCode, InvalidInput
from service.http.common import Injected, oauth_invalid_request, refuse_other_body_credentials
from service.http.contract import TEXT, answers, documented_body
from service.http.json_body import form_with_unique_names
from service.http.kibo.render import kibo_datetime
from service.platform.json_keys import RepeatedKey, loads_with_unique_keys

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
# RFC 6749 §4.4 and §6, as JSON (what Kibo's SDKs send) or as a form.
OAUTH_TOKEN_REQUEST = documented_body(
    Schema(
        type=OpenAPIType.OBJECT,
        required=["grant_type"],
        properties={
            "grant_type": Schema(type=OpenAPIType.STRING, enum=["client_credentials", "refresh_token"]),
            "client_id": TEXT,
            "client_secret": TEXT,
            "refresh_token": TEXT,
        },
    ),
    "application/json",
    "application/x-www-form-urlencoded",
)


def _app_ticket(ticket: IssuedTicket) -> Response[AppAuthTicket]:
    body = AppAuthTicket(
        access_token=ticket.access_token,
        access_token_expiration=kibo_datetime(ticket.access_expires_at),
        refresh_token=ticket.refresh_token,
        refresh_token_expiration=kibo_datetime(ticket.refresh_expires_at),
    )
    return Response(body, status_code=200, headers=NO_STORE)


async def _oauth_parameters(request: Request[Any, Any, Any]) -> dict[str, str]:
    """Token request parameters from a JSON or form body, plus HTTP Basic client credentials."""
    body = await request.body()
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    try:
        if media_type == "application/x-www-form-urlencoded":
            raw: Any = form_with_unique_names(body.decode("utf-8"))
        elif media_type in ("application/json", "") and body:
            raw = loads_with_unique_keys(body)
        else:
            raw = {}
    except RepeatedKey as repeated:
        raise oauth_invalid_request(f"The body is malformed: {repeated}.") from None
    except (ValueError, UnicodeDecodeError):
        raise oauth_invalid_request("The body is neither valid JSON nor a valid form.") from None
    if not isinstance(raw, dict) or not all(isinstance(v, str) for v in raw.values() if v is not None):
        raise oauth_invalid_request("Token request parameters must be strings.")
    parameters = {k: v for k, v in raw.items() if isinstance(v, str)}
    basic = _basic_credentials(request.headers.get("authorization"))
    if basic is not None:
        refuse_other_body_credentials(parameters, *basic)
        parameters["client_id"], parameters["client_secret"] = basic
    return parameters


def _basic_credentials(header: str | None) -> tuple[str, str] | None:
    if not header or not header.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):  # ValueError: non-ASCII characters in the header
        raise oauth_invalid_request("The Basic authorization header is malformed.") from None
    client_id, sep, secret = decoded.partition(":")
    if not sep:
        raise oauth_invalid_request("The Basic authorization header is malformed.")
    return client_id, secret


async def _grant(tickets: AppTickets, parameters: dict[str, str]) -> IssuedTicket:
    """The ticket an OAuth token request asks for: client credentials, or a refresh token."""
    grant_type = parameters.get("grant_type")
    if grant_type == "client_credentials":
        client_id, secret = parameters.get("client_id"), parameters.get("client_secret")
        if not client_id or not secret:
            raise oauth_invalid_request("client_id and client_secret are required.")
        return await tickets.sign_in(client_id, secret)
    if grant_type == "refresh_token":
        if not parameters.get("refresh_token"):
            raise oauth_invalid_request("refresh_token is required.")
        return await tickets.refresh(parameters["refresh_token"])
    if not grant_type:
        raise oauth_invalid_request("grant_type is required.")
    raise InvalidInput(
        "grant_type must be client_credentials or refresh_token.",
        code=ErrorCode.UNSUPPORTED_GRANT_TYPE,
        oauth_error="unsupported_grant_type",
    )


class AppAuthTicketController(Controller):
    path = "/api/platform/applications/authtickets"
    tags = ["Kibo: application auth tickets"]

    @post(
        "/oauth",
        status_code=200,
        summary="OAuth 2.0 token endpoint for applications (client_credentials, refresh_token)",
        operation_class=OAUTH_TOKEN_REQUEST,
        description="Parameters as JSON (what Kibo's SDKs send) or as a form, client credentials in the body or as "
        "HTTP Basic. Unrecognised parameters are ignored, as RFC 6749 §3.2 requires. Errors carry RFC 6749 "
        "`error` and `error_description` next to Kibo's fields.",
        responses=answers(401),
    )
    async def oauth_token(
        self, request: Request[Any, Any, Any], app_tickets: Injected[AppTickets]
    ) -> Response[OAuthTokenResponse]:
        ticket = await _grant(app_tickets, await _oauth_parameters(request))
        body = OAuthTokenResponse(
            access_token=ticket.access_token,
            token_type="Bearer",
            expires_in=ticket.seconds_left(ticket.access_expires_at),
            refresh_token=ticket.refresh_token,
            refresh_token_expires_in=ticket.seconds_left(ticket.refresh_expires_at),
        )
        return Response(body, status_code=200, headers=NO_STORE)

    @post(
        "/", status_code=200, summary="Get an application auth ticket (Kibo's legacy sign-in)", responses=answers(401)
    )
    async def create_ticket(
        self, request: Request[Any, Any, Any], app_tickets: Injected[AppTickets], data: JSONBody[AppAuthInfo]
    ) -> Response[AppAuthTicket]:
        ticket = await app_tickets.sign_in(data.application_id, data.shared_secret)
        return _app_ticket(ticket)

    @put(
        "/refresh-ticket",
        summary="Exchange a refresh token for a new ticket; the old refresh token is spent",
        responses=answers(401),
    )
    async def refresh_ticket(
        self, request: Request[Any, Any, Any], app_tickets: Injected[AppTickets], data: JSONBody[AuthTicketRequest]
    ) -> Response[AppAuthTicket]:
        return _app_ticket(await app_tickets.refresh(data.refresh_token))

    @delete(
        "/{refresh_token:str}",
        summary="End a ticket by its refresh token",
        description="Answers 204 whether or not the token was known, so the call reveals nothing.",
    )
    async def delete_ticket(
        self, request: Request[Any, Any, Any], app_tickets: Injected[AppTickets], refresh_token: FromPath[str]
    ) -> None:
        await app_tickets.revoke(refresh_token)
