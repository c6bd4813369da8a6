"""One line of an import: a customer account as JSON, in Kibo's field names (camelCase).

The fields are those of the records the rest of Gatehouse uses (`AccountChanges`, `ContactFields`, Magento's
`CustomerExtras` and `AddressExtras`), so the wire format cannot drift from what is stored; a line adds the
customer set, the password hash and its format. Unknown fields, wrong types and texts over 255 characters fail
the line. A line that repeats a key in one object fails too, as a body that does on every other route.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypeVar

import msgspec

from service.accounts.records import AccountChanges, ContactFields, NewContact
from service.errors import ErrorCode
from service.magento.records import AddressExtras, CustomerExtras
from service.platform.db import MAX_ID
from service.platform.json_keys import RepeatedKey, refuse_repeated_keys

MAX_CONTACTS = 500  # what an account may hold (service.contacts.service)
MAX_LINE_BYTES = 1 << 20
TOO_LONG = b"\x00"  # stands for a line over MAX_LINE_BYTES: a lone NUL byte is never a JSON line
_TEXT = Annotated[str, msgspec.Meta(max_length=255)]


class LineFailure(Exception):
    """Why a line cannot be imported: the field (in the line's own names) and the reason, never a value."""

    def __init__(self, field: str, reason: str, code: ErrorCode = ErrorCode.VALIDATION_FAILED) -> None:
        super().__init__(reason)
        self.field, self.reason, self.code = field, reason, code


def _optional(record: type[msgspec.Struct], skip: tuple[str, ...] = (), **types: Any) -> list[tuple[str, Any, Any]]:
    """The fields of `record`, each optional, texts capped; `types` replaces some fields' types."""
    fields = []
    for field in msgspec.structs.fields(record):
        if field.name in skip:
            continue
        kind = types.get(field.name, _TEXT if field.type in (str, str | None) else field.type)
        fields.append((field.name, kind | None, None))
    return fields


def _wire(name: str, fields: list[tuple[str, Any, Any]]) -> type[msgspec.Struct]:
    """A struct of the line's wire format: camelCase names, unknown fields refused."""
    return msgspec.defstruct(name, fields, rename="camel", forbid_unknown_fields=True, kw_only=True, frozen=True)


class ContactType(msgspec.Struct, rename="camel", forbid_unknown_fields=True, kw_only=True, frozen=True):
    name: _TEXT
    is_primary: bool = False


_ID = Annotated[int, msgspec.Meta(ge=0, le=MAX_ID)]
AddressLine = _wire("AddressLine", _optional(AddressExtras, region_id=_ID))
ContactLine = _wire(
    "ContactLine",
    [
        *_optional(ContactFields),
        ("types", Annotated[list[ContactType], msgspec.Meta(max_length=2)] | None, None),
        ("magento", AddressLine | None, None),
    ],
)
CustomerLine = _wire(
    "CustomerLine",
    [
        *_optional(
            CustomerExtras,
            skip=("store_id",),
            group_id=_ID,
            disable_auto_group_change=Literal[0, 1],
            gender=Annotated[int, msgspec.Meta(ge=0, le=32767)],
        ),
        ("store_code", _TEXT | None, None),
    ],
)
AccountLine = _wire(
    "AccountLine",
    [
        *_optional(AccountChanges),
        ("customer_set", _TEXT | None, None),
        ("contacts", Annotated[list[ContactLine], msgspec.Meta(max_length=MAX_CONTACTS)] | None, None),  # type: ignore[valid-type]
        ("magento", CustomerLine | None, None),
        ("password_hash", Annotated[str, msgspec.Meta(max_length=1024)] | None, None),
        ("password_hash_format", _TEXT, "auto"),
    ],
)
_DECODER = msgspec.json.Decoder(AccountLine)


class ImportContact(msgspec.Struct, frozen=True, kw_only=True):
    contact: NewContact
    extras: AddressExtras  # all None: the address has no Magento fields


class ImportLine(msgspec.Struct, frozen=True, kw_only=True):
    """A decoded line, in the records' own terms."""

    changes: AccountChanges
    customer_set: str | None
    contacts: tuple[ImportContact, ...] | None  # None: the line leaves an existing account's contacts as they are
    magento: dict[str, Any] | None  # CustomerLine's fields by their Python names
    password_hash: str | None
    password_hash_format: str


def decode_line(raw: bytes) -> ImportLine:
    """The line's account, or LineFailure saying which field is wrong and why."""
    if raw == TOO_LONG:
        raise LineFailure("line", f"is longer than {MAX_LINE_BYTES} bytes", ErrorCode.MALFORMED_REQUEST)
    try:
        decoded: Any = _DECODER.decode(raw)
        refuse_repeated_keys(raw)  # msgspec keeps the last of a repeated key; refuse such a line instead
    except msgspec.ValidationError as exc:
        reason, _, path = str(exc).partition(" - at `$")
        raise LineFailure(path.strip("`.") or "line", reason) from None
    except (msgspec.DecodeError, RepeatedKey, UnicodeDecodeError, RecursionError) as exc:
        raise LineFailure("line", f"is not a JSON object: {exc}", ErrorCode.MALFORMED_REQUEST) from None
    contacts, magento = decoded.contacts, decoded.magento
    return ImportLine(
        changes=_as(AccountChanges, decoded),
        customer_set=decoded.customer_set,
        contacts=None if contacts is None else tuple(_contact(contact) for contact in contacts),
        magento=None if magento is None else msgspec.structs.asdict(magento),
        password_hash=decoded.password_hash,
        password_hash_format=decoded.password_hash_format,
    )


R = TypeVar("R", bound=msgspec.Struct)


def _as(record: type[R], wire: Any) -> R:
    """A wire struct as the record whose fields it carries (and more)."""
    return msgspec.convert(wire, record, from_attributes=True)


def _contact(wire: Any) -> ImportContact:
    types = tuple((t.name, t.is_primary) for t in wire.types or ())
    extras = _as(AddressExtras, wire.magento) if wire.magento is not None else AddressExtras()
    return ImportContact(contact=NewContact(fields=_as(ContactFields, wire), types=types), extras=extras)
