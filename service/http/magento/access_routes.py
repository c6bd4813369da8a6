"""Magento's token and password routes: admin and customer tokens, a customer's password change and reset."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, post, put

from service.http.common import Injected
from service.http.contract import MAGENTO_CUSTOMER_SECURITY, answers
from service.http.magento import guard as acl
from service.http.magento.conventions import Json, bare_string, magento_actor
from service.http.magento.guard import Magento
from service.http.magento.models import Credentials, PasswordChange, PasswordReset, PasswordResetRequest, convert
from service.magento.access import MagentoAccess


class AccessRoutes(Controller):
    """Not registered itself: `routes.MagentoController` and `MagentoStoreController` serve these routes."""

    @post(
        "/V1/integration/admin/token",
        status_code=200,
        summary="Admin token (a tenant admin user)",
        description="Answers the token as a bare JSON string. It is a Gatehouse admin token "
        "(GATEHOUSE_ADMIN_TOKEN_MINUTES); use it as `Authorization: Bearer`.",
        opt={"magento_acl": acl.ANONYMOUS},
        responses=answers(401, 429),
    )
    async def admin_token(
        self, request: Request[Any, Any, Any], magento_access: Injected[MagentoAccess], magento: Magento, data: Json
    ) -> Response[str]:
        body = convert(data, Credentials)
        token = await magento_access.admin_token(magento, magento_actor(request, magento), body.username, body.password)
        return bare_string(token)

    @post(
        "/V1/integration/customer/token",
        status_code=200,
        summary="Customer token",
        description="Answers the token as a bare JSON string: the access token of a new Gatehouse session in "
        "the store's website, living the tenant's accessTokenMinutes. Failures, lockouts and unknown users "
        "all answer the same 401.",
        opt={"magento_acl": acl.ANONYMOUS},
        responses=answers(401, 429),
    )
    async def customer_token(
        self, request: Request[Any, Any, Any], magento_access: Injected[MagentoAccess], magento: Magento, data: Json
    ) -> Response[str]:
        body = convert(data, Credentials)
        token = await magento_access.customer_token(
            magento, magento_actor(request, magento), body.username, body.password
        )
        return bare_string(token)

    @post(
        "/V1/integration/customer/revoke-customer-token",
        status_code=200,
        summary="End every session of the calling customer",
        security=MAGENTO_CUSTOMER_SECURITY,
        opt={"magento_acl": acl.SELF},
    )
    async def revoke_customer_token(
        self, request: Request[Any, Any, Any], magento_access: Injected[MagentoAccess], magento: Magento
    ) -> bool:
        await magento_access.revoke_customer_tokens(magento, magento_actor(request, magento))
        return True

    @put(
        "/V1/customers/me/password",
        summary="Change the calling customer's password",
        description="Every session of the customer ends, the calling token's included.",
        security=MAGENTO_CUSTOMER_SECURITY,
        opt={"magento_acl": acl.SELF},
    )
    async def change_my_password(
        self, request: Request[Any, Any, Any], magento_access: Injected[MagentoAccess], magento: Magento, data: Json
    ) -> bool:
        body = convert(data, PasswordChange)
        await magento_access.change_password(
            magento, magento_actor(request, magento), body.current_password, body.new_password
        )
        return True

    @put(
        "/V1/customers/password",
        summary="Mail a password-reset token",
        description="Answers true whether or not the address has an account.",
        opt={"magento_acl": acl.ANONYMOUS},
    )
    async def request_password_reset(
        self, request: Request[Any, Any, Any], magento_access: Injected[MagentoAccess], magento: Magento, data: Json
    ) -> bool:
        body = convert(data, PasswordResetRequest)
        await magento_access.request_password_reset(
            magento, magento_actor(request, magento), body.email, body.template, body.website_id
        )
        return True

    @post(
        "/V1/customers/resetPassword",
        status_code=200,
        summary="Set a new password with a reset token",
        opt={"magento_acl": acl.ANONYMOUS},
    )
    async def reset_password(
        self, request: Request[Any, Any, Any], magento_access: Injected[MagentoAccess], magento: Magento, data: Json
    ) -> bool:
        body = convert(data, PasswordReset)
        await magento_access.reset_password(
            magento, magento_actor(request, magento), body.email, body.reset_token, body.new_password
        )
        return True
