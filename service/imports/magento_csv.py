"""Magento 2's own customer export files as import lines: the Customers Main File and the Customer Addresses file
that System > Data Transfer > Export writes (Adobe's "Customer data attributes reference" lists their columns).

One line per row of the customers file, with the rows of the addresses file that name its email and website.
The addresses are indexed in a temporary SQLite file first, so neither file is ever held in memory. Values are
carried over as they are (numbers and dates made JSON's); whatever is wrong with one is reported by the import's
checks, against the line's field. Columns Gatehouse has no place for (rp_token, lock_expires, failures_num,
website_id and store_id, which are Magento's own ids, custom attributes) are left out.
"""

from __future__ import annotations

import csv
import json
import re
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

# Magento's default website is "base"; Gatehouse's default customer set is "default".
DEFAULT_WEBSITE_MAP = {"base": "default"}
_ADMIN_STORE = "admin"  # Magento's admin store view: a customer made in the back office has no site
_TIMESTAMP = re.compile(r"(\d{4}-\d\d-\d\d)[ T](\d\d:\d\d:\d\d)")
_GENDERS = {"1": 1, "male": 1, "2": 2, "female": 2, "3": 3, "not specified": 3}
_PLAIN_PASSWORD = "(a plain-text password is not imported; export password_hash instead)"


def _value(row: dict[str, str], column: str) -> str | None:
    value = (row.get(column) or "").strip()
    return value or None


def _number(value: str | None) -> int | str | None:
    return int(value) if value is not None and value.isdigit() else value


def _timestamp(value: str | None) -> str | None:
    """Magento writes UTC times as "2020-07-22 23:12:47"."""
    match = _TIMESTAMP.fullmatch(value or "")
    return f"{match.group(1)}T{match.group(2)}Z" if match else value


def _compact(values: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in values.items() if value is not None}


def customer_line(row: dict[str, str], website_map: dict[str, str], contacts: list[Any] | None) -> dict[str, Any]:
    """A Customers Main File row as an import line (before JSON)."""
    website = _value(row, "_website") or ""
    store = _value(row, "_store")
    gender = _value(row, "gender")
    line = {
        "emailAddress": _value(row, "email"),
        "customerSet": website_map.get(website, website) or None,
        "firstName": _value(row, "firstname"),
        "lastName": _value(row, "lastname"),
        "taxId": _value(row, "taxvat"),
        "customerSinceDate": _timestamp(_value(row, "created_at")),
        "isActive": False if _value(row, "confirmation") else None,  # not confirmed: Magento refuses its login too
        "passwordHash": _value(row, "password_hash"),
        "password": _PLAIN_PASSWORD if _value(row, "password") else None,  # fails the line, without its value
        "contacts": contacts,
        "magento": _compact(
            {
                "storeCode": None if store == _ADMIN_STORE else store,
                "createdIn": _value(row, "created_in"),
                "groupId": _number(_value(row, "group_id")),
                "disableAutoGroupChange": _number(_value(row, "disable_auto_group_change")),
                "prefix": _value(row, "prefix"),
                "middlename": _value(row, "middlename"),
                "suffix": _value(row, "suffix"),
                "dob": (_value(row, "dob") or "")[:10] or None,
                "gender": _GENDERS.get(gender.lower(), gender) if gender else None,
            }
        ),
    }
    return _compact(line)


