"""The application behind a Kibo call, as the surface's authentication found it."""

from __future__ import annotations

from dataclasses import dataclass

from service.applications.tickets import AppPrincipal


@dataclass(frozen=True, slots=True)
class AppContext:
    principal: AppPrincipal
    site_id: int | None  # from x-vol-site, checked to be a site of the tenant; None: the default site
