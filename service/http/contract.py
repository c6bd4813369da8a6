"""What openapi.yaml promises about every answer, written once over the whole generated document.

Litestar documents each handler's success answer and, for `raises=[...]`, the statuses of the domain errors
it names, with a body Gatehouse never sends. Here every operation gets the statuses that any route of its
kind can answer (a body can be malformed or too large, a credential wrong, a row raced), each with the
error body its surface really sends (`service.http.errors`): problem+json on admin and standards routes,
Kibo's ApiError under /api/, Magento's {message, parameters} under /rest/. Operation ids are readable and
stable: the surface and the handler's name.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from http import HTTPStatus
from typing import TYPE_CHECKING

from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import (
    OpenAPI,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Reference,
    RequestBody,
    Schema,
    SecurityRequirement,
    SecurityScheme,
)
from litestar.types.internal_types import PathParameterDefinition

from service.http.errors import ErrorShape, error_shape_of

if TYPE_CHECKING:
    from litestar.handlers import HTTPRouteHandler
    from litestar.types import Method

SECURITY_SCHEMES: dict[str, SecurityScheme | Reference] = {
    "adminBearer": SecurityScheme(type="http", scheme="bearer", description="Admin token from POST /admin/v1/token."),
    "appBearer": SecurityScheme(
        type="http", scheme="bearer", description="Application token from the app auth-ticket routes."
    ),
    "appClaims": SecurityScheme(
        type="apiKey",
        name="x-vol-app-claims",
        security_scheme_in="header",
        description="The application token, as Kibo's legacy SDKs send it.",
    ),
    "customerClaims": SecurityScheme(
        type="apiKey",
        name="x-vol-user-claims",
        security_scheme_in="header",
        description="A customer's access token; on the second-step routes, the pending-login token.",
    ),
    "customerBearer": SecurityScheme(
        type="http",
        scheme="bearer",
        description="A customer's access token (a Kibo auth ticket's, or a Magento customer token).",
    ),
    "clientBasic": SecurityScheme(
        type="http",
        scheme="basic",
        description="An application's client id and secret (RFC 6749 §2.3.1); the form's client_id and "
        "client_secret are accepted instead.",
    ),
}
ADMIN_SECURITY: list[SecurityRequirement] = [{"adminBearer": []}]
# Kibo routes: the application's token; a customer token, when sent, is checked and acts for that customer.
APPLICATION_SECURITY: list[SecurityRequirement] = [
    {"appBearer": []},
    {"appClaims": []},
    {"appBearer": [], "customerClaims": []},
    {"appClaims": [], "customerClaims": []},
    {"customerBearer": []},
]
# Kibo routes about the calling customer: a customer token is required.
CUSTOMER_SECURITY: list[SecurityRequirement] = [
    {"appBearer": [], "customerClaims": []},
    {"appClaims": [], "customerClaims": []},
    {"customerBearer": []},
]
MAGENTO_CUSTOMER_SECURITY: list[SecurityRequirement] = [{"customerBearer": []}]
CLIENT_SECURITY: list[SecurityRequirement] = [{"clientBasic": []}]

TEXT = Schema(type=OpenAPIType.STRING)


def text_fields(*names: str, required: Sequence[str] | None = None) -> Schema:
    """An object of string fields, all of them required unless `required` says which: error items, token forms."""
    return Schema(
        type=OpenAPIType.OBJECT,
        required=list(names if required is None else required),
        properties=dict.fromkeys(names, TEXT),
    )


def _list_of(item: Schema) -> Schema:
    return Schema(type=OpenAPIType.ARRAY, items=item)


_OAUTH_FIELDS = {
    "error": Schema(type=OpenAPIType.STRING, description="RFC 6749 error name, on OAuth routes."),
    "error_description": TEXT,
}
_SCHEMAS = {
    ErrorShape.PROBLEM: (
        "Problem",
        Schema(
            type=OpenAPIType.OBJECT,
            description="RFC 9457 problem details; `code` is the stable machine-readable code.",
            required=["type", "title", "status", "detail", "code", "requestId"],
            properties={
                "type": TEXT,
                "title": TEXT,
                "status": Schema(type=OpenAPIType.INTEGER),
                "detail": TEXT,
                "code": TEXT,
                "requestId": TEXT,
                "errors": _list_of(text_fields("field", "message")),
                **_OAUTH_FIELDS,
            },
        ),
    ),
    ErrorShape.KIBO: (
        "KiboApiError",
        Schema(
            type=OpenAPIType.OBJECT,
            description="Kibo's ApiError; `errorCode` is the stable machine-readable code.",
            required=["message", "errorCode", "applicationName", "items", "additionalErrorData"],
            properties={
                "message": TEXT,
                "errorCode": TEXT,
                "applicationName": TEXT,
                "items": _list_of(text_fields("name", "errorCode", "message")),
                "additionalErrorData": _list_of(text_fields("name", "value")),
                **_OAUTH_FIELDS,
            },
        ),
    ),
    ErrorShape.MAGENTO: (
        "MagentoError",
        Schema(
            type=OpenAPIType.OBJECT,
            description="Magento's error: `message` with %placeholders, filled from `parameters`.",
            required=["message", "parameters"],
            properties={
                "message": TEXT,
                "parameters": Schema(
                    one_of=[
                        Schema(type=OpenAPIType.ARRAY, items=TEXT),
                        Schema(type=OpenAPIType.OBJECT, additional_properties=TEXT),
                    ]
                ),
            },
        ),
    ),
}
_SURFACE_NAMES = {"admin": "admin", "api": "kibo", "rest": "magento", "tenants": "oauth", "health": "health"}
_WRITES = {"post", "put", "patch", "delete"}


def documented_body(schema: Schema, *media_types: str) -> type[Operation]:
    """The operation class of a handler that reads its body itself (OAuth's JSON-or-form, RFC 7662's form):
    Litestar sees no `data` parameter there, so the body it reads is documented here."""

    @dataclass
    class OperationWithBody(Operation):
        def __post_init__(self) -> None:
            content = {media_type: OpenAPIMediaType(schema=schema) for media_type in media_types}
            self.request_body = RequestBody(content=content, required=True)

    return OperationWithBody


def answers(*statuses: int) -> dict[int, ResponseSpec]:
    """The error statuses a handler answers beyond those of every route of its kind (`_statuses`), as
    `responses=answers(401, 429)`; `document_answers` gives each the error body of the handler's surface."""
    return {status: ResponseSpec(data_container=None, description=HTTPStatus(status).phrase) for status in statuses}


