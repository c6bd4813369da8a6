"""A customer session as Redis holds it: one typed record, encoded and decoded here only.

The short field names on the wire are the ones the Lua scripts in `store.py` and `rotation.py` read
and write (`s.tid`, `s.rt`, `s.atv`, ...); Python code uses the long names.
"""

from __future__ import annotations

from typing import Any

import msgspec

from service.accounts.records import Account
from service.sessions.legacy import account_from_kibo_body


class SessionRecord(msgspec.Struct, frozen=True, kw_only=True):
    session_id: str = msgspec.field(name="sid")
    tenant_id: int = msgspec.field(name="tid")
    account_id: int = msgspec.field(name="acct")
    user_id: str = msgspec.field(name="uid")
    client_id: str = msgspec.field(name="cid")
    application_id: int = msgspec.field(name="app")
    customer_set_id: int = msgspec.field(name="csid")
    customer_set_code: str = msgspec.field(name="cs")
    fingerprint: str | None = msgspec.field(name="fp")
    region: str | None
    idle_seconds: int = msgspec.field(name="idle")
    absolute_expiry_ms: int = msgspec.field(name="abs")
    access_seconds: int = msgspec.field(name="access")
    amr: list[str]  # how the customer proved who they are: "pwd", "otp", "mfa"
    grace_seconds: int = msgspec.field(name="grace")  # a replayed parent refresh token gets the same successor
    login_name: str | None = msgspec.field(name="user")
    # The account as refreshes answer it, as JSON text: Lua's cjson would turn an empty list into {}. Records
    # written by earlier versions hold Kibo's body there, as text or (older still) as an object.
    account_json: str | dict[str, Any] = msgspec.field(name="account")
    refresh_digest: str = msgspec.field(name="rt", default="")
    access_version: int = msgspec.field(name="atv", default=1)  # bumped to end the session's access tokens
    created_ms: int = msgspec.field(name="created", default=0)
    last_used_ms: int = msgspec.field(name="last", default=0)

    @property
    def account(self) -> Account:
        snapshot = self.account_json
        if isinstance(snapshot, str):
            try:
                return msgspec.json.decode(snapshot, type=Account)
            except msgspec.ValidationError:
                snapshot = msgspec.json.decode(snapshot)
        return account_from_kibo_body(snapshot)


_decoder = msgspec.json.Decoder(SessionRecord)


def encode_session(record: SessionRecord) -> bytes:
    return msgspec.json.encode(record)


def decode_session(raw: str | bytes) -> SessionRecord:
    return _decoder.decode(raw)


def account_snapshot(account: Account) -> str:
    """What a session keeps of its account, as the login that opened it saw it."""
    return msgspec.json.encode(account).decode()
