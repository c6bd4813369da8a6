"""Magento's error messages, as Gatehouse errors.

Magento answers `{"message": "... %fieldName ...", "parameters": {"fieldName": "email"}}`: the
placeholders stay in the message and their values travel beside it. Each named parameter is carried
as a FieldError (name, value); `service.http.errors` renders them as that dict on `/rest/` paths.
"""

from __future__ import annotations

from service.errors import FieldError, InvalidInput, NotFound, Unauthenticated

SIGN_IN_FAILED = (
    "The account sign-in was incorrect or your account is disabled temporarily. Please wait and try again later."
)


def _parameters(**values: object) -> tuple[FieldError, ...]:
    return tuple(FieldError(name, str(value)) for name, value in values.items())


def required(field: str) -> InvalidInput:
    return InvalidInput('"%fieldName" is required. Enter and try again.', code="REQUIRED_FIELD",
                        field_errors=_parameters(fieldName=field))


def invalid_value(field: str, value: object) -> InvalidInput:
    return InvalidInput('Invalid value of "%value" provided for the %fieldName field.', code="INVALID_FIELD_VALUE",
                        field_errors=_parameters(value=str(value)[:100], fieldName=field))


def invalid_request(problem: str) -> InvalidInput:
    return InvalidInput("The request is invalid: %1", code="VALIDATION_FAILED", field_errors=_parameters(**{"1": problem}))


def no_such_entity(field: str, value: object) -> NotFound:
    return NotFound("No such entity with %fieldName = %fieldValue", code="NO_SUCH_ENTITY",
                    field_errors=_parameters(fieldName=field, fieldValue=value))


def not_authorized(resource: str) -> Unauthenticated:
    return Unauthenticated("The consumer isn't authorized to access %resources.", code="NOT_AUTHORIZED",
                           field_errors=_parameters(resources=resource))


def sign_in_failed() -> Unauthenticated:
    return Unauthenticated(SIGN_IN_FAILED, code="INVALID_CREDENTIALS")


def store_not_found() -> NotFound:
    return NotFound("The store that was requested wasn't found. Verify the store and try again.", code="STORE_NOT_FOUND")


def email_taken() -> InvalidInput:
    return InvalidInput("A customer with the same email address already exists in an associated website.",
                        code="EMAIL_TAKEN")