def address_contact(row: dict[str, str]) -> dict[str, Any]:
    """A Customer Addresses row as a contact of an import line: its street lines are address1 to address4 (a
    fifth and later line join the fourth), its region's name stands for the state, its default markers are the
    contact's primary Billing and Shipping types."""
    street = (row.get("street") or "").replace("\r\n", "\n").split("\n")
    lines = [*street[:3], " ".join(street[3:])] if len(street) > 4 else street
    types = [
        {"name": name, "isPrimary": True}
        for name, column in (("Billing", "_address_default_billing_"), ("Shipping", "_address_default_shipping_"))
        if _value(row, column) == "1"
    ]
    contact = {
        "firstName": _value(row, "firstname"),
        "middleNameOrInitial": _value(row, "middlename"),
        "lastNameOrSurname": _value(row, "lastname"),
        "companyOrOrganization": _value(row, "company"),
        "faxNumber": _value(row, "fax"),
        "phoneHome": _value(row, "telephone"),
        **{f"address{i}": line.strip() or None for i, line in enumerate(lines, start=1)},
        "cityOrTown": _value(row, "city"),
        "stateOrProvince": _value(row, "region"),
        "postalOrZipCode": _value(row, "postcode"),
        "countryCode": _value(row, "country_id"),
        "types": types or None,
    }
    extras = {
        "regionId": _number(_value(row, "region_id")),
        "region": _value(row, "region"),
        "prefix": _value(row, "prefix"),
        "suffix": _value(row, "suffix"),
        "vatId": _value(row, "vat_id"),
    }
    return _compact({**contact, "magento": _compact(extras) or None})


def _key(website: str | None, email: str | None) -> tuple[str, str]:
    return (website or "").strip(), (email or "").strip().lower()


class MagentoExport:
    """The two files of one export, read as import lines. Once they are read, `orphan_count` says how many address
    rows name no customer of the customers file, and `orphans` names the first thousand (numbered from 1, after
    the header)."""

    def __init__(self, customers: Path, addresses: Path | None, website_map: dict[str, str]) -> None:
        self.customers, self.addresses = customers, addresses
        self.website_map = {**DEFAULT_WEBSITE_MAP, **website_map}
        self.orphans: list[int] = []
        self.orphan_count = 0

    def lines(self) -> Iterator[bytes]:
        with tempfile.TemporaryDirectory(prefix="gatehouse-magento-") as scratch, closing(
            sqlite3.connect(Path(scratch) / "addresses.sqlite")
        ) as index:  # fmt: skip
            index.execute("CREATE TABLE addresses (website TEXT, email TEXT, row INTEGER, contact TEXT)")
            index.execute("CREATE TABLE customers (website TEXT, email TEXT)")
            if self.addresses is not None:
                self._index_addresses(index, self.addresses)
            with self.customers.open(encoding="utf-8-sig", newline="") as file:
                for row in csv.DictReader(file):
                    yield json.dumps(self._line(index, row), ensure_ascii=False).encode()
            self._count_orphans(index)

    def _count_orphans(self, index: sqlite3.Connection) -> None:
        orphan = """FROM addresses a WHERE NOT EXISTS (SELECT 1 FROM customers c
                    WHERE c.website = a.website AND c.email = a.email)"""
        self.orphan_count = index.execute(f"SELECT count(*) {orphan}").fetchone()[0]
        self.orphans = [number for (number,) in index.execute(f"SELECT row {orphan} ORDER BY row LIMIT 1000")]

    @staticmethod
    def _index_addresses(index: sqlite3.Connection, path: Path) -> None:
        with path.open(encoding="utf-8-sig", newline="") as file:
            index.executemany(
                "INSERT INTO addresses VALUES (?, ?, ?, ?)",
                (
                    (*_key(row.get("_website"), row.get("_email")), number, json.dumps(address_contact(row)))
                    for number, row in enumerate(csv.DictReader(file), start=1)
                ),
            )
        index.execute("CREATE INDEX addresses_by_customer ON addresses (website, email, row)")

    def _line(self, index: sqlite3.Connection, row: dict[str, str]) -> dict[str, Any]:
        key = _key(row.get("_website"), row.get("email"))
        contacts = None
        if self.addresses is not None:
            index.execute("INSERT INTO customers VALUES (?, ?)", key)
            found = index.execute(
                "SELECT contact FROM addresses WHERE website = ? AND email = ? ORDER BY row", key
            ).fetchall()
            contacts = [json.loads(contact) for (contact,) in found]
        return customer_line(row, self.website_map, contacts)
