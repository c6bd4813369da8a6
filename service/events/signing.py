"""Standard Webhooks signatures (standardwebhooks.com): `webhook-id`, `webhook-timestamp`, `webhook-signature`.

The `standardwebhooks` library, the specification's own, computes each signature; during a rotation's overlap
the header carries one per secret, space-separated, as the specification allows, so a receiver that still
holds the old secret and one that has the new one both verify.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Sequence
from datetime import datetime
from functools import lru_cache

from standardwebhooks import Webhook

SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    """A signing secret as the specification spells them: whsec_ and 32 random bytes in base64."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


@lru_cache(maxsize=1024)
def _signer(secret: str) -> Webhook:
    return Webhook(secret)


def signed_headers(message_id: str, body: str, signing_secrets: Sequence[str], now: datetime) -> dict[str, str]:
    signatures = " ".join(_signer(secret).sign(message_id, now, body) for secret in signing_secrets)
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signatures,
    }


def sealing_context(tenant_id: int, endpoint_id: int) -> str:
    """What an endpoint's secrets are sealed to at rest (SecretBox): they open on its own row only."""
    return f"webhook:{tenant_id}:{endpoint_id}"
