"""What REDIS_URL names: one server, a primary watched by Sentinels, or a Cluster, and how to reach it.

    redis://[user:password@]host[:port][/db]      rediss://…  (TLS)      unix://[user:password@]/path[?db=n]
    redis+sentinel://[user:password@]host:port,host:port/primary-name[?options]   rediss+sentinel://…
    redis+cluster://[user:password@]host:port,host:port[?options]                 rediss+cluster://…

The user and password in front of the hosts are the data nodes' (the primary, its replicas, the cluster's
nodes). Sentinels authenticate with `sentinel_username` / `sentinel_password` in the query, which may differ;
without them Sentinel commands are sent unauthenticated. TLS options (rediss… only) are query parameters too,
applied to every node, Sentinels included. Values are parsed as redis-py parses its own URLs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

from redis.asyncio.connection import parse_url

Kind = Literal["server", "sentinel", "cluster"]

# scheme -> (topology, TLS)
_SCHEMES: Mapping[str, tuple[Kind, bool]] = {
    "redis": ("server", False),
    "rediss": ("server", True),
    "unix": ("server", False),
    "redis+sentinel": ("sentinel", False),
    "rediss+sentinel": ("sentinel", True),
    "redis+cluster": ("cluster", False),
    "rediss+cluster": ("cluster", True),
}
_DEFAULT_PORTS: Mapping[Kind, int] = {"sentinel": 26379, "cluster": 6379}  # of a node listed without one
_TLS_OPTIONS = frozenset({"ssl_ca_certs", "ssl_certfile", "ssl_keyfile", "ssl_cert_reqs", "ssl_check_hostname"})
_FILE_OPTIONS = ("ssl_ca_certs", "ssl_certfile", "ssl_keyfile")
_SENTINEL_OPTIONS = frozenset({"sentinel_username", "sentinel_password"})
_OPTIONS: Mapping[Kind, frozenset[str]] = {
    "server": _TLS_OPTIONS | {"db"},
    "sentinel": _TLS_OPTIONS | _SENTINEL_OPTIONS | {"db"},
    "cluster": _TLS_OPTIONS,  # a cluster has database 0 only
}


@dataclass(frozen=True, slots=True)
class RedisTopology:
    kind: Kind
    url: str  # as given; a single server is opened from it by redis-py itself
    tls: bool = False
    nodes: tuple[tuple[str, int], ...] = ()  # Sentinels, or some of the cluster's nodes (the client finds the rest)
    primary_name: str = ""  # the name the Sentinels monitor the primary under
    # Credentials, database and TLS options of the data nodes, and of the Sentinels: redis-py keyword arguments.
    options: Mapping[str, Any] = field(default_factory=dict)
    sentinel_options: Mapping[str, Any] = field(default_factory=dict)


def parse_redis_url(raw: str) -> RedisTopology:
    """The topology REDIS_URL names; ValueError says what is wrong with it (never echoing a password)."""
    scheme = raw.partition("://")[0].lower() if "://" in raw else ""
    if scheme not in _SCHEMES:
        raise ValueError("must start with one of " + ", ".join(f"{name}://" for name in _SCHEMES))
    kind, tls = _SCHEMES[scheme]
    parts = urlsplit(raw)
    query = _query(parts.query, kind, tls)
    userinfo, _, hosts = parts.netloc.rpartition("@")
    if kind == "server":
        _check_server(raw, scheme, hosts, parts.path)
        return RedisTopology(kind, raw, tls=tls)
    nodes = tuple(_node(host, _DEFAULT_PORTS[kind]) for host in hosts.split(","))
    options = _connection_options(userinfo, {k: v for k, v in query.items() if k not in _SENTINEL_OPTIONS})
    if kind == "cluster":
        if parts.path.strip("/") not in ("", "0"):
            raise ValueError("names a database, but a Redis Cluster has database 0 only")
        return RedisTopology(kind, raw, tls, nodes, options=options)
    primary_name = unquote(parts.path.strip("/"))
    if not primary_name or "/" in primary_name:
        raise ValueError("must name the primary the Sentinels monitor: redis+sentinel://host:port,…/primary-name")
    sentinel_options = {
        "username": query.get("sentinel_username"),
        "password": query.get("sentinel_password"),
        **{k: v for k, v in options.items() if k in _TLS_OPTIONS},
    }
    return RedisTopology(kind, raw, tls, nodes, primary_name, options, sentinel_options)


def _query(query: str, kind: Kind, tls: bool) -> dict[str, str]:
    values = {name: found[-1] for name, found in parse_qs(query, keep_blank_values=True).items()}
    unknown = sorted(set(values) - _OPTIONS[kind])
    if unknown:
        allowed = ", ".join(sorted(_OPTIONS[kind]))
        raise ValueError(f"has unknown option(s) {', '.join(unknown)}; this form takes {allowed}")
    if not tls and _TLS_OPTIONS & set(values):
        raise ValueError("has TLS options (ssl_…) but a scheme without TLS: use rediss…")
    if values.get("ssl_cert_reqs", "required") not in ("none", "optional", "required"):
        raise ValueError("option ssl_cert_reqs must be none, optional or required")
    for name in _FILE_OPTIONS:
        if name in values and not Path(values[name]).is_file():
            raise ValueError(f"option {name} names no readable file: {values[name]}")
    return values


def _check_server(raw: str, scheme: str, hosts: str, path: str) -> None:
    if scheme == "unix":
        if not path:
            raise ValueError("must name a socket path: unix:///path/to/redis.sock")
    elif not hosts or "," in hosts:
        raise ValueError(f"must name one host: {scheme}://host:port (several nodes: redis+sentinel or redis+cluster)")
    elif not path.strip("/").isdigit() and path.strip("/"):
        raise ValueError("must name its database by number: redis://host:port/0")
    try:
        parse_url(raw)  # redis-py's own reading: a malformed port, database or option value
        urlsplit(raw).port  # noqa: B018 - raises ValueError on a port out of range
    except ValueError as exc:
        raise ValueError(f"is malformed: {_without_url(exc)}") from None


def _node(host: str, default_port: int) -> tuple[str, int]:
    parts = urlsplit(f"//{host}")
    try:
        port = parts.port or default_port
    except ValueError:
        raise ValueError(f"has a malformed port in {host!r}") from None
    if not parts.hostname:
        raise ValueError("must list its nodes as host:port, separated by commas")
    return parts.hostname, port


def _connection_options(userinfo: str, query: Mapping[str, str]) -> dict[str, Any]:
    """Credentials and options as redis-py reads them from a single-server URL with the same user and query."""
    credentials = f"{userinfo}@" if userinfo else ""
    try:
        options: dict[str, Any] = dict(parse_url(f"redis://{credentials}localhost?{urlencode(query)}"))
    except ValueError as exc:
        raise ValueError(f"is malformed: {_without_url(exc)}") from None
    for address_part in ("host", "port", "connection_class"):
        options.pop(address_part, None)
    return options


def _without_url(exc: ValueError) -> str:
    return str(exc).replace(" in connection URL", "")
