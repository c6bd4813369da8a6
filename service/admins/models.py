"""Admin API shapes for admin tokens and admin users."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

import msgspec

Username = Annotated[str, msgspec.Meta(min_length=1, max_length=100, pattern=r"^[^\s]+$")]
Password = Annotated[str, msgspec.Meta(min_length=1, max_length=1024)]
NewPassword = Annotated[str, msgspec.Meta(min_length=12, max_length=1024, description="At least 12 characters.")]


class TenantRole(StrEnum):
    ADMIN = "admin"
    VIEWER = "viewer"


class TokenRequest(msgspec.Struct, rename="camel", forbid_unknown_fields=True, kw_only=True):
    username: Password
    password: Password
    tenant_id: Annotated[int, msgspec.Meta(ge=1, le=2**31 - 1)] | None = None


class AdminToken(msgspec.Struct, rename="camel", kw_only=True):
    access_token: str
    token_type: str
    expires_in: int
    expires_at: datetime


class AdminUserCreate(msgspec.Struct, rename="camel", forbid_unknown_fields=True, kw_only=True):
    username: Username
    password: NewPassword
    role: TenantRole = TenantRole.ADMIN


class AdminUserUpdate(msgspec.Struct, rename="camel", forbid_unknown_fields=True, kw_only=True):
    password: NewPassword | msgspec.UnsetType = msgspec.UNSET
    role: TenantRole | msgspec.UnsetType = msgspec.UNSET
    is_enabled: bool | msgspec.UnsetType = msgspec.UNSET


class AdminUser(msgspec.Struct, rename="camel", kw_only=True):
    id: int
    tenant_id: int | None
    username: str
    role: str
    is_enabled: bool
    created_at: datetime
    updated_at: datetime


class AdminCredentials(msgspec.Struct, frozen=True, kw_only=True):
    """What an admin sign-in checks; the hash never leaves the admins capability."""

    id: int
    tenant_id: int | None
    role: str
    password_hash: str
    is_enabled: bool
