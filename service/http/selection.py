"""The field selection callers may ask an answer to be cut down to, shared by the surfaces that offer it.

Kibo's `responseFields=id,contacts(id,email)` and Magento's `fields=items[id,addresses[city]]` are the
same nested list; each surface reads its own query parameter and brackets, then parses and trims here.
"""

from __future__ import annotations

import re
from typing import Any

from service.errors import ErrorCode, InvalidInput

_FIELD = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*")

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
    # In Kibo's words; Magento answers its own error instead.
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
