"""The one place where errors become HTTP responses.

Every failure — a domain error, a Litestar validation or routing error, a database outage or a
bug — goes through `handle_error`, which picks the error shape of the API that was called:

* `/api/...`  (Kibo routes): Kibo's ApiError body, plus RFC 6749 `error` fields on OAuth errors;
* `/rest/...` (Magento routes): Magento's `{message, parameters}`;
* everything else (admin and standards routes): RFC 9457 problem+json.

The stable machine-readable code is `code` (problem+json) or `errorCode` (Kibo). Nothing from an
unexpected exception reaches the client; it is logged with the request id instead.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import Enum
from typing import Any

import asyncpg
import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, InternalServerException, ValidationException

from service.errors import ErrorCode, FieldError, GatehouseError
from service.http.request_context import request_id_of
from service.platform.db import DATABASE_UNAVAILABLE
from service.platform.metrics import metrics
from service.platform.redis import REDIS_UNAVAILABLE

log = logging.getLogger("gatehouse.errors")

APPLICATION_NAME = "Gatehouse"

_CODE_BY_STATUS: dict[int, ErrorCode] = {
    400: ErrorCode.MALFORMED_REQUEST,
    401: ErrorCode.UNAUTHORIZED,
    403: ErrorCode.FORBIDDEN,
    404: ErrorCode.ITEM_NOT_FOUND,
    405: ErrorCode.METHOD_NOT_ALLOWED,
    406: ErrorCode.NOT_ACCEPTABLE,
    409: ErrorCode.CONFLICT,
    413: ErrorCode.PAYLOAD_TOO_LARGE,
    415: ErrorCode.UNSUPPORTED_MEDIA_TYPE,
    429: ErrorCode.RATE_LIMITED,
    500: ErrorCode.INTERNAL_ERROR,
    503: ErrorCode.SERVICE_UNAVAILABLE,
}
_MESSAGE_BY_STATUS = {
    400: "The request is malformed.",
    401: "Authentication is required.",
    403: "The caller may not do this.",
    404: "Nothing was found at this address.",
    405: "This method is not allowed here.",
    413: "The request body is larger than this service accepts.",
    415: "This content type is not supported here.",
    500: "Something went wrong on our side. The request id identifies it in our logs.",
    503: "A backing service is unavailable. Try again shortly.",
}
_TITLE_BY_STATUS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    406: "Not Acceptable",
    409: "Conflict",
    413: "Content Too Large",
    415: "Unsupported Media Type",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


@dataclass(frozen=True, slots=True)
class ErrorDescription:
    status: int
    code: ErrorCode
    message: str
    field_errors: tuple[FieldError, ...] = ()
    headers: dict[str, str] | None = None
    oauth_error: str | None = None


def describe(exc: Exception) -> ErrorDescription:
    if isinstance(exc, GatehouseError):
        return ErrorDescription(exc.status_code, exc.code, exc.message, exc.field_errors, exc.headers, exc.oauth_error)
    if isinstance(exc, ValidationException):
        return ErrorDescription(400, ErrorCode.VALIDATION_FAILED, "The request is invalid.", _field_errors(exc.extra))
    if isinstance(exc, HTTPException):
        return _http_error(exc)
    return _unexpected(exc)


def _http_error(exc: HTTPException) -> ErrorDescription:
    """Litestar's own refusals: routing, methods, sizes, content types, malformed bodies."""
    if (misread := _body_error_taken_for_a_dependency(exc)) is not None:
        return misread
    status = exc.status_code
    if status >= 500:  # Litestar's own failures (serialization, configuration) are bugs of ours, never the caller's
        log.error("unhandled error", exc_info=exc)
    message = _MESSAGE_BY_STATUS.get(status, exc.detail)
    if status == 400 and exc.detail:
        message = f"The request is malformed: {exc.detail}."
    code = _CODE_BY_STATUS.get(status, ErrorCode.BAD_REQUEST if status < 500 else ErrorCode.INTERNAL_ERROR)
    return ErrorDescription(status, code, message, headers=exc.headers)


def _body_error_taken_for_a_dependency(exc: HTTPException) -> ErrorDescription | None:
    """Litestar blames a dependency (500) for a body field that fails validation when the field has a
    dependency's name (the account's `contacts` and the `contacts` capability): it is still the body's fault."""
    cause = exc.__cause__
    if not isinstance(exc, InternalServerException) or not isinstance(cause, msgspec.ValidationError):
        return None
    message, found, location = str(cause).partition(" - at `$.data")
    if not found:
        return None
    field = location.strip("`.") or "body"
    return ErrorDescription(400, ErrorCode.VALIDATION_FAILED, "The request is invalid.", (FieldError(field, message),))


