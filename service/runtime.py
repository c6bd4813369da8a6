"""The long-lived objects one worker process shares between requests."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg
from litestar import Request
from redis.asyncio import Redis

from service.accounts.service import Accounts
from service.applications.tickets import AppTickets
from service.sessions.logins import AuthTickets
from service.sessions.store import Sessions
from service.tokens.keys import KeyCache
from service.twofactor.service import TwoFactor
from service.platform.config import Settings
from service.platform.crypto import Passwords


@dataclass(slots=True)
class Runtime:
    settings: Settings
    pool: asyncpg.Pool
    redis: Redis
    passwords: Passwords
    app_tickets: AppTickets
    accounts: Accounts
    sessions: Sessions
    keys: KeyCache
    twofactor: TwoFactor
    auth: AuthTickets


def runtime_of(request: Request) -> Runtime:  # type: ignore[type-arg]
    return request.app.state.runtime
