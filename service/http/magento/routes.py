"""Adobe Commerce (Magento 2) REST routes: every route at `/rest/V1/...` and `/rest/{store_code}/V1/...`.

Thin handlers: the guard has resolved tenant, store and caller and checked the route's Magento ACL
resource (`opt["magento_acl"]`); bodies are read in camelCase or snake_case; answers are Magento's,
200 for every success as Magento sends, errors as `{message, parameters}`.
"""

from __future__ import annotations

from typing import Annotated, Any, TypeVar, cast

import msgspec
from litestar import Controller, Request, Response, delete, get, post, put
from litestar.di import Provide
from litestar.params import Body, PathParameter

from service.audit import Actor
from service.errors import InvalidInput
from service.http.common import MAX_ID, Injected, actor
from service.http.magento import guard as acl
from service.http.magento import render
from service.http.magento.criteria import parse_search_criteria
from service.http.magento.guard import Magento, provide_context
from service.http.magento.inputs import customer_input
from service.http.magento.models import (
    Credentials, CustomerCreate, CustomerSave, EmailAvailability, PasswordChange, PasswordReset,
    PasswordResetRequest, convert,
)
from service.http.selection import parse_response_fields, trim
from service.magento.access import MagentoAccess
from service.magento.context import MagentoContext
from service.magento.customers import MagentoCustomers
from service.magento.errors import invalid_value
from service.magento.stores import MagentoStores

Json = Annotated[dict[str, Any], Body(description="A Magento request body; keys in camelCase or snake_case.")]
CustomerId = Annotated[int, PathParameter(ge=1, le=MAX_ID)]
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
ADMIN_SECURITY: list[dict[str, list[str]]] = [{"adminBearer": []}]
Rendered = TypeVar("Rendered", dict[str, Any], list[dict[str, Any]])


def _bare_string(token: str) -> Response[str]:
    """Magento answers tokens as a bare JSON string: `"abc..."`."""
    return Response(
        msgspec.json.encode(token), media_type="application/json", headers=NO_STORE  # type: ignore[arg-type]
    )


def _selected(request: Request[Any, Any, Any], body: Rendered) -> Rendered:
    """Magento's `fields` filter: `?fields=items[id,email,addresses[city]],total_count`."""
    fields = request.query_params.get("fields")
    if not fields:
        return body
    try:
        selection = parse_response_fields(fields.replace("[", "(").replace("]", ")"))
    except InvalidInput:
        raise invalid_value("fields", fields) from None
    return cast(Rendered, trim(body, selection))  # the same shape, with fewer keys


def _actor(request: Request[Any, Any, Any], magento: MagentoContext) -> Actor:
    return actor(request, magento.actor_name)


