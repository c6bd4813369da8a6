"""How each setting's text becomes its value: parsers that raise ValueError, which `load_settings` turns
into a message naming the variable."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from urllib.parse import urlsplit


def int_in(low: int, high: int) -> Callable[[str], int]:
    def parse(raw: str) -> int:
        value = int(raw)
        if not low <= value <= high:
            raise ValueError
        return value

    return parse


def float_in(low: float, high: float) -> Callable[[str], float]:
    def parse(raw: str) -> float:
        value = float(raw)
        if not low <= value <= high:  # NaN fails both comparisons
            raise ValueError
        return value

    return parse


def url(schemes: tuple[str, ...]) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        parts = urlsplit(raw)
        if parts.scheme not in schemes:
            raise ValueError
        return raw

    return parse


def public_url(raw: str) -> str:
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ValueError
    return raw.rstrip("/")


def log_level(raw: str) -> str:
    level = raw.upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise ValueError
    return level


def networks(raw: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(part.strip(), strict=False) for part in raw.split(",") if part.strip())


def smtp_url(raw: str) -> str:
    parts = urlsplit(raw)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ValueError
    parts.port  # noqa: B018 - raises ValueError on a malformed port
    return raw


def mail_from(raw: str) -> str:
    if "@" not in raw or "\n" in raw or "\r" in raw:
        raise ValueError
    return raw


def flag(raw: str) -> bool:
    value = raw.lower()
    if value not in ("true", "false", "1", "0"):
        raise ValueError
    return value in ("true", "1")
