"""The domain's error hierarchy.

Domain and service code raise these; `service.http.errors` turns any of them (and anything
else that escapes a handler) into the error shape of the API that was called. Nothing else in the
code base builds an error response.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FieldError:
    field: str
    message: str


class GatehouseError(Exception):
    status_code: int = 400
    code: str = "BAD_REQUEST"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
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
    code = "VALIDATION_FAILED"


class Unauthenticated(GatehouseError):
    status_code = 401
    code = "UNAUTHORIZED"


class Forbidden(GatehouseError):
    status_code = 403
    code = "FORBIDDEN"


class NotFound(GatehouseError):
    status_code = 404
    code = "ITEM_NOT_FOUND"


class Conflict(GatehouseError):
    status_code = 409
    code = "CONFLICT"


class TooManyRequests(GatehouseError):
    status_code = 429
    code = "RATE_LIMITED"


class Unavailable(GatehouseError):
    status_code = 503
    code = "SERVICE_UNAVAILABLE"
