"""The domain's error hierarchy, and every machine-readable error code.

Domain and service code raise these; `service.http.errors` turns any of them (and anything
else that escapes a handler) into the error shape of the API that was called. Nothing else in the
code base builds an error response. The README's "Error codes" table lists each code with its
HTTP statuses; a test keeps the two equal.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ErrorCode(StrEnum):
    """The stable codes of `code` (problem+json) and `errorCode` (Kibo). Never rename one: clients match them."""

    ACCOUNT_INACTIVE = "ACCOUNT_INACTIVE"
    ACCOUNT_NOT_FOUND = "ACCOUNT_NOT_FOUND"
    ADMIN_USER_EXISTS = "ADMIN_USER_EXISTS"
    ADMIN_USER_NOT_FOUND = "ADMIN_USER_NOT_FOUND"
    APPLICATION_NOT_FOUND = "APPLICATION_NOT_FOUND"
    AUTHENTICATOR_EXISTS = "AUTHENTICATOR_EXISTS"
    BAD_REQUEST = "BAD_REQUEST"
    CONFLICT = "CONFLICT"
    CONTACT_NOT_FOUND = "CONTACT_NOT_FOUND"
    CUSTOMER_SET_EXISTS = "CUSTOMER_SET_EXISTS"
    CUSTOMER_SET_IN_USE = "CUSTOMER_SET_IN_USE"
    CUSTOMER_SET_NOT_FOUND = "CUSTOMER_SET_NOT_FOUND"
    DEFAULT_SITE_REQUIRED = "DEFAULT_SITE_REQUIRED"
    DEVICE_NOT_FOUND = "DEVICE_NOT_FOUND"
    DURATION_ABOVE_CAP = "DURATION_ABOVE_CAP"
    EMAIL_CODE_NOT_ALLOWED = "EMAIL_CODE_NOT_ALLOWED"
    EMAIL_TAKEN = "EMAIL_TAKEN"
    FORBIDDEN = "FORBIDDEN"
    HOST_NAME_TAKEN = "HOST_NAME_TAKEN"
    IMPORT_FINISHED = "IMPORT_FINISHED"
    IMPORT_NOT_FOUND = "IMPORT_NOT_FOUND"
    INTERNAL_ERROR = "INTERNAL_ERROR"
    INVALID_2FA_CODE = "INVALID_2FA_CODE"
    INVALID_APP_TOKEN = "INVALID_APP_TOKEN"
    INVALID_CLIENT = "INVALID_CLIENT"
    INVALID_CONFIRMATION_CODE = "INVALID_CONFIRMATION_CODE"
    INVALID_CONTACT_TYPE = "INVALID_CONTACT_TYPE"
    INVALID_CREDENTIALS = "INVALID_CREDENTIALS"
    INVALID_EMAIL = "INVALID_EMAIL"
    INVALID_FIELD_VALUE = "INVALID_FIELD_VALUE"
    INVALID_FILTER = "INVALID_FILTER"
    INVALID_HEADER = "INVALID_HEADER"
    INVALID_OLD_PASSWORD = "INVALID_OLD_PASSWORD"
    INVALID_OTP_CODE = "INVALID_OTP_CODE"
    INVALID_PASSWORD = "INVALID_PASSWORD"
    INVALID_PENDING_LOGIN = "INVALID_PENDING_LOGIN"
    INVALID_REFRESH_TOKEN = "INVALID_REFRESH_TOKEN"
    INVALID_REQUEST = "INVALID_REQUEST"
    INVALID_RESPONSE_FIELDS = "INVALID_RESPONSE_FIELDS"
    INVALID_SORT = "INVALID_SORT"
    INVALID_TOKEN = "INVALID_TOKEN"
    INVALID_USER_TOKEN = "INVALID_USER_TOKEN"
    INVALID_WEBHOOK_URL = "INVALID_WEBHOOK_URL"
    ITEM_NOT_FOUND = "ITEM_NOT_FOUND"
    LOGIN_EXISTS = "LOGIN_EXISTS"
    LOGIN_NAME_REQUIRED = "LOGIN_NAME_REQUIRED"
    LOGIN_NOT_FOUND = "LOGIN_NOT_FOUND"
    MALFORMED_REQUEST = "MALFORMED_REQUEST"
    METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
    MISSING_BEHAVIOR = "MISSING_BEHAVIOR"
    MISSING_PENDING_LOGIN = "MISSING_PENDING_LOGIN"
    MISSING_TOKEN = "MISSING_TOKEN"
    MISSING_USER_TOKEN = "MISSING_USER_TOKEN"
    NOT_ACCEPTABLE = "NOT_ACCEPTABLE"
    NOT_AUTHORIZED = "NOT_AUTHORIZED"
    NO_AUTHENTICATOR = "NO_AUTHENTICATOR"
    NO_PENDING_ENROLMENT = "NO_PENDING_ENROLMENT"
    NO_SUCH_ENTITY = "NO_SUCH_ENTITY"
    PASSWORD_POLICY = "PASSWORD_POLICY"
    PASSWORD_REQUIRED = "PASSWORD_REQUIRED"
    PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"
    PLATFORM_ADMIN_REQUIRED = "PLATFORM_ADMIN_REQUIRED"
    RATE_LIMITED = "RATE_LIMITED"
    READ_ONLY_ADMIN = "READ_ONLY_ADMIN"
    REQUIRED_FIELD = "REQUIRED_FIELD"
    SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"
    SESSION_NOT_FOUND = "SESSION_NOT_FOUND"
    SITE_EXISTS = "SITE_EXISTS"
    SITE_MISMATCH = "SITE_MISMATCH"
    SITE_NOT_FOUND = "SITE_NOT_FOUND"
    STORE_NOT_FOUND = "STORE_NOT_FOUND"
    STORE_NOT_IN_WEBSITE = "STORE_NOT_IN_WEBSITE"
    TENANT_MISMATCH = "TENANT_MISMATCH"
    TENANT_NOT_FOUND = "TENANT_NOT_FOUND"
    TOO_MANY_CONTACTS = "TOO_MANY_CONTACTS"
    TWO_FACTOR_REQUIRED = "TWO_FACTOR_REQUIRED"
    UNAUTHORIZED = "UNAUTHORIZED"
    UNKNOWN_EVENT_TYPE = "UNKNOWN_EVENT_TYPE"
    UNSUPPORTED_FIELD = "UNSUPPORTED_FIELD"
    UNSUPPORTED_GRANT_TYPE = "UNSUPPORTED_GRANT_TYPE"
    UNSUPPORTED_HASH_FORMAT = "UNSUPPORTED_HASH_FORMAT"
    UNSUPPORTED_MEDIA_TYPE = "UNSUPPORTED_MEDIA_TYPE"
    USERNAME_TAKEN = "USERNAME_TAKEN"
    VALIDATION_FAILED = "VALIDATION_FAILED"
    WEBHOOK_DELIVERY_NOT_FOUND = "WEBHOOK_DELIVERY_NOT_FOUND"
    WEBHOOK_ENDPOINT_NOT_FOUND = "WEBHOOK_ENDPOINT_NOT_FOUND"
    WEBSITE_CHANGE_UNSUPPORTED = "WEBSITE_CHANGE_UNSUPPORTED"
    WEBSITE_REQUIRED = "WEBSITE_REQUIRED"


@dataclass(frozen=True, slots=True)
class FieldError:
    field: str
    message: str


class GatehouseError(Exception):
    status_code: int = 400
    code: ErrorCode = ErrorCode.BAD_REQUEST

    def __init__(
        self,
        message: str,
        *,
        code: ErrorCode | None = None,
        field_errors: tuple[FieldError, ...] = (),
        headers: dict[str, str] | None = None,
        oauth_error: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.field_errors = field_errors
        self.headers = headers or {}
        # RFC 6749 §5.2 error name, for token endpoints that OAuth client libraries call.
        self.oauth_error = oauth_error


class InvalidInput(GatehouseError):
    status_code = 400
    code = ErrorCode.VALIDATION_FAILED


class Unauthenticated(GatehouseError):
    status_code = 401
    code = ErrorCode.UNAUTHORIZED


class Forbidden(GatehouseError):
    status_code = 403
    code = ErrorCode.FORBIDDEN


class NotFound(GatehouseError):
    status_code = 404
    code = ErrorCode.ITEM_NOT_FOUND


class Conflict(GatehouseError):
    status_code = 409
    code = ErrorCode.CONFLICT


class TooManyRequests(GatehouseError):
    status_code = 429
    code = ErrorCode.RATE_LIMITED


class Unavailable(GatehouseError):
    status_code = 503
    code = ErrorCode.SERVICE_UNAVAILABLE
