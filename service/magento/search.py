"""Magento's search criteria for customers (GET /V1/customers/search), compiled to parameterised SQL.

Filters within a group are OR'ed, groups are AND'ed. Field names go through a fixed table to column
names and condition types through a fixed table to SQL fragments; every value is a bind parameter.
Nothing a caller sends is ever pasted into SQL.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from service.accounts.filters import SqlFilter
from service.magento.errors import invalid_value, required

MAX_PAGE_SIZE = 1000  # PyMagento pages by 1000; without pageSize Magento returns everything, we return this many


def _int(raw: str) -> int:
    value = int(raw.strip())
    if not -(2**31) <= value < 2**31:
        raise ValueError
    return value


def _time(raw: str) -> datetime:
    value = datetime.fromisoformat(raw.strip())
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _date(raw: str) -> date:
    return date.fromisoformat(raw.strip()[:10])


@dataclass(frozen=True, slots=True)
class Column:
    sql: str
    parse: Callable[[str], Any]
    array_type: str  # the SQL array type for `in` / `nin`

    @property
    def text(self) -> bool:
        return self.parse is str


FIELDS: dict[str, Column] = {
    "id": Column("c.id", _int, "int[]"),
    "entity_id": Column("c.id", _int, "int[]"),
    "email": Column("c.email", str, "text[]"),
    "firstname": Column("c.firstname", str, "text[]"),
    "lastname": Column("c.lastname", str, "text[]"),
    "middlename": Column("c.middlename", str, "text[]"),
    "prefix": Column("c.prefix", str, "text[]"),
    "suffix": Column("c.suffix", str, "text[]"),
    "taxvat": Column("c.taxvat", str, "text[]"),
    "created_in": Column("c.created_in", str, "text[]"),
    "website_id": Column("c.website_id", _int, "int[]"),
    "store_id": Column("c.store_id", _int, "int[]"),
    "group_id": Column("c.group_id", _int, "int[]"),
    "gender": Column("c.gender", _int, "int[]"),
    "disable_auto_group_change": Column("c.disable_auto_group_change", _int, "int[]"),
    "default_billing": Column("c.default_billing", _int, "int[]"),
    "default_shipping": Column("c.default_shipping", _int, "int[]"),
    "created_at": Column("c.created_at", _time, "timestamptz[]"),
    "updated_at": Column("c.updated_at", _time, "timestamptz[]"),
    "dob": Column("c.dob", _date, "date[]"),
}
_COMPARISONS = {
    "eq": "=",
    "neq": "<>",
    "gt": ">",
    "gteq": ">=",
    "moreq": ">=",
    "from": ">=",
    "lt": "<",
    "lteq": "<=",
    "to": "<=",
}
CONDITION_TYPES = frozenset({*_COMPARISONS, "like", "nlike", "in", "nin", "null", "notnull", "finset", "nfinset"})


@dataclass(frozen=True, slots=True)
class Filter:
    field: str | None = None  # a name of FIELDS, checked when compiled
    value: str | None = None
    condition_type: str | None = None  # one of CONDITION_TYPES (checked when compiled); None: eq


@dataclass(frozen=True, slots=True)
class SearchCriteria:
    filter_groups: tuple[tuple[Filter, ...], ...] = ()  # filters in a group are OR'ed, groups AND'ed
    sort_orders: tuple[tuple[str, str], ...] = ()  # (field, ASC|DESC)
    page_size: int | None = None  # None: MAX_PAGE_SIZE
    current_page: int | None = None  # 1-based

    @property
    def limit(self) -> int:
        return self.page_size or MAX_PAGE_SIZE

    @property
    def offset(self) -> int:
        return ((self.current_page or 1) - 1) * self.limit


def _column(name: str | None) -> Column:
    if not name:
        raise required("field")
    column = FIELDS.get(name)
    if column is None:
        raise invalid_value("field", name)
    return column


def _value(column: Column, f: Filter, raw: str) -> Any:
    try:
        return column.parse(raw)
    except ValueError:
        raise invalid_value(f.field or "value", raw) from None


def _clause(where: SqlFilter, f: Filter) -> str:
    column = _column(f.field)
    condition = (f.condition_type or "eq").lower()
    if condition not in CONDITION_TYPES:
        raise invalid_value("condition_type", condition)
    if condition in ("null", "notnull"):
        return f"{column.sql} IS {'NOT ' if condition == 'notnull' else ''}NULL"
    if f.value is None:
        raise required("value")
    if condition in ("like", "nlike"):  # the caller writes the % wildcards, as in Magento
        return f"{column.sql}::text {'NOT ' if condition == 'nlike' else ''}ILIKE {where.bind(f.value)}"
    if condition in ("finset", "nfinset"):
        test = f"{where.bind(f.value)} = ANY(string_to_array({column.sql}::text, ','))"
        return test if condition == "finset" else f"NOT coalesce({test}, false)"
    if condition in ("in", "nin"):
        values = [_value(column, f, part) for part in f.value.split(",")]
        target = f"lower({column.sql})" if column.text else column.sql
        if column.text:
            values = [v.lower() for v in values]
        test = f"{target} = ANY({where.bind(values)}::{column.array_type})"
        return test if condition == "in" else f"NOT coalesce({test}, false)"
    value = _value(column, f, f.value)
    if column.text and condition in ("eq", "neq"):  # email and names compare case-insensitively, as in MySQL
        return f"lower({column.sql}) {_COMPARISONS[condition]} lower({where.bind(value)})"
    return f"{column.sql} {_COMPARISONS[condition]} {where.bind(value)}"


def compile_criteria(criteria: SearchCriteria, first_parameter: int) -> tuple[str, list[Any], str]:
    """(WHERE fragment over alias `c`, its bind values, ORDER BY fragment)."""
    where = SqlFilter(first_parameter=first_parameter)
    for group in criteria.filter_groups:
        where.clauses.append(" OR ".join(f"({_clause(where, f)})" for f in group))
    order = []
    for name, direction in criteria.sort_orders:
        column = _column(name)
        if direction.upper() not in ("ASC", "DESC"):
            raise invalid_value("direction", direction)
        order.append(f"{column.sql} {direction.upper()} NULLS LAST")
    order.append("c.id ASC")
    return where.sql, where.values, ", ".join(order)