def operation_id(
    route_handler: HTTPRouteHandler, http_method: Method, path_components: list[str | PathParameterDefinition]
) -> str:
    """`adminCreateTenant`, `kiboAddAccount`, `magentoCreateCustomerInStore` (the /rest/{store_code}/ twin)."""
    names = [c.name if isinstance(c, PathParameterDefinition) else c for c in path_components]
    surface = _SURFACE_NAMES.get(names[0] if names else "", "")
    words = [surface, *route_handler.handler_name.split("_")]
    if "store_code" in names:
        words.append("in_store")
    camel = "".join(w.title() for word in words for w in word.split("_"))
    return camel[0].lower() + camel[1:] if camel else route_handler.handler_name


def document_answers(openapi: OpenAPI) -> None:
    """Give every operation each status it can answer, with its surface's real error body."""
    schemas = openapi.components.schemas
    for name, schema in _SCHEMAS.values():
        schemas[name] = schema
    openapi.components.schemas = schemas
    for path, item in (openapi.paths or {}).items():
        for method in ("get", "put", "post", "delete", "patch"):
            operation: Operation | None = getattr(item, method)
            if operation is not None:
                _document(operation, path, method)


def _document(operation: Operation, path: str, method: str) -> None:
    shape = error_shape_of(path)
    responses = operation.responses if operation.responses is not None else {}
    for status in sorted(_statuses(operation, path, method) | {int(s) for s in responses if int(s) >= 400}):
        current = responses.get(str(status))
        if current is None or _is_litestar_default(current) or _is_bare(current):
            responses[str(status)] = _error_response(shape, status)
    operation.responses = dict(sorted(responses.items()))


def _statuses(operation: Operation, path: str, method: str) -> set[int]:
    """What any route like this one can answer, beyond what its handler names."""
    statuses = {503}  # PostgreSQL or Redis unreachable
    has_parameters = bool(operation.parameters) or operation.request_body is not None
    surface = error_shape_of(path)
    if has_parameters or surface is not ErrorShape.PROBLEM:
        statuses.add(400)  # a value out of range; on Kibo and Magento also a malformed x-vol-* header
    if operation.request_body is not None:
        statuses |= {400, 413, 415}
    if operation.security:
        statuses |= {401, 403}
    if "{" in path or surface is ErrorShape.MAGENTO:
        statuses.add(404)  # the thing the path names; on Magento also the tenant or store of the host
    if method in _WRITES:
        statuses.add(409)  # a change that raced another one (unique keys, deleted parents)
    return statuses


def _is_bare(response: OpenAPIResponse | Reference) -> bool:
    """A status named by `answers`: no body yet."""
    return isinstance(response, OpenAPIResponse) and not response.content


def _is_litestar_default(response: OpenAPIResponse | Reference) -> bool:
    """Litestar's own body for `raises` and validation errors, `{status_code, detail, extra}`, never sent."""
    if not isinstance(response, OpenAPIResponse) or not response.content:
        return False
    return any(_is_litestar_error_schema(media.schema) for media in response.content.values())


def _is_litestar_error_schema(schema: Schema | Reference | None) -> bool:
    if not isinstance(schema, Schema):
        return False
    if schema.one_of:  # several errors of one status
        return all(_is_litestar_error_schema(s) for s in schema.one_of)
    return schema.properties is not None and "status_code" in schema.properties


def _error_response(shape: ErrorShape, status: int) -> OpenAPIResponse:
    name = _SCHEMAS[shape][0]
    return OpenAPIResponse(
        description=HTTPStatus(status).phrase,
        content={shape.media_type: OpenAPIMediaType(schema=Reference(ref=f"#/components/schemas/{name}"))},
    )
