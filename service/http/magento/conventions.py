"""What every Magento route shares: its body and path parameter types, security, and answer helpers."""

from __future__ import annotations

from typing import Annotated, Any, TypeVar, cast

import msgspec
from litestar import Request, Response
from litestar.params import Body, PathParameter

from service.audit import Actor
from service.errors import InvalidInput
from service.http.common import actor
from service.http.selection import parse_response_fields, trim
from service.magento.context import MagentoContext
from service.magento.errors import invalid_value
from service.platform.db import MAX_ID

Json = Annotated[dict[str, Any], Body(description="A Magento request body; keys in camelCase or snake_case.")]
CustomerId = Annotated[int, PathParameter(ge=1, le=MAX_ID)]
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
Rendered = TypeVar("Rendered", dict[str, Any], list[dict[str, Any]])


def bare_string(token: str) -> Response[str]:
    """Magento answers tokens as a bare JSON string: `"abc..."`."""
    return Response(
        msgspec.json.encode(token),  # type: ignore[arg-type]
        media_type="application/json",
        headers=NO_STORE,
    )


def selected(request: Request[Any, Any, Any], body: Rendered) -> Rendered:
    """Magento's `fields` filter: `?fields=items[id,email,addresses[city]],total_count`."""
    fields = request.query_params.get("fields")
    if not fields:
        return body
    try:
        selection = parse_response_fields(fields.replace("[", "(").replace("]", ")"))
    except InvalidInput:
        raise invalid_value("fields", fields) from None
    return cast(Rendered, trim(body, selection))  # the same shape, with fewer keys


def magento_actor(request: Request[Any, Any, Any], magento: MagentoContext) -> Actor:
    return actor(request, magento.actor_name)
