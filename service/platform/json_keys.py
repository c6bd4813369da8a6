"""JSON that names each key of an object once.

msgspec (Litestar's decoder, and the import's) keeps the last of repeated keys, as most parsers do; a proxy or a
signature check in front of Gatehouse may keep the first. Refusing such a document is the only answer on which
all of them agree. Shared by the HTTP bodies and the lines of an import.
"""

from __future__ import annotations

import json
from typing import Any


class RepeatedKey(ValueError):
    pass


def _object_with_unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise RepeatedKey(f"the key {json.dumps(key)} appears more than once in one object")
        found[key] = value
    return found


def loads_with_unique_keys(body: bytes) -> Any:
    """JSON as the standard library reads it, refusing an object that repeats a key (RepeatedKey)."""
    return json.loads(body, object_pairs_hook=_object_with_unique_keys)
