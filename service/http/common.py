"""Small HTTP helpers shared by every surface."""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from litestar import Request
from litestar.params import PathParameter, QueryParameter, SkipValidationMarker

from service.audit import Actor
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
