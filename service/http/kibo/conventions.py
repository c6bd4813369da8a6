"""The Kibo answer: its body cut down to `responseFields` when the caller asks."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, Response

from service.http.selection import parse_response_fields, trim

RESPONSE_FIELDS = "responseFields"  # read by every Kibo answer, so no route declares it


def kibo_response(request: Request[Any, Any, Any], body: Any, status_code: int = 200) -> Response[Any]:
    """The response body as Kibo would send it, cut down to `responseFields` when the caller asked."""
    content = msgspec.to_builtins(body)
    fields = request.query_params.get(RESPONSE_FIELDS)
    if fields:
        content = trim(content, parse_response_fields(fields))
    return Response(content, status_code=status_code)
