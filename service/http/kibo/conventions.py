"""Conventions shared by every Kibo route: date format, collection envelope, `responseFields`."""

from __future__ import annotations

import math
from datetime import datetime, timezone
from typing import Any

import msgspec
from litestar import Request, Response

from service.http.selection import parse_response_fields, trim

RESPONSE_FIELDS = "responseFields"  # read by every Kibo answer, so no route declares it


def kibo_datetime(moment: datetime | None) -> str | None:
    """Kibo's format; its older SDKs parse exactly `%Y-%m-%dT%H:%M:%S.%fZ`."""
    if moment is None:
        return None
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def kibo_datetime_ms(epoch_ms: int) -> str | None:
    return kibo_datetime(datetime.fromtimestamp(epoch_ms / 1000, timezone.utc))


def collection(items: list[Any], start_index: int, page_size: int, total_count: int) -> dict[str, Any]:
    return {
        "startIndex": start_index,
        "pageSize": page_size,
        "pageCount": math.ceil(total_count / page_size) if page_size else 0,
        "totalCount": total_count,
        "items": items,
    }


def kibo_response(request: Request[Any, Any, Any], body: Any, status_code: int = 200) -> Response[Any]:
    """The response body as Kibo would send it, cut down to `responseFields` when the caller asked."""
    content = msgspec.to_builtins(body)
    fields = request.query_params.get(RESPONSE_FIELDS)
    if fields:
        content = trim(content, parse_response_fields(fields))
    return Response(content, status_code=status_code)
