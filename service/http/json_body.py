"""Request bodies are read as JSON only when they say they are JSON and each object names each key once; forms
name each parameter once.

msgspec (Litestar's decoder) keeps the last of repeated keys, as most parsers do, and so does
`dict(parse_qsl(...))`; a proxy or a signature check in front of Gatehouse may keep the first. Refusing the
body is the only answer on which all of them agree (for forms, RFC 6749 §3.2 says so too).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from litestar import Request
from litestar.exceptions import ClientException, HTTPException
from litestar.types import Empty

from service.platform.json_keys import RepeatedKey, loads_with_unique_keys


def form_with_unique_names(text: str) -> dict[str, str]:
    """An application/x-www-form-urlencoded body's parameters, refusing one named twice (RepeatedKey)."""
    form: dict[str, str] = {}
    for name, value in parse_qsl(text, keep_blank_values=True):
        if name in form:
            raise RepeatedKey(f"the parameter {name!r} appears more than once")
        form[name] = value
    return form


def is_json_media_type(content_type: str) -> bool:
    media_type = content_type.split(";", maxsplit=1)[0].strip().lower()
    return media_type == "application/json" or (media_type.startswith("application/") and media_type.endswith("+json"))


class GatehouseRequest(Request[Any, Any, Any]):
    async def json(self) -> Any:
        first_read = self._json is Empty and self._connection_state.json is Empty
        if first_read and not is_json_media_type(self.headers.get("content-type", "")):
            raise HTTPException(status_code=415, detail="Send the body as application/json.")
        decoded = await super().json()
        if first_read:
            # The body is valid JSON by now (msgspec accepted it); this pass only looks for repeated keys.
            try:
                loads_with_unique_keys(await self.body() or b"null")
            except RepeatedKey as repeated:
                raise ClientException(detail=str(repeated)) from None
        return decoded
