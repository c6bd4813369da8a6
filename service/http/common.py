"""Small HTTP helpers shared by every surface."""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from litestar import Request
from litestar.params import PathParameter, QueryParameter, SkipValidationMarker

from service.audit import Actor
from service.errors import ErrorCode, InvalidInput
from service.http.request_context import client_address_of, request_id_of
from service.platform.db import MAX_ID

T = TypeVar("T")
# A capability `create_app` hands a handler (`accounts: Injected[Accounts]`): the process's own object,
# passed as it is, not validated per request as request values are (Litestar's SkipValidation).
Injected = Annotated[T, SkipValidationMarker()]

MAX_PAGE_SIZE = 200

Id = Annotated[int, PathParameter(ge=1, le=MAX_ID)]
StartIndex = Annotated[int, QueryParameter(name="startIndex", ge=0, le=MAX_ID, description="Zero-based item offset.")]
PageSize = Annotated[
    int, QueryParameter(name="pageSize", ge=1, le=MAX_PAGE_SIZE, description=f"At most {MAX_PAGE_SIZE}; default 20.")
]


def actor(request: Request[Any, Any, Any], name: str) -> Actor:
    """Who is acting (`name`), with the client address and request id of this request."""
    return Actor(name, client_address_of(request.scope), request_id_of(request.scope) or None)


def bearer_token(request: Request[Any, Any, Any]) -> str | None:
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def oauth_invalid_request(message: str) -> InvalidInput:
    """RFC 6749 §5.2 `invalid_request`, as the token, introspection and revocation routes answer it."""
    return InvalidInput(message, code=ErrorCode.INVALID_REQUEST, oauth_error="invalid_request")


def refuse_other_body_credentials(parameters: dict[str, str], client_id: str, secret: str) -> None:
    """HTTP Basic client credentials beside other ones in the body (RFC 6749 §2.3 allows one method per request)
    are refused, rather than one of them preferred in silence."""
    if parameters.get("client_id") not in (None, client_id) or parameters.get("client_secret") not in (None, secret):
        raise oauth_invalid_request("Client credentials were sent twice and differ.")
