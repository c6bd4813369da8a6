"""Small HTTP helpers shared by every capability's routes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from litestar import Request
from litestar.params import PathParameter, QueryParameter

from service.audit import Actor

if TYPE_CHECKING:  # runtime.py imports the capabilities, which import this module
    from service.runtime import Runtime

MAX_ID = 2**31 - 1
MAX_PAGE_SIZE = 200

Id = Annotated[int, PathParameter(ge=1, le=MAX_ID)]
StartIndex = Annotated[int, QueryParameter(name="startIndex", ge=0, le=MAX_ID, description="Zero-based item offset.")]
PageSize = Annotated[
    int, QueryParameter(name="pageSize", ge=1, le=MAX_PAGE_SIZE, description=f"At most {MAX_PAGE_SIZE}; default 20.")
]


def runtime(request: Request[Any, Any, Any]) -> "Runtime":
    return request.app.state.runtime


def actor(request: Request[Any, Any, Any], name: str) -> Actor:
    return Actor.from_scope(name, request.scope)


def bearer_token(request: Request[Any, Any, Any]) -> str | None:
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None
