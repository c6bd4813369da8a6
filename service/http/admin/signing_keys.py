"""Admin API: rotation of a tenant's JWT signing key."""

from __future__ import annotations

import msgspec
from litestar import post

from service.http.admin.auth import Admin, AdminController
from service.http.common import Id, Injected
from service.tokens.keys import KeyCache


class RotatedKey(msgspec.Struct, rename="camel", kw_only=True):
    kid: str
    tenant_id: int


class SigningKeyController(AdminController):
    path = "/admin/v1/tenants/{tenant_id:int}/signing-keys"
    tags = ["Admin: tenants"]

    @post(
        "/rotate",
        status_code=201,
        summary="Rotate the tenant's JWT signing key",
        description="The current key becomes the previous one and stays in the JWKS, so tokens it signed keep "
        "verifying until they expire; the key before it is retired. The new key uses the tenant's "
        "`signingAlgorithm` setting.",
    )
    async def rotate_signing_key(self, keys: Injected[KeyCache], admin: Admin, tenant_id: Id) -> RotatedKey:
        admin.require_tenant(tenant_id, write=True)
        return RotatedKey(kid=await keys.rotate(tenant_id), tenant_id=tenant_id)
