"""Who calls introspection and revocation (RFC 7662 §2.1, RFC 7009 §2.1), and the form they send."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from litestar import Request

from service.errors import ErrorCode, InvalidInput
from service.http.common import bearer_token, oauth_invalid_request, refuse_other_body_credentials
from service.http.json_body import form_with_unique_names
from service.platform.json_keys import RepeatedKey
from service.tokens.introspection import CallerCredentials, invalid_introspection_client

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
        form = form_with_unique_names((await request.body()).decode("utf-8"))
    except RepeatedKey as repeated:
        raise oauth_invalid_request(f"The form body is malformed: {repeated}.") from None
    except (UnicodeDecodeError, ValueError):
        raise oauth_invalid_request("The form body is malformed.") from None
    if not form.get("token") or len(form["token"]) > MAX_TOKEN_LENGTH:
        raise oauth_invalid_request("The token parameter is required.")
    return form


def caller_credentials(request: Request[Any, Any, Any], form: dict[str, str]) -> CallerCredentials:
    """How the caller says who it is: HTTP Basic client credentials, client_id/client_secret in the form, or its
    app token as bearer (RFC 7662 §2.1 leaves the method to the server)."""
    header = request.headers.get("authorization", "")
    if header.lower().startswith("basic "):
        try:
            client_id, _, secret = base64.b64decode(header[6:].strip(), validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise invalid_introspection_client() from None
        refuse_other_body_credentials(form, client_id, secret)
        return CallerCredentials(client_id=client_id, client_secret=secret)
    if form.get("client_id") and form.get("client_secret"):
        return CallerCredentials(client_id=form["client_id"], client_secret=form["client_secret"])
    return CallerCredentials(bearer=bearer_token(request))
