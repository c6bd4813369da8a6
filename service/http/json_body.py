"""Request bodies read as JSON only when each object names each key once.

msgspec (Litestar's decoder) keeps the last of repeated keys, as most parsers do; a proxy or a signature check
in front of Gatehouse may keep the first. Refusing the body is the only answer on which all of them agree.
"""

from __future__ import annotations

import json
from typing import Any

from litestar import Request
from litestar.exceptions import ClientException
from litestar.types import Empty


def _object_with_unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found = dict(pairs)
    if len(found) != len(pairs):
        repeated = next(key for index, (key, _) in enumerate(pairs) if key in dict(pairs[:index]))
        raise ClientException(detail=f"the key {json.dumps(repeated)} appears more than once in one object")
    return found


class GatehouseRequest(Request[Any, Any, Any]):
    async def json(self) -> Any:
        first_read = self._json is Empty and self._connection_state.json is Empty
        decoded = await super().json()
        if first_read:
            # The body is valid JSON by now (msgspec accepted it); this pass only looks for repeated keys.
            json.loads(await self.body() or b"null", object_pairs_hook=_object_with_unique_keys)
        return decoded
