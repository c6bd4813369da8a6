"""Per-tenant standards endpoints for other services: JWKS, discovery, introspection, revocation."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, Response, get, post

from service.http.common import Id, Injected, actor
from service.http.contract import CLIENT_SECURITY, documented_body, text_fields
from service.http.standards.caller import caller_credentials, read_token_form
from service.platform.config import Settings
from service.tokens.introspection import TokenInfo, TokenIntrospection
from service.tokens.keys import KeyCache

ALGORITHMS = ["ES256", "RS256", "EdDSA"]
# RFC 7662 §2.1 and RFC 7009 §2.1, with the client's credentials in the form (client_secret_post) allowed.
TOKEN_FORM = documented_body(
    text_fields("token", "token_type_hint", "client_id", "client_secret", required=["token"]),
    "application/x-www-form-urlencoded",
)


class Jwks(msgspec.Struct):
    keys: list[dict[str, Any]]


class TenantStandardsController(Controller):
    path = "/tenants/{tenant_id:int}"
    tags = ["Standards: tokens"]

    @get(
        "/.well-known/jwks.json", summary="Public signing keys: the current one and, after a rotation, the previous one"
    )
    async def jwks(self, keys: Injected[KeyCache], tenant_id: Id) -> Response[Jwks]:
        tenant_keys = await keys.keys(tenant_id)
        return Response(Jwks(keys=tenant_keys.public_jwks), headers={"Cache-Control": "public, max-age=300"})

    @get("/.well-known/openid-configuration", summary="Discovery document (OpenID Connect Discovery / RFC 8414)")
    async def openid_configuration(
        self, keys: Injected[KeyCache], settings: Injected[Settings], tenant_id: Id
    ) -> Response[dict[str, Any]]:
        await keys.keys(tenant_id)  # 404 for tenants that do not exist
        issuer = settings.issuer_for(tenant_id)
        methods = ["client_secret_basic", "client_secret_post"]
        document = {
            "issuer": issuer,
            "jwks_uri": f"{issuer}/.well-known/jwks.json",
            "introspection_endpoint": f"{issuer}/oauth2/introspect",
            "revocation_endpoint": f"{issuer}/oauth2/revoke",
            "introspection_endpoint_auth_methods_supported": methods,
            "revocation_endpoint_auth_methods_supported": methods,
            "response_types_supported": [],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ALGORITHMS,
            "access_token_signing_alg_values_supported": ALGORITHMS,
            "access_token_audience": f"{issuer}/api",
        }
        return Response(document, headers={"Cache-Control": "public, max-age=300"})

    @post(
        "/oauth2/introspect",
        status_code=200,
        summary="RFC 7662 token introspection",
        security=CLIENT_SECURITY,
        operation_class=TOKEN_FORM,
        description="The caller is an application of this tenant with the behavior `tokens:introspect`, "
        "authenticated by HTTP Basic client credentials, client_id/client_secret in the form, or its app token "
        "as bearer. Opaque access, JWT access and refresh tokens are recognised; anything else is "
        '`{"active": false}`.',
    )
    async def introspect(
        self,
        request: Request[Any, Any, Any],
        introspection: Injected[TokenIntrospection],
        tenant_id: Id,
    ) -> Response[TokenInfo]:
        form = await read_token_form(request)
        await introspection.authorize(tenant_id, caller_credentials(request, form))
        body = await introspection.introspect(tenant_id, form.get("token", ""))
        return Response(body, headers={"Cache-Control": "no-store"})

    @post(
        "/oauth2/revoke",
        status_code=200,
        summary="RFC 7009 token revocation",
        security=CLIENT_SECURITY,
        operation_class=TOKEN_FORM,
        description="A refresh token ends its session; an access token ends that session's access tokens. "
        "Unknown tokens answer 200 too.",
    )
    async def revoke(
        self,
        request: Request[Any, Any, Any],
        introspection: Injected[TokenIntrospection],
        tenant_id: Id,
    ) -> Response[None]:
        form = await read_token_form(request)
        caller = await introspection.authorize(tenant_id, caller_credentials(request, form))
        await introspection.revoke(actor(request, caller.actor_name), tenant_id, form.get("token", ""))
        return Response(None, status_code=200, headers={"Cache-Control": "no-store"})
