"""Kibo's contacts of a customer account: `/api/commerce/customer/accounts/{accountId}/contacts`."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, Response, delete, get, post, put
from litestar.params import JSONBody

from service.applications.behaviors import Behavior
from service.contacts.service import Contacts
from service.http.common import Id, Injected, PageSize, StartIndex
from service.http.kibo.accounts import KiboController, app_actor
from service.http.kibo.auth import CUSTOMER_SCOPE, scope_of
from service.http.kibo.conventions import kibo_response
from service.http.kibo.inputs import new_contact
from service.http.kibo.models import CustomerContact
from service.http.kibo.render import collection, contact_body


class ContactController(KiboController):
    path = "/api/commerce/customer/accounts/{account_id:int}/contacts"
    tags = ["Kibo: customer contacts"]
    opt = {CUSTOMER_SCOPE: True}

    @get("/", summary="List an account's contacts")
    async def get_contacts(
        self,
        request: Request[Any, Any, Any],
        contacts: Injected[Contacts],
        account_id: Id,
        start_index: StartIndex = 0,
        page_size: PageSize = 20,
    ) -> Response[Any]:
        customer = scope_of(request)
        customer.app.require(Behavior.ACCOUNTS_READ)
        items, total = await contacts.list(customer, account_id, start_index, page_size)
        return kibo_response(request, collection([contact_body(c) for c in items], start_index, page_size, total))

    @post("/", summary="Add a contact", description="Answers 201 (Kibo documents 200).")
    async def add_contact(
        self,
        request: Request[Any, Any, Any],
        contacts: Injected[Contacts],
        account_id: Id,
        data: JSONBody[CustomerContact],
    ) -> Response[CustomerContact]:
        customer = scope_of(request)
        customer.app.require(Behavior.ACCOUNTS_WRITE)
        added = await contacts.add(customer, app_actor(request, customer), account_id, [new_contact(data)])
        return kibo_response(request, contact_body(added[0]), 201)

    @put("/", summary="Add several contacts at once (Kibo's bulk add)")
    async def add_contacts(
        self,
        request: Request[Any, Any, Any],
        contacts: Injected[Contacts],
        account_id: Id,
        data: JSONBody[Annotated[list[CustomerContact], msgspec.Meta(max_length=100)]],
    ) -> Response[Any]:
        customer = scope_of(request)
        customer.app.require(Behavior.ACCOUNTS_WRITE)
        added = await contacts.add(customer, app_actor(request, customer), account_id, [new_contact(c) for c in data])
        items = [contact_body(c) for c in added]
        return kibo_response(request, collection(items, 0, len(items), len(items)))

    @get("/{contact_id:int}", summary="Get a contact")
    async def get_contact(
        self,
        request: Request[Any, Any, Any],
        contacts: Injected[Contacts],
        account_id: Id,
        contact_id: Id,
    ) -> Response[CustomerContact]:
        customer = scope_of(request)
        customer.app.require(Behavior.ACCOUNTS_READ)
        return kibo_response(request, contact_body(await contacts.get(customer, account_id, contact_id)))

    @put("/{contact_id:int}", summary="Replace a contact")
    async def update_contact(
        self,
        request: Request[Any, Any, Any],
        contacts: Injected[Contacts],
        account_id: Id,
        contact_id: Id,
        data: JSONBody[CustomerContact],
    ) -> Response[CustomerContact]:
        customer = scope_of(request)
        customer.app.require(Behavior.ACCOUNTS_WRITE)
        contact = await contacts.update(
            customer, app_actor(request, customer), account_id, contact_id, new_contact(data)
        )
        return kibo_response(request, contact_body(contact))

    @delete("/{contact_id:int}", summary="Delete a contact")
    async def delete_contact(
        self,
        request: Request[Any, Any, Any],
        contacts: Injected[Contacts],
        account_id: Id,
        contact_id: Id,
    ) -> None:
        customer = scope_of(request)
        customer.app.require(Behavior.ACCOUNTS_WRITE)
        await contacts.delete(customer, app_actor(request, customer), account_id, contact_id)
