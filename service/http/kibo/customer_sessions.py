"""The calling customer's own sessions: list them, end one, end all."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, delete, get
from litestar.params import FromPath

from service.errors import ErrorCode, NotFound
from service.http.common import Injected
from service.http.contract import CUSTOMER_SECURITY
from service.http.kibo.accounts import KiboController
from service.http.kibo.auth import CUSTOMER_REQUIRED, shopper_actor, shopper_of
from service.http.kibo.render import kibo_datetime_ms
from service.sessions.revocations import SessionRevocations
from service.sessions.store import Sessions


class SessionInfo(msgspec.Struct, rename="camel", kw_only=True):
    id: str
    client_id: str
    fingerprint: str | None
    region: str | None
    created_on: str | None
    last_used_on: str | None
    current: bool


class CustomerSessionController(KiboController):
    path = "/api/commerce/customer/authtickets/sessions"
    tags = ["Kibo: customer auth tickets"]
    security = CUSTOMER_SECURITY
    opt = {CUSTOMER_REQUIRED: True}

    @get("/", summary="The calling customer's sessions")
    async def list_sessions(self, request: Request[Any, Any, Any], sessions: Injected[Sessions]) -> list[SessionInfo]:
        shopper = shopper_of(request)
        records = await sessions.list_for_account(shopper.tenant_id, shopper.account_id)
        return [
            SessionInfo(
                id=s.session_id,
                client_id=s.client_id,
                fingerprint=s.fingerprint,
                region=s.region,
                created_on=kibo_datetime_ms(s.created_ms),
                last_used_on=kibo_datetime_ms(s.last_used_ms),
                current=s.session_id == shopper.session_id,
            )
            for s in sorted(records, key=lambda s: s.created_ms)
        ]

    @delete("/{session_id:str}", summary="End one of the calling customer's sessions")
    async def end_session(
        self,
        request: Request[Any, Any, Any],
        sessions: Injected[Sessions],
        session_revocations: Injected[SessionRevocations],
        session_id: FromPath[str],
    ) -> None:
        shopper = shopper_of(request)
        session = await sessions.get(session_id)
        if session is None or session.tenant_id != shopper.tenant_id or session.account_id != shopper.account_id:
            raise NotFound("Session not found.", code=ErrorCode.SESSION_NOT_FOUND)
        await session_revocations.end(shopper_actor(request, shopper), session, "logout")

    @delete("/", summary="End all of the calling customer's sessions, this one included")
    async def end_all_sessions(
        self, request: Request[Any, Any, Any], session_revocations: Injected[SessionRevocations]
    ) -> None:
        shopper = shopper_of(request)
        await session_revocations.end_all(shopper_actor(request, shopper), shopper.tenant_id, shopper.account_id)
