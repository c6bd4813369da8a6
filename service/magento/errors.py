"""Magento's error messages, as Gatehouse errors.

Magento answers `{"message": "... %fieldName ...", "parameters": {"fieldName": "email"}}`: the
placeholders stay in the message and their values travel beside it. Each named parameter is carried
as a FieldError (name, value); `service.http.errors` renders them as that dict on `/rest/` paths.
"""

from __future__ import annotations

from service.errors import ErrorCode, FieldError, GatehouseError, InvalidInput, NotFound, Unauthenticated

SIGN_IN_FAILED = (
    "The account sign-in was incorrect or your account is disabled temporarily. Please wait and try again later."
)


def _parameters(**values: object) -> tuple[FieldError, ...]:
    return tuple(FieldError(name, str(value)) for name, value in values.items())


def required(field: str) -> InvalidInput:
    return InvalidInput(
        '"%fieldName" is required. Enter and try again.',
        code=ErrorCode.REQUIRED_FIELD,
        field_errors=_parameters(fieldName=field),
    )


def invalid_value(field: str, value: object) -> InvalidInput:
    return InvalidInput(
        'Invalid value of "%value" provided for the %fieldName field.',
        code=ErrorCode.INVALID_FIELD_VALUE,
        field_errors=_parameters(value=str(value)[:100], fieldName=field),
    )


def invalid_request(problem: str) -> InvalidInput:
    return InvalidInput(
        "The request is invalid: %1", code=ErrorCode.VALIDATION_FAILED, field_errors=_parameters(**{"1": problem})
    )


def not_kept(field: str) -> InvalidInput:
    """A custom or extension attribute Gatehouse has nowhere to keep: refused rather than dropped."""
    return InvalidInput(
        '"%fieldName" cannot be saved: this service keeps no such attribute.',
        code=ErrorCode.UNSUPPORTED_FIELD,
        field_errors=_parameters(fieldName=field),
    )


def repeated_key(field: str) -> InvalidInput:
    """One key in camelCase and in snake_case: Magento would keep whichever it read last."""
    return InvalidInput(
        '"%fieldName" is sent twice in one object, in camelCase and in snake_case.',
        code=ErrorCode.MALFORMED_REQUEST,
        field_errors=_parameters(fieldName=field),
    )


def no_such_entity(field: str, value: object) -> NotFound:
    return NotFound(
        "No such entity with %fieldName = %fieldValue",
        code=ErrorCode.NO_SUCH_ENTITY,
        field_errors=_parameters(fieldName=field, fieldValue=value),
    )


def not_authorized(resource: str) -> Unauthenticated:
    return Unauthenticated(
        "The consumer isn't authorized to access %resources.",
        code=ErrorCode.NOT_AUTHORIZED,
        field_errors=_parameters(resources=resource),
    )


def sign_in_failed() -> Unauthenticated:
    return Unauthenticated(SIGN_IN_FAILED, code=ErrorCode.INVALID_CREDENTIALS)


def store_not_found() -> NotFound:
    return NotFound(
        "The store that was requested wasn't found. Verify the store and try again.", code=ErrorCode.STORE_NOT_FOUND
    )


def email_taken() -> InvalidInput:
    return InvalidInput(
        "A customer with the same email address already exists in an associated website.", code=ErrorCode.EMAIL_TAKEN
    )


def in_magento_words(exc: GatehouseError, email_sent: str | None = None) -> GatehouseError:
    """An error of Gatehouse's accounts, contacts or passwords as Magento words it, where Magento has its own.
    `email_sent`: the customer's email as the caller sent it, which Magento's invalid-email message quotes."""
    if exc.code == ErrorCode.INVALID_EMAIL and email_sent is not None:
        return invalid_value("email", email_sent)
    if exc.code in (ErrorCode.EMAIL_TAKEN, ErrorCode.USERNAME_TAKEN):
        return email_taken()
    if exc.code == ErrorCode.TOO_MANY_CONTACTS:
        return InvalidInput(
            exc.message.replace("An account", "A customer").replace("contacts", "addresses"), code=exc.code
        )
    if exc.code in (ErrorCode.INVALID_OLD_PASSWORD, ErrorCode.INVALID_PASSWORD):
        return Unauthenticated(
            "The password doesn't match this account. Verify the password and try again.", code=exc.code
        )
    if exc.code == ErrorCode.INVALID_CONFIRMATION_CODE:
        return InvalidInput("The password token is mismatched. Reset and try again.", code=exc.code)
    return exc
