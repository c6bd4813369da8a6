"""Shapes for applications (admin API) and application auth tickets (Kibo platform API)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec

from service.applications.behaviors import Behavior

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=r"\S")]
Behaviors = Annotated[list[Behavior], msgspec.Meta(max_length=len(Behavior))]


class ApplicationCreate(msgspec.Struct, rename="camel", forbid_unknown_fields=True, kw_only=True):
    name: Name
    behaviors: Behaviors = msgspec.field(default_factory=list)


class ApplicationUpdate(msgspec.Struct, rename="camel", forbid_unknown_fields=True, kw_only=True):
    name: Name | msgspec.UnsetType = msgspec.UNSET
    behaviors: Behaviors | msgspec.UnsetType = msgspec.UNSET
    is_enabled: bool | msgspec.UnsetType = msgspec.UNSET


class Application(msgspec.Struct, rename="camel", kw_only=True):
    id: int
    tenant_id: int
    client_id: str
    name: str
    behaviors: list[str]
    is_enabled: bool
    created_at: datetime
    updated_at: datetime


class ClientSecret(msgspec.Struct, frozen=True, kw_only=True):
    """What checking an application's client credentials needs; the secret only as its digest."""

    id: int
    tenant_id: int
    secret_hash: str
    is_enabled: bool
    generation: int  # bumped by disabling or rotating the secret: tickets of older generations stop working


class StoredApplicationState(msgspec.Struct, frozen=True, kw_only=True):
    tenant_id: int
    client_id: str
    behaviors: list[str]
    is_enabled: bool
    generation: int


class ApplicationWithSecret(Application, kw_only=True):
    client_secret: str  # returned once, at creation and at rotation


class BehaviorDescription(msgspec.Struct, rename="camel", kw_only=True):
    name: Behavior
    description: str


class AppAuthInfo(msgspec.Struct, rename="camel", forbid_unknown_fields=True, kw_only=True):
    """Kibo's legacy application sign-in body."""

    application_id: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    shared_secret: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class AuthTicketRequest(msgspec.Struct, rename="camel", forbid_unknown_fields=True, kw_only=True):
    refresh_token: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class AppAuthTicket(msgspec.Struct, rename="camel", kw_only=True):
    access_token: str
    access_token_expiration: str
    refresh_token: str
    refresh_token_expiration: str


class OAuthTokenResponse(msgspec.Struct, kw_only=True):
    access_token: str
    token_type: str
    expires_in: int
    refresh_token: str
    refresh_token_expires_in: int
