"""The fixed catalogue of events, and which audited action is which event.

Every event's `data` names the tenant, the account (id, customer set, externalId) and the actor; the
fields an event adds are copied from its audit details by name, one by one, so nothing else an audit
row holds (and never a password, hash, token, code or secret: the audit trail keeps none either) can
reach a receiver. A payload's `version` changes when its fields change incompatibly.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Data = dict[str, Any]


@dataclass(frozen=True, slots=True)
class EventType:
    name: str
    version: int
    description: str
    opt_in: bool = False  # high volume: an endpoint gets it only when its event types name it


CATALOGUE: tuple[EventType, ...] = (
    EventType("customer.created", 1, "A customer account was created (one by one or by an import)."),
    EventType("customer.updated", 1, "A customer account changed; `changed` names the fields, never their values."),
    EventType("customer.deleted", 1, "A customer account was deleted."),
    EventType("customer.password_changed", 1, "The password was changed (`reason`: changed or reset)."),
    EventType("customer.password_reset_requested", 1, "A password-reset code was sent to the customer."),
    EventType("customer.locked", 1, "The login was locked (`reason`: admin, or failed_logins with `minutes`)."),
    EventType("customer.unlocked", 1, "An admin or application unlocked the login."),
    EventType("customer.login_succeeded", 1, "The customer logged in; `methods` are the RFC 8176 amr values."),
    EventType("customer.login_failed", 1, "A login failed (`reason`); no account when the user is unknown.", True),
    EventType("session.revoked", 1, "Sessions ended (`reason`: logout, revoke_all or reuse_detected)."),
    EventType("second_factor.enrolled", 1, "An authenticator app was enrolled (`method`: totp)."),
    EventType("second_factor.removed", 1, "An authenticator app was removed (`method`: totp)."),
    EventType(
        "import.completed",
        1,
        "A bulk import finished: Kibo's Bulk with `customerSet`, `created` and `accountIds`; an import job with its "
        "counts (`created`, `updated`, `unchanged`, `failed`, `dryRun`).",
    ),
)
BY_NAME = {event.name: event for event in CATALOGUE}
DEFAULT_TYPES = tuple(event.name for event in CATALOGUE if not event.opt_in)


def _nothing(details: Data) -> Data:
    return {}


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(word.title() for word in rest)


def _changed(details: Data) -> Data:
    return {"changed": sorted({camel(str(name)) for name in details.get("changed", ())})}


def _contacts(details: Data) -> Data:
    return {"changed": ["contacts"]}


def _copied(*names: str, **fixed: object) -> Callable[[Data], Data]:
    """The data of an event: `fixed` values, and the named audit details that are present."""

    def data(details: Data) -> Data:
        return {**fixed, **{name: details[name] for name in names if name in details}}

    return data


def _login_succeeded(details: Data) -> Data:
    return {"methods": list(details.get("amr", ()))}


# Audited action -> (event type, its data from the audit details).
_FROM_AUDIT: dict[str, tuple[str, Callable[[Data], Data]]] = {
    "account.created": ("customer.created", _nothing),
    "account.updated": ("customer.updated", _changed),
    "contact.added": ("customer.updated", _contacts),
    "contact.updated": ("customer.updated", _contacts),
    "contact.deleted": ("customer.updated", _contacts),
    "account.deleted": ("customer.deleted", _nothing),
    "password.changed": ("customer.password_changed", _copied(reason="changed")),
    "password.reset": ("customer.password_changed", _copied(reason="reset")),
    "password.reset_requested": ("customer.password_reset_requested", _nothing),
    "login.locked": ("customer.locked", _copied(reason="admin")),
    "login.locked_out": ("customer.locked", _copied("minutes", reason="failed_logins")),
    "login.unlocked": ("customer.unlocked", _nothing),
    "login.succeeded": ("customer.login_succeeded", _login_succeeded),
    "login.failed": ("customer.login_failed", _copied("reason")),
    "session.revoked": ("session.revoked", _copied("reason", "sessionId", "sessions")),
    "2fa.enrolled": ("second_factor.enrolled", _copied(method="totp")),
    "2fa.disabled": ("second_factor.removed", _copied(method="totp")),
    "accounts.imported": ("import.completed", _copied("customerSet", "created", "accountIds")),
    # A bulk import job (service.imports): its counts; its accounts are in the job's report, not in the event.
    "import.completed": ("import.completed", _copied("dryRun", "created", "updated", "unchanged", "failed")),
}


def event_of(action: str, details: Data) -> tuple[EventType, Data] | None:
    """The catalogue event an audited action is, with its own data; None for actions that are no event."""
    mapped = _FROM_AUDIT.get(action)
    if mapped is None:
        return None
    name, data = mapped
    return BY_NAME[name], data(details)


_ACTOR_KINDS = {"admin": "admin", "app": "application", "customer": "customer"}


def actor_of(name: str) -> Data:
    """ "admin:12" -> {"type": "admin", "id": "12"}; the system and the command line are "system"."""
    kind, _, ident = name.partition(":")
    if kind in _ACTOR_KINDS:
        return {"type": _ACTOR_KINDS[kind], "id": ident}
    return {"type": "system", "id": kind}