# What no handler raised on purpose but is still not our bug, in the order they are tried: each with its answer,
# and whether it is worth a warning in the log.
_KNOWN_FAILURES: tuple[tuple[tuple[type[BaseException], ...], ErrorDescription, bool], ...] = (
    # A body that is not UTF-8 fails in the JSON decoder, before any handler.
    ((UnicodeDecodeError,), ErrorDescription(400, ErrorCode.MALFORMED_REQUEST, "The request body is not valid UTF-8."),
     False),
    # msgspec refuses JSON nested deeper than Python's recursion limit.
    ((RecursionError,),
     ErrorDescription(400, ErrorCode.MALFORMED_REQUEST, "The request body nests too deeply."), False),
    # A deadlock or serialization failure that the lock order (service.tenants.transactions) did not prevent:
    # nothing was written, the caller may retry; logged, because it means a lock order to mend.
    ((asyncpg.exceptions.TransactionRollbackError,),
     ErrorDescription(409, ErrorCode.CONFLICT, "The change raced another one and was not made. Try again."), True),
    # The database refused a change that raced another one; the invariant held, the caller may retry.
    ((asyncpg.exceptions.UniqueViolationError, asyncpg.exceptions.ForeignKeyViolationError),
     ErrorDescription(409, ErrorCode.CONFLICT, "The change conflicts with the current state. Reload and try again."),
     False),
    # A value PostgreSQL cannot hold (an id beyond int4, a NUL byte): the input's fault, not ours.
    ((asyncpg.exceptions.DataError,),
     ErrorDescription(400, ErrorCode.VALIDATION_FAILED, "A value in the request is out of range or malformed."), False),
    ((*DATABASE_UNAVAILABLE, *REDIS_UNAVAILABLE),
     ErrorDescription(503, ErrorCode.SERVICE_UNAVAILABLE, _MESSAGE_BY_STATUS[503], headers={"Retry-After": "1"}), True),
)  # fmt: skip


def _unexpected(exc: Exception) -> ErrorDescription:
    """What no handler raised on purpose: hostile input, races, outages, bugs."""
    for kinds, description, worth_a_warning in _KNOWN_FAILURES:
        if isinstance(exc, kinds):
            if description.status == 503:
                metrics().backend_errors.labels("redis" if isinstance(exc, REDIS_UNAVAILABLE) else "postgres").inc()
            if worth_a_warning:
                log.warning("request failed", extra={"error": type(exc).__name__, "status": description.status})
            return description
    log.error("unhandled error", exc_info=exc)
    return ErrorDescription(500, ErrorCode.INTERNAL_ERROR, _MESSAGE_BY_STATUS[500])


def _field_errors(extra: Any) -> tuple[FieldError, ...]:
    if not isinstance(extra, list):
        return ()
    errors = []
    for item in extra:
        if isinstance(item, dict):
            key = str(item.get("key") or item.get("source") or "body")
            errors.append(FieldError("body" if key == "data" else key, str(item.get("message", ""))))
    return tuple(errors)


class ErrorShape(Enum):
    """The error body of each surface, and its media type."""

    KIBO = "kibo"  # Kibo's ApiError, under /api/
    MAGENTO = "magento"  # Magento's {message, parameters}, under /rest/
    PROBLEM = "problem"  # RFC 9457 problem details: admin and standards routes

    @property
    def media_type(self) -> str:
        return "application/problem+json" if self is ErrorShape.PROBLEM else "application/json"


def error_shape_of(path: str) -> ErrorShape:
    if path.startswith("/api/"):
        return ErrorShape.KIBO
    if path.startswith("/rest/"):
        return ErrorShape.MAGENTO
    return ErrorShape.PROBLEM


def handle_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    error = describe(exc)
    if error.status == 429:
        metrics().refusals.labels(error.code).inc()
    request_id = request_id_of(request.scope)
    shape = error_shape_of(request.scope.get("path", ""))
    if shape is ErrorShape.KIBO:
        body = _kibo_body(error, request_id)
    elif shape is ErrorShape.MAGENTO:
        body = _magento_body(error)
    else:
        body = _problem_body(error, request_id)
    media_type = shape.media_type
    headers = dict(error.headers or {})
    if error.status == 401:
        headers.setdefault("WWW-Authenticate", 'Bearer realm="gatehouse"')
    headers["Cache-Control"] = "no-store"
    return Response(content=body, status_code=error.status, media_type=media_type, headers=headers)


def _problem_body(error: ErrorDescription, request_id: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": _TITLE_BY_STATUS.get(error.status, "Error"),
        "status": error.status,
        "detail": error.message,
        "code": error.code,
        "requestId": request_id,
    }
    if error.field_errors:
        body["errors"] = [{"field": f.field, "message": f.message} for f in error.field_errors]
    _add_oauth_fields(body, error)
    return body


def _kibo_body(error: ErrorDescription, request_id: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "message": error.message,
        "errorCode": error.code,
        "applicationName": APPLICATION_NAME,
        "items": [{"name": f.field, "errorCode": error.code, "message": f.message} for f in error.field_errors],
        "additionalErrorData": [{"name": "correlationId", "value": request_id}],
    }
    _add_oauth_fields(body, error)
    return body


def _magento_body(error: ErrorDescription) -> dict[str, Any]:
    """Magento keeps placeholders in the message: "%fieldName is ..." with {"fieldName": ...}, or "%1" with
    a list. Field errors whose names are all placeholders of the message are those values."""
    names = [f.field for f in error.field_errors]
    if names and all(f"%{name}" in error.message for name in names):
        if all(name.isdigit() for name in names):
            return {"message": error.message, "parameters": [f.message for f in error.field_errors]}
        return {"message": error.message, "parameters": {f.field: f.message for f in error.field_errors}}
    return {"message": error.message, "parameters": [f.message for f in error.field_errors]}


def _add_oauth_fields(body: dict[str, Any], error: ErrorDescription) -> None:
    if error.oauth_error:
        body["error"] = error.oauth_error
        body["error_description"] = error.message