class _MagentoRoutes(Controller):
    """Every route once; the two controllers below serve them without and with a store code. The Magento router's
    guard has resolved tenant, store and caller."""

    tags = ["Magento REST"]
    dependencies = {"magento": Provide(provide_context, sync_to_thread=False)}

    # --- tokens ---------------------------------------------------------------------------------

    @post("/V1/integration/admin/token", status_code=200, summary="Admin token (a tenant admin user)",
          description="Answers the token as a bare JSON string. It is a Gatehouse admin token "
          "(GATEHOUSE_ADMIN_TOKEN_MINUTES); use it as `Authorization: Bearer`.", opt={"magento_acl": acl.ANONYMOUS})
    async def admin_token(self, request: Request[Any, Any, Any], magento_access: Injected[MagentoAccess],
                          magento: Magento, data: Json) -> Response[str]:
        body = convert(data, Credentials)
        token = await magento_access.admin_token(magento, _actor(request, magento), body.username, body.password)
        return _bare_string(token)

    @post("/V1/integration/customer/token", status_code=200, summary="Customer token",
          description="Answers the token as a bare JSON string: the access token of a new Gatehouse session in "
          "the store's website, living the tenant's accessTokenMinutes. Failures, lockouts and unknown users "
          "all answer the same 401.", opt={"magento_acl": acl.ANONYMOUS})
    async def customer_token(self, request: Request[Any, Any, Any], magento_access: Injected[MagentoAccess],
                             magento: Magento, data: Json) -> Response[str]:
        body = convert(data, Credentials)
        token = await magento_access.customer_token(magento, _actor(request, magento), body.username, body.password)
        return _bare_string(token)

    @post("/V1/integration/customer/revoke-customer-token", status_code=200,
          summary="End every session of the calling customer", opt={"magento_acl": acl.SELF})
    async def revoke_customer_token(self, magento_access: Injected[MagentoAccess], magento: Magento) -> bool:
        await magento_access.revoke_customer_tokens(magento)
        return True

    # --- stores ---------------------------------------------------------------------------------

    @get("/V1/store/storeViews", summary="Store views (the tenant's sites, and the admin store)",
         security=ADMIN_SECURITY, opt={"magento_acl": acl.STORES})
    async def store_views(self, request: Request[Any, Any, Any], magento_stores: Injected[MagentoStores],
                          magento: Magento) -> list[dict[str, Any]]:
        return _selected(request, render.store_views_body(await magento_stores.store_views(magento)))

    @get("/V1/store/websites", summary="Websites (the tenant's customer sets)", security=ADMIN_SECURITY,
         opt={"magento_acl": acl.STORES})
    async def websites(self, request: Request[Any, Any, Any], magento_stores: Injected[MagentoStores],
                       magento: Magento) -> list[dict[str, Any]]:
        return _selected(request, render.websites_body(await magento_stores.websites(magento)))

    @get("/V1/store/storeGroups", summary="Store groups (one per customer set)", security=ADMIN_SECURITY,
         opt={"magento_acl": acl.STORES})
    async def store_groups(self, request: Request[Any, Any, Any], magento_stores: Injected[MagentoStores],
                           magento: Magento) -> list[dict[str, Any]]:
        return _selected(request, render.store_groups_body(await magento_stores.store_groups(magento)))

    # --- customers ------------------------------------------------------------------------------

    @post("/V1/customers", status_code=200, summary="Create a customer",
          description="Anyone may register, as in Magento; with an admin token the body's group_id and "
          "disable_auto_group_change are honoured. The customer lands in store_id / website_id, else in the "
          "call's store.", opt={"magento_acl": acl.ANONYMOUS})
    async def create_customer(self, request: Request[Any, Any, Any], magento_customers: Injected[MagentoCustomers],
                              magento: Magento, data: Json) -> dict[str, Any]:
        body = convert(data, CustomerCreate)
        customer = await magento_customers.create_customer(
            magento, _actor(request, magento), customer_input(body.customer), body.password
        )
        return render.customer_body(customer)

    @get("/V1/customers/me", summary="The calling customer", opt={"magento_acl": acl.SELF})
    async def get_me(self, request: Request[Any, Any, Any], magento_customers: Injected[MagentoCustomers],
                     magento: Magento) -> dict[str, Any]:
        return _selected(request, render.customer_body(await magento_customers.current_customer(magento)))

    @put("/V1/customers/me", summary="Change the calling customer", opt={"magento_acl": acl.SELF})
    async def put_me(self, request: Request[Any, Any, Any], magento_customers: Injected[MagentoCustomers],
                     magento: Magento, data: Json) -> dict[str, Any]:
        body = convert(data, CustomerSave)
        assert magento.customer is not None
        customer = await magento_customers.update_customer(
            magento, _actor(request, magento), magento.customer.account_id, customer_input(body.customer)
        )
        return render.customer_body(customer)

    @put("/V1/customers/me/password", summary="Change the calling customer's password",
         description="Every session of the customer ends, the calling token's included.",
         opt={"magento_acl": acl.SELF})
    async def change_my_password(self, request: Request[Any, Any, Any], magento_access: Injected[MagentoAccess],
                                 magento: Magento, data: Json) -> bool:
        body = convert(data, PasswordChange)
        await magento_access.change_password(magento, _actor(request, magento), body.current_password,
                                             body.new_password)
        return True

    @get("/V1/customers/search", summary="Search customers with searchCriteria", security=ADMIN_SECURITY,
         description="searchCriteria[filter_groups][i][filters][j][field|value|condition_type], "
         "searchCriteria[sortOrders][k][field|direction], searchCriteria[pageSize] (at most 1000), "
         "searchCriteria[currentPage].", opt={"magento_acl": acl.CUSTOMER_READ})
    async def search_customers(self, request: Request[Any, Any, Any], magento_customers: Injected[MagentoCustomers],
                               magento: Magento) -> dict[str, Any]:
        criteria = parse_search_criteria(request.query_params.multi_items())
        return _selected(request, render.search_body(await magento_customers.search(magento, criteria), criteria))

    @post("/V1/customers/isEmailAvailable", status_code=200, summary="Is this email free in the website?",
          opt={"magento_acl": acl.ANONYMOUS})
    async def is_email_available(self, magento_customers: Injected[MagentoCustomers], magento: Magento,
                                 data: Json) -> bool:
        body = convert(data, EmailAvailability)
        return await magento_customers.email_available(magento, body.customer_email, body.website_id)

    @put("/V1/customers/password", summary="Mail a password-reset token",
         description="Answers true whether or not the address has an account.", opt={"magento_acl": acl.ANONYMOUS})
    async def request_password_reset(self, request: Request[Any, Any, Any], magento_access: Injected[MagentoAccess],
                                     magento: Magento, data: Json) -> bool:
        body = convert(data, PasswordResetRequest)
        await magento_access.request_password_reset(magento, _actor(request, magento), body.email, body.template,
                                                    body.website_id)
        return True

    @post("/V1/customers/resetPassword", status_code=200, summary="Set a new password with a reset token",
          opt={"magento_acl": acl.ANONYMOUS})
    async def reset_password(self, request: Request[Any, Any, Any], magento_access: Injected[MagentoAccess],
                             magento: Magento, data: Json) -> bool:
        body = convert(data, PasswordReset)
        await magento_access.reset_password(magento, _actor(request, magento), body.email, body.reset_token,
                                            body.new_password)
        return True

    @get("/V1/customers/{customer_id:int}", summary="A customer", security=ADMIN_SECURITY,
         opt={"magento_acl": acl.CUSTOMER_READ})
    async def get_customer(self, request: Request[Any, Any, Any], magento_customers: Injected[MagentoCustomers],
                           magento: Magento, customer_id: CustomerId) -> dict[str, Any]:
        return _selected(request, render.customer_body(await magento_customers.get_customer(magento, customer_id)))

    @put("/V1/customers/{customer_id:int}", summary="Change a customer", security=ADMIN_SECURITY,
         description="Fields left out keep their values; `addresses`, when sent, is the whole address list "
         "(addresses with an id are changed, without one added, left out deleted).",
         opt={"magento_acl": acl.CUSTOMER_MANAGE})
    async def put_customer(self, request: Request[Any, Any, Any], magento_customers: Injected[MagentoCustomers],
                           magento: Magento, customer_id: CustomerId, data: Json) -> dict[str, Any]:
        body = convert(data, CustomerSave)
        customer = await magento_customers.update_customer(
            magento, _actor(request, magento), customer_id, customer_input(body.customer)
        )
        return render.customer_body(customer)

    @delete("/V1/customers/{customer_id:int}", status_code=200, summary="Delete a customer",
            security=ADMIN_SECURITY, opt={"magento_acl": acl.CUSTOMER_MANAGE})
    async def delete_customer(self, request: Request[Any, Any, Any], magento_customers: Injected[MagentoCustomers],
                              magento: Magento, customer_id: CustomerId) -> bool:
        await magento_customers.delete_customer(magento, _actor(request, magento), customer_id)
        return True


class MagentoController(_MagentoRoutes):
    path = "/rest"


class MagentoStoreController(_MagentoRoutes):
    """`{store_code}`: a site code of the tenant, `default` for its default site, `all` for the admin store."""

    path = "/rest/{store_code:str}"
