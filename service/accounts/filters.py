"""Kibo's list query language — `filter`, `sortBy`, `q` — compiled to parameterised SQL.

Field names map through a fixed table to column expressions and operators through a fixed table
to SQL operators; every value becomes a bind parameter. Nothing from the request string is ever
pasted into SQL, and a filter that does not parse is a 400 that says where.

    filter  := clause (("and" | "or") clause)*       "and" binds tighter than "or"
    clause  := field op value
    op      := eq | ne | gt | ge | lt | le | sw | cont
    value   := 'single quoted' | "double quoted" | bare-word
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from service.errors import ErrorCode, FieldError, InvalidInput


@dataclass(frozen=True, slots=True)
class Column:
    sql: str
    parse: Callable[[str], Any]
    text: bool = False


def _int(raw: str) -> int:
    value = int(raw)
    if not -(2**31) <= value < 2**31:
        raise ValueError
    return value


def _bool(raw: str) -> bool:
    if raw.lower() not in ("true", "false"):
        raise ValueError
    return raw.lower() == "true"


def _datetime(raw: str) -> datetime:
    value = datetime.fromisoformat(raw)
    if value.tzinfo is None:
        raise ValueError
    return value


def _lower(raw: str) -> str:
    return raw.strip().lower()


COLUMNS: dict[str, Column] = {
    "id": Column("a.id", _int),
    "emailaddress": Column("a.email_normalized", _lower, text=True),
    "username": Column("a.user_name_normalized", _lower, text=True),
    "firstname": Column("a.first_name", str, text=True),
    "lastname": Column("a.last_name", str, text=True),
    "externalid": Column("a.external_id", str, text=True),
    "islocked": Column("coalesce(l.is_locked, false)", _bool),
    "customersincedate": Column("a.customer_since_date", _datetime),
}
_COMPARISONS = {"eq": "=", "ne": "<>", "gt": ">", "ge": ">=", "lt": "<", "le": "<="}
_PATTERNS = {"sw": "{}%", "cont": "%{}%"}
_TOKEN = re.compile(r"\s*(?:'((?:[^']|'')*)'|\"((?:[^\"]|\"\")*)\"|([^\s'\"]+))")
MAX_CLAUSES = 20


@dataclass
class SqlFilter:
    """A WHERE fragment over aliases `a` (accounts) and `l` (logins), with its bind values."""

    first_parameter: int
    clauses: list[str] = field(default_factory=list)
    values: list[Any] = field(default_factory=list)

    def bind(self, value: Any) -> str:
        self.values.append(value)
        return f"${self.first_parameter + len(self.values) - 1}"

    @property
    def sql(self) -> str:
        return " AND ".join(f"({c})" for c in self.clauses) if self.clauses else "TRUE"


def _tokens(text: str) -> list[tuple[str, bool]]:
    """(token, was_quoted) pairs."""
    tokens, position = [], 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if not match or match.end() == position:
            if text[position:].strip() == "":
                break
            raise _bad_filter(f"cannot read the filter from position {position}")
        single, double, bare = match.groups()
        if bare is not None:
            tokens.append((bare, False))
        else:
            tokens.append(((single if single is not None else double.replace('""', '"')).replace("''", "'"), True))
        position = match.end()
    return tokens


def _bad_filter(problem: str) -> InvalidInput:
    return InvalidInput(
        f"The filter is invalid: {problem}.",
        code=ErrorCode.INVALID_FILTER,
        field_errors=(FieldError("filter", problem),),
    )


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def add_filter(target: SqlFilter, text: str) -> None:
    tokens = _tokens(text)
    if not tokens:
        return
    groups: list[list[str]] = [[]]
    index = 0
    while True:
        if index + 3 > len(tokens):
            raise _bad_filter("expected 'field operator value'")
        (name, _), (op, _), (raw, quoted) = tokens[index : index + 3]
        groups[-1].append(_clause(target, name, op.lower(), raw, quoted))
        index += 3
        if index == len(tokens):
            break
        connective = tokens[index][0].lower()
        if connective not in ("and", "or") or tokens[index][1]:
            raise _bad_filter(f"expected 'and' or 'or' after a clause, found '{tokens[index][0][:40]}'")
        if connective == "or":
            groups.append([])
        index += 1
    if sum(len(g) for g in groups) > MAX_CLAUSES:
        raise _bad_filter(f"at most {MAX_CLAUSES} clauses")
    target.clauses.append(" OR ".join("(" + " AND ".join(group) + ")" for group in groups))


def _clause(target: SqlFilter, name: str, op: str, raw: str, quoted: bool) -> str:
    column = COLUMNS.get(name.lower())
    if column is None:
        raise _bad_filter(f"unknown field '{name[:40]}'; filterable: {', '.join(sorted(COLUMNS))}")
    if op not in _COMPARISONS and op not in _PATTERNS:
        raise _bad_filter(f"unknown operator '{op[:20]}'; use eq, ne, gt, ge, lt, le, sw or cont")
    if op in _PATTERNS:
        if not column.text:
            raise _bad_filter(f"'{op}' works only on text fields")
        pattern = _PATTERNS[op].format(_escape_like(column.parse(raw)))
        return f"{column.sql} ILIKE {target.bind(pattern)}"
    if raw.lower() == "null" and not quoted and op in ("eq", "ne"):
        return f"{column.sql} IS {'NOT ' if op == 'ne' else ''}NULL"
    try:
        value = column.parse(raw)
    except ValueError:
        raise _bad_filter(f"'{raw[:40]}' is not a valid value for '{name}'") from None
    return f"{column.sql} {_COMPARISONS[op]} {target.bind(value)}"


def add_quick_search(target: SqlFilter, q: str) -> None:
    pattern = target.bind(f"%{_escape_like(q.strip())}%")
    target.clauses.append(
        " OR ".join(
            f"{column} ILIKE {pattern}"
            for column in (
                "a.email_normalized",
                "a.user_name_normalized",
                "a.first_name",
                "a.last_name",
                "a.external_id",
            )
        )
    )


_SORTABLE = {**{k: v.sql for k, v in COLUMNS.items() if k != "islocked"}}


def order_by(sort_by: str | None) -> str:
    if not sort_by or not sort_by.strip():
        return "a.id ASC"
    parts = sort_by.split()
    column = _SORTABLE.get(parts[0].lower())
    direction = parts[1].upper() if len(parts) == 2 else "ASC"
    if column is None or len(parts) > 2 or direction not in ("ASC", "DESC"):
        problem = f"use 'field asc|desc' with one of: {', '.join(sorted(_SORTABLE))}"
        raise InvalidInput(
            f"sortBy is invalid: {problem}.", code=ErrorCode.INVALID_SORT, field_errors=(FieldError("sortBy", problem),)
        )
    return f"{column} {direction} NULLS LAST, a.id {direction}"
