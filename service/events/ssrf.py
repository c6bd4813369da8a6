"""Where a webhook may be sent: so that a tenant's endpoint URL cannot reach into the platform's own network.

Only public (globally routable) addresses over HTTPS, unless GATEHOUSE_WEBHOOK_ALLOWED_NETWORKS lists the
address's network: those may be reached over plain HTTP too. Loopback, private, link-local (the cloud
metadata service at 169.254.169.254 among them), shared, reserved and multicast addresses are refused.
The rule is applied to every address a host name resolves to, when a delivery connects (`sender.py`): a
name that resolved to a public address when the endpoint was saved and to an internal one later
(DNS rebinding) is still refused. Saving an endpoint only checks what can be known without DNS.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class BlockedAddress(OSError):
    """A webhook's host is, or resolved to, an address the policy refuses. An OSError, as aiohttp expects of
    a resolver that fails, so the attempt fails as a connection error would."""


def ip_literal(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host.strip("[]").partition("%")[0])
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class AddressPolicy:
    allowed: tuple[Network, ...] = ()

    def permits(self, address: str, *, plain_http: bool) -> bool:
        ip = ip_literal(address)
        if ip is None:
            return False
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
        if any(ip in network for network in self.allowed):
            return True
        return not plain_http and ip.is_global and not ip.is_multicast

    def require(self, address: str, *, plain_http: bool) -> None:
        if not self.permits(address, plain_http=plain_http):
            raise BlockedAddress(f"{address} is not an address webhooks may reach")

    def url_problem(self, url: str) -> str | None:
        """Why a URL can never be delivered to, or None; what only DNS can tell is checked at delivery."""
        parts = urlsplit(url)
        if parts.scheme not in ("https", "http"):
            return "must be an https:// URL"
        if parts.scheme == "http" and not self.allowed:
            return "must be an https:// URL (plain http:// reaches only the platform's allowed networks)"
        if not parts.hostname or parts.username is not None or parts.fragment:
            return "must name a host, and no user, password or fragment"
        try:
            parts.port  # noqa: B018 - raises ValueError on a malformed port
        except ValueError:
            return "has an invalid port"
        literal = ip_literal(parts.hostname)
        if literal is not None and not self.permits(str(literal), plain_http=parts.scheme == "http"):
            return "names an address webhooks may not reach (loopback, private, link-local or metadata)"
        return None
