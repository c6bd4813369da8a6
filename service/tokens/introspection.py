"""RFC 7662 introspection and RFC 7009 revocation of a tenant's customer tokens.

Both read Redis only. Anything not positively active — unknown, expired, revoked, another
tenant's, malformed — is exactly `{"active": false}`; a Redis outage is a 503, never `active: true`.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any
from urllib.parse import parse_qsl

from litestar import Request

from service.applications.tickets import AppPrincipal
from service.sessions.store import REFRESH_PREFIX
from service.applications.behaviors import Behavior
from service.errors import InvalidInput, Unauthenticated
from service.runtime import Runtime
from service.platform.crypto import token_digest
from service.tokens import jwt_tokens
from service.http.common import bearer_token, runtime

INACTIVE = {"active": False}
MAX_TOKEN_LENGTH = 8192


async def read_token_form(request: Request[Any, Any, Any]) -> dict[str, str]:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/x-www-form-urlencoded":
        raise InvalidInput("Send the token as application/x-www-form-urlencoded (RFC 7662 §2.1).",
                           code="UNSUPPORTED_MEDIA_TYPE", oauth_error="invalid_request")
    try:
        form = dict(parse_qsl((await request.body()).decode("utf-8"), keep_blank_values=True))
    except (UnicodeDecodeError, ValueError):
        raise InvalidInput("The form body is malformed.", code="INVALID_REQUEST", oauth_error="invalid_request") from None
    if not form.get("token") or len(form["token"]) > MAX_TOKEN_LENGTH:
        raise InvalidInput("The token parameter is required.", code="INVALID_REQUEST", oauth_error="invalid_request")
    return form


def _invalid_client() -> Unauthenticated:
    return Unauthenticated("Authenticate as an application of this tenant with the behavior tokens:introspect.",
                           code="INVALID_CLIENT", oauth_error="invalid_client")


async def authenticate_caller(request: Request[Any, Any, Any], tenant_id: int, form: dict[str, str]) -> AppPrincipal:
    rt = runtime(request)
    header = request.headers.get("authorization", "")
    if header.lower().startswith("basic "):
        try:
            client_id, _, secret = base64.b64decode(header[6:].strip(), validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise _invalid_client() from None
        principal = await rt.app_tickets.verify_client(client_id, secret)
    elif form.get("client_id") and form.get("client_secret"):
        principal = await rt.app_tickets.verify_client(form["client_id"], form["client_secret"])
    elif bearer_token(request):
        principal = await rt.app_tickets.authenticate(bearer_token(request) or "")
    else:
        raise _invalid_client()
    if principal.tenant_id != tenant_id or Behavior.TOKENS_INTROSPECT.value not in principal.behaviors:
        raise _invalid_client()
    return principal


async def introspect(rt: Runtime, tenant_id: int, token: str) -> dict[str, Any]:
    if token.startswith(REFRESH_PREFIX):
        session = await rt.sessions.session_for_refresh(token, current_only=True)
        if session is None or session["tid"] != tenant_id:
            return INACTIVE
        return _active(rt, session, "refresh_token", {
            "iat": session["created"] // 1000,
            "exp": await rt.sessions.expires_at_ms(session["sid"]) // 1000,
            "jti": token_digest(token)[:22],
        })
    if jwt_tokens.looks_like_jwt(token):
        claims = await jwt_tokens.verify(rt.keys, token, rt.settings.issuer_for)
        if claims is None or claims["tid"] != tenant_id:
            return INACTIVE
        session = await rt.sessions.session_if_current(claims["sid"], claims["atv"])
        if session is None:
            return INACTIVE
        return _active(rt, session, "access_token", {"iat": claims["iat"], "exp": claims["exp"], "jti": claims["jti"]})
    found = await rt.sessions.validate_access(token)
    if found is None or found[1]["tid"] != tenant_id:
        return INACTIVE
    record, session = found
    return _active(rt, session, "access_token", {"iat": record["iat"], "exp": record["exp"], "jti": record["jti"]})


def _active(rt: Runtime, session: dict[str, Any], token_type: str, times: dict[str, Any]) -> dict[str, Any]:
    issuer = rt.settings.issuer_for(session["tid"])
    return {
        "active": True,
        "token_type": token_type,
        "scope": "customer",
        "client_id": session["cid"],
        "username": session["user"],
        "sub": session["uid"],
        "aud": jwt_tokens.audience_for(issuer),
        "iss": issuer,
        "tid": session["tid"],
        "sid": session["sid"],
        "account_id": session["acct"],
        "customer_set": session["cs"],
        **times,
    }


async def revoke(rt: Runtime, tenant_id: int, token: str) -> None:
    if token.startswith(REFRESH_PREFIX):
        session = await rt.sessions.session_for_refresh(token)
        if session is not None and session["tid"] == tenant_id:
            await rt.sessions.end(session)
        return
    if jwt_tokens.looks_like_jwt(token):
        claims = await jwt_tokens.verify(rt.keys, token, rt.settings.issuer_for)
        if claims is not None and claims["tid"] == tenant_id:
            await rt.sessions.end_access_tokens(claims["sid"])
        return
    found = await rt.sessions.validate_access(token)
    if found is not None and found[1]["tid"] == tenant_id:
        await rt.sessions.end_access_tokens(found[1]["sid"])
