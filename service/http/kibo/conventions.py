"""Conventions shared by every Kibo route: date format, collection envelope, `responseFields`."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from typing import Any, overload

import msgspec
from litestar import Request, Response

from service.errors import ErrorCode, InvalidInput

_FIELD = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*")
RESPONSE_FIELDS = "responseFields"  # read by every Kibo answer, so no route declares it


@overload
def kibo_datetime(moment: datetime) -> str: ...
@overload
def kibo_datetime(moment: None) -> None: ...
@overload
def kibo_datetime(moment: datetime | None) -> str | None: ...
def kibo_datetime(moment: datetime | None) -> str | None:
    """Kibo's format; its older SDKs parse exactly `%Y-%m-%dT%H:%M:%S.%fZ`."""
    if moment is None:
        return None
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def kibo_datetime_ms(epoch_ms: int) -> str:
    return kibo_datetime(datetime.fromtimestamp(epoch_ms / 1000, UTC))


def collection(items: list[Any], start_index: int, page_size: int, total_count: int) -> dict[str, Any]:
    return {
        "startIndex": start_index,
        "pageSize": page_size,
        "pageCount": math.ceil(total_count / page_size) if page_size else 0,
        "totalCount": total_count,
        "items": items,
    }


Selection = dict[str, "Selection | None"]


def parse_response_fields(text: str) -> Selection:
    """`id,emailAddress,contacts(id,email)` → {"id": None, "emailAddress": None, "contacts": {...}}."""
    selection, position = _parse_list(text, 0)
    if position != len(text):
        raise _bad_fields(text)
    return selection


def _parse_list(text: str, position: int) -> tuple[Selection, int]:
    selection: Selection = {}
    while True:
        match = _FIELD.match(text, position)
        if not match:
            raise _bad_fields(text)
        name, position = match.group(1), match.end()
        nested = None
        if position < len(text) and text[position] == "(":
            nested, position = _parse_list(text, position + 1)
            if position >= len(text) or text[position] != ")":
                raise _bad_fields(text)
            position += 1
        selection[name] = nested
        if position < len(text) and text[position] == ",":
            position += 1
            continue
        return selection, position


def _bad_fields(text: str) -> InvalidInput:
    return InvalidInput(
        f"responseFields '{text[:100]}' is not a list like 'id,emailAddress,contacts(id,email)'.",
        code=ErrorCode.INVALID_RESPONSE_FIELDS,
    )


def trim(value: Any, selection: Selection) -> Any:
    if isinstance(value, list):
        return [trim(item, selection) for item in value]
    if not isinstance(value, dict):
        return value
    return {
        key: (trim(value[key], nested) if nested is not None else value[key])
        for key, nested in selection.items()
        if key in value
    }


def kibo_response(request: Request[Any, Any, Any], body: Any, status_code: int = 200) -> Response[Any]:
    """The response body as Kibo would send it, cut down to `responseFields` when the caller asked."""
    content = msgspec.to_builtins(body)
    fields = request.query_params.get(RESPONSE_FIELDS)
    if fields:
        content = trim(content, parse_response_fields(fields))
    return Response(content, status_code=status_code)
