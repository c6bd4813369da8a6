"""Access JWTs this process has verified, remembered by digest: a resource server introspects the same token on each
call its customer makes, and each check after the first costs a dictionary look-up instead of a signature
verification and three JSON parses.

Only what cannot change for a given token is remembered: its signature was valid under its tenant's key `kid`, and
its claims. Every hit still asks whether that key is one the tenant verifies with (a key retired by a rotation ends
its tokens here as soon as this process sees the rotation, exactly as for tokens not remembered) and whether the token
has expired; the session and its access version are the resolver's check on every call, so revocation applies at once.
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from service.tokens import jwt_tokens
from service.tokens.keys import KeyCache

# Bounded memory (about 1.5 KB each): the tokens in use at once by one worker's callers; the least recently checked go.
CAPACITY = 8192


class VerifiedJwts:
    def __init__(self, *, keys: KeyCache, issuer_for: Callable[[int], str], capacity: int = CAPACITY) -> None:
        self._keys = keys
        self._issuer_for = issuer_for
        self._capacity = capacity
        self._entries: OrderedDict[bytes, jwt_tokens.Verified] = OrderedDict()

    async def claims(self, token: str) -> dict[str, Any] | None:
        """The claims of a valid access JWT, else None; verified once per token while this process remembers it."""
        digest = hashlib.sha256(token.encode()).digest()
        known = self._entries.get(digest)
        if known is not None:
            if await self._still_valid(known):
                self._entries.move_to_end(digest)
                return known.claims
            del self._entries[digest]
            return None
        verified = await jwt_tokens.verify(self._keys, token, self._issuer_for)
        if verified is None:
            return None  # not remembered: invalid tokens must not push valid ones out
        self._entries[digest] = verified
        if len(self._entries) > self._capacity:
            self._entries.popitem(last=False)
        return verified.claims

    async def _still_valid(self, known: jwt_tokens.Verified) -> bool:
        if known.claims["exp"] < time.time() - jwt_tokens.LEEWAY_SECONDS:
            return False
        return await self._keys.verification_key(known.tenant_id, known.kid) is not None
