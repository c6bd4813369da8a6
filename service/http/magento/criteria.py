"""Magento's searchCriteria query parameters, read into the capability's SearchCriteria.

searchCriteria[filter_groups][i][filters][j][field|value|condition_type]
searchCriteria[sortOrders][k][field|direction]
searchCriteria[pageSize], searchCriteria[currentPage]   (camelCase or snake_case, as Magento reads them)
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from service.magento.errors import invalid_request, invalid_value, required
from service.magento.search import MAX_PAGE_SIZE, Filter, SearchCriteria
from service.platform.db import MAX_ID

MAX_FILTERS = 50
MAX_SORT_ORDERS = 5
MAX_INDEX = 99

_FILTER_KEY = re.compile(
    r"^searchCriteria\[(?:filter_groups|filterGroups)\]\[(\d+)\]\[filters\]\[(\d+)\]"
    r"\[(field|value|condition_type|conditionType)\]$"
)
_SORT_KEY = re.compile(r"^searchCriteria\[(?:sort_orders|sortOrders)\]\[(\d+)\]\[(field|direction)\]$")
_PAGE_SIZE_KEYS = ("searchCriteria[pageSize]", "searchCriteria[page_size]")
_CURRENT_PAGE_KEYS = ("searchCriteria[currentPage]", "searchCriteria[current_page]")


def _index(raw: str) -> int:
    index = int(raw)
    if index > MAX_INDEX:
        raise invalid_request(f"searchCriteria indexes go up to {MAX_INDEX}")
    return index


def _positive(name: str, raw: str, maximum: int) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise invalid_value(name, raw) from None
    if not 1 <= value <= maximum:
        raise invalid_value(name, raw)
    return value


@dataclass
class _Parameters:
    """searchCriteria as read so far, in the order the query string lists its parameters."""

    filters: dict[int, dict[int, dict[str, str]]] = field(default_factory=dict)  # group → position → part → value
    sorts: dict[int, dict[str, str]] = field(default_factory=dict)  # position → part → value
    page_size: int | None = None
    current_page: int | None = None

    def read(self, name: str, value: str) -> None:
        if match := _FILTER_KEY.match(name):
            group, position, part = _index(match[1]), _index(match[2]), match[3]
            parts = self.filters.setdefault(group, {}).setdefault(position, {})
            parts["condition_type" if part == "conditionType" else part] = value
        elif match := _SORT_KEY.match(name):
            self.sorts.setdefault(_index(match[1]), {})[match[2]] = value
        elif name in _PAGE_SIZE_KEYS:
            self.page_size = _positive("pageSize", value, MAX_PAGE_SIZE)
        elif name in _CURRENT_PAGE_KEYS:
            self.current_page = _positive("currentPage", value, MAX_ID)
        elif name != "searchCriteria":
            raise invalid_request(f"unknown search parameter {name[:80]}")


def parse_search_criteria(params: Iterable[tuple[str, str]]) -> SearchCriteria:
    """searchCriteria from the query string's (name, value) pairs; other parameters are left alone."""
    parameters = _Parameters()
    seen = False
    for name, value in params:
        if name.startswith("searchCriteria"):
            seen = True
            parameters.read(name, value)
    if not seen:
        raise required("searchCriteria")
    filters = parameters.filters
    groups = tuple(tuple(Filter(**filters[g][f]) for f in sorted(filters[g])) for g in sorted(filters))
    if sum(len(group) for group in groups) > MAX_FILTERS:
        raise invalid_request(f"at most {MAX_FILTERS} filters")
    if len(parameters.sorts) > MAX_SORT_ORDERS:
        raise invalid_request(f"at most {MAX_SORT_ORDERS} sort orders")
    sort_orders = tuple((s.get("field", ""), s.get("direction", "ASC")) for _, s in sorted(parameters.sorts.items()))
    return SearchCriteria(
        filter_groups=groups,
        sort_orders=sort_orders,
        page_size=parameters.page_size,
        current_page=parameters.current_page,
    )
