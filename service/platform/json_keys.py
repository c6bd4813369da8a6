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
    found = dict(pairs)  # in C; only an object that repeats a key is walked again, to name it
    if len(found) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise RepeatedKey(f"the key {json.dumps(key)} appears more than once in one object")
            seen.add(key)
    return found


_DECODER = json.JSONDecoder(object_pairs_hook=_object_with_unique_keys)  # one, not one per call as json.loads


def loads_with_unique_keys(body: bytes) -> Any:
    """JSON as the standard library reads it (json.loads: UTF-8, 16 or 32), refusing an object that repeats a key
    (RepeatedKey)."""
    return _DECODER.decode(body.decode(json.detect_encoding(body), "surrogatepass"))
