"""Who calls introspection and revocation (RFC 7662 §2.1, RFC 7009 §2.1), and the form they send."""

from __future__ import annotations

import base64
import binascii
from typing import Any
from urllib.parse import parse_qsl

from litestar import Request

from service.applications.behaviors import Behavior
from service.applications.tickets import AppPrincipal, AppTickets
from service.errors import ErrorCode, InvalidInput, Unauthenticated
from service.http.common import bearer_token

MAX_TOKEN_LENGTH = 8192


async def read_token_form(request: Request[Any, Any, Any]) -> dict[str, str]:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/x-www-form-urlencoded":
        raise InvalidInput(
            "Send the token as application/x-www-form-urlencoded (RFC 7662 §2.1).",
            code=ErrorCode.UNSUPPORTED_MEDIA_TYPE,
            oauth_error="invalid_request",
        )
    try:
        form = dict(parse_qsl((await request.body()).decode("utf-8"), keep_blank_values=True))
    except (UnicodeDecodeError, ValueError):
        raise InvalidInput(
            "The form body is malformed.", code=ErrorCode.INVALID_REQUEST, oauth_error="invalid_request"
        ) from None
    if not form.get("token") or len(form["token"]) > MAX_TOKEN_LENGTH:
        raise InvalidInput(
            "The token parameter is required.", code=ErrorCode.INVALID_REQUEST, oauth_error="invalid_request"
        )
    return form


def _invalid_client() -> Unauthenticated:
    return Unauthenticated(
        "Authenticate as an application of this tenant with the behavior tokens:introspect.",
        code=ErrorCode.INVALID_CLIENT,
        oauth_error="invalid_client",
    )


async def authenticate_caller(
    request: Request[Any, Any, Any], app_tickets: AppTickets, tenant_id: int, form: dict[str, str]
) -> AppPrincipal:
    """An application of the tenant holding `tokens:introspect`: by Basic credentials, form credentials or bearer."""
    header = request.headers.get("authorization", "")
    bearer = bearer_token(request)
    if header.lower().startswith("basic "):
        try:
            client_id, _, secret = base64.b64decode(header[6:].strip(), validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise _invalid_client() from None
        principal = await app_tickets.verify_client(client_id, secret)
    elif form.get("client_id") and form.get("client_secret"):
        principal = await app_tickets.verify_client(form["client_id"], form["client_secret"])
    elif bearer:
        principal = await app_tickets.authenticate(bearer)
    else:
        raise _invalid_client()
    if principal.tenant_id != tenant_id or Behavior.TOKENS_INTROSPECT.value not in principal.behaviors:
        raise _invalid_client()
    return principal
