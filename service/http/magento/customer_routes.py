"""Magento's customer routes: create, read, search, change and delete customers."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, delete, get, post, put

from service.http.common import Injected
from service.http.contract import ADMIN_SECURITY, MAGENTO_CUSTOMER_SECURITY
from service.http.magento import guard as acl
from service.http.magento import render
from service.http.magento.conventions import CustomerId, Json, magento_actor, selected
from service.http.magento.criteria import parse_search_criteria
from service.http.magento.guard import Magento
from service.http.magento.inputs import customer_input
from service.http.magento.models import CustomerCreate, CustomerSave, EmailAvailability, convert
from service.magento.customers import MagentoCustomers


class CustomerRoutes(Controller):
    """Not registered itself: `routes.MagentoController` and `MagentoStoreController` serve these routes."""

    @post(
        "/V1/customers",
        status_code=200,
        summary="Create a customer",
        description="Anyone may register, as in Magento; with an admin token the body's group_id and "
        "disable_auto_group_change are honoured. The customer lands in store_id / website_id, else in the "
        "call's store.",
        opt={"magento_acl": acl.ANONYMOUS},
    )
    async def create_customer(
        self,
        request: Request[Any, Any, Any],
        magento_customers: Injected[MagentoCustomers],
        magento: Magento,
        data: Json,
    ) -> dict[str, Any]:
        body = convert(data, CustomerCreate)
        customer = await magento_customers.create_customer(
            magento, magento_actor(request, magento), customer_input(body.customer), body.password
        )
        return render.customer_body(customer)

    @get(
        "/V1/customers/me",
        summary="The calling customer",
        security=MAGENTO_CUSTOMER_SECURITY,
        opt={"magento_acl": acl.SELF},
    )
    async def get_me(
        self, request: Request[Any, Any, Any], magento_customers: Injected[MagentoCustomers], magento: Magento
    ) -> dict[str, Any]:
        return selected(request, render.customer_body(await magento_customers.current_customer(magento)))

    @put(
        "/V1/customers/me",
        summary="Change the calling customer",
        security=MAGENTO_CUSTOMER_SECURITY,
        opt={"magento_acl": acl.SELF},
    )
    async def put_me(
        self,
        request: Request[Any, Any, Any],
        magento_customers: Injected[MagentoCustomers],
        magento: Magento,
        data: Json,
    ) -> dict[str, Any]:
        body = convert(data, CustomerSave)
        customer = await magento_customers.update_customer(
            magento, magento_actor(request, magento), magento.calling_customer.account_id, customer_input(body.customer)
        )
        return render.customer_body(customer)

    @get(
        "/V1/customers/search",
        summary="Search customers with searchCriteria",
        security=ADMIN_SECURITY,
        description="searchCriteria[filter_groups][i][filters][j][field|value|condition_type], "
        "searchCriteria[sortOrders][k][field|direction], searchCriteria[pageSize] (at most 1000), "
        "searchCriteria[currentPage].",
        opt={"magento_acl": acl.CUSTOMER_READ},
    )
    async def search_customers(
        self, request: Request[Any, Any, Any], magento_customers: Injected[MagentoCustomers], magento: Magento
    ) -> dict[str, Any]:
        criteria = parse_search_criteria(request.query_params.multi_items())
        return selected(request, render.search_body(await magento_customers.search(magento, criteria), criteria))

    @post(
        "/V1/customers/isEmailAvailable",
        status_code=200,
        summary="Is this email free in the website?",
        opt={"magento_acl": acl.ANONYMOUS},
    )
    async def is_email_available(
        self, magento_customers: Injected[MagentoCustomers], magento: Magento, data: Json
    ) -> bool:
        body = convert(data, EmailAvailability)
        return await magento_customers.email_available(magento, body.customer_email, body.website_id)

    @get(
        "/V1/customers/{customer_id:int}",
        summary="A customer",
        security=ADMIN_SECURITY,
        opt={"magento_acl": acl.CUSTOMER_READ},
    )
    async def get_customer(
        self,
        request: Request[Any, Any, Any],
        magento_customers: Injected[MagentoCustomers],
        magento: Magento,
        customer_id: CustomerId,
    ) -> dict[str, Any]:
        return selected(request, render.customer_body(await magento_customers.get_customer(magento, customer_id)))

    @put(
        "/V1/customers/{customer_id:int}",
        summary="Change a customer",
        security=ADMIN_SECURITY,
        description="Fields left out keep their values; `addresses`, when sent, is the whole address list "
        "(addresses with an id are changed, without one added, left out deleted).",
        opt={"magento_acl": acl.CUSTOMER_MANAGE},
    )
    async def put_customer(
        self,
        request: Request[Any, Any, Any],
        magento_customers: Injected[MagentoCustomers],
        magento: Magento,
        customer_id: CustomerId,
        data: Json,
    ) -> dict[str, Any]:
        body = convert(data, CustomerSave)
        customer = await magento_customers.update_customer(
            magento, magento_actor(request, magento), customer_id, customer_input(body.customer)
        )
        return render.customer_body(customer)

    @delete(
        "/V1/customers/{customer_id:int}",
        status_code=200,
        summary="Delete a customer",
        security=ADMIN_SECURITY,
        opt={"magento_acl": acl.CUSTOMER_MANAGE},
    )
    async def delete_customer(
        self,
        request: Request[Any, Any, Any],
        magento_customers: Injected[MagentoCustomers],
        magento: Magento,
        customer_id: CustomerId,
    ) -> bool:
        await magento_customers.delete_customer(magento, magento_actor(request, magento), customer_id)
        return True
