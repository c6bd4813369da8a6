"""JSON that names each key of an object once.

msgspec (Litestar's decoder, and the import's) keeps the last of repeated keys, as most parsers do; a proxy or a
signature check in front of Gatehouse may keep the first. Refusing such a document is the only answer on which
all of them agree. Shared by the HTTP bodies and the lines of an import.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import msgspec


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


_ANY = msgspec.json.Decoder()


def refuse_repeated_keys(body: bytes) -> None:
    """RepeatedKey when an object of this document (UTF-8 JSON that msgspec has read) repeats a key. Most documents
    are settled by counting, at half the cost of reading every key again: a key's closing quote is followed by its
    colon, or by spaces first. With no quote followed by a space, the document has at most as many keys as `":`
    pairs; its objects, decoded, keep one of each repeated key, so they hold that many only if none repeats. Any
    other document (a value holding `":`, spaces before a colon, a repeated key) is read again key by key."""
    spaced = b'" ' in body or b'"\t' in body or b'"\n' in body or b'"\r' in body
    if spaced or body.count(b'":') != _distinct_keys(_ANY.decode(body)):
        loads_with_unique_keys(body)


def _distinct_keys(value: Any) -> int:
    """The keys of every object in a decoded document (each repeated key once); msgspec makes plain dicts and lists."""
    children: Iterable[Any]
    if type(value) is dict:
        count, children = len(value), value.values()
    elif type(value) is list:
        count, children = 0, value
    else:
        return 0
    for child in children:
        if type(child) in _CONTAINERS:
            count += _distinct_keys(child)
    return count


_CONTAINERS = (dict, list)
