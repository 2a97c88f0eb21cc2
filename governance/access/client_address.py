"""The address a request came from, as the login lockout counts it.

Behind reverse proxies every request reaches ValueGate from a proxy's address; counting failed
logins per username and *that* address would let anyone lock a chair out for everyone. So the
proxies' own addresses are configured (VALUEGATE_TRUSTED_PROXIES: addresses or networks), and only
for a request that arrived from one of them is X-Forwarded-For believed: read from the right, each
trusted proxy's entry is skipped and the first other address is the client. Whatever a client
writes into the header itself stands to the left of what its proxy appended, so it is never read.
A request from anywhere else is counted by its own address.

Written here rather than taken from django-ipware because its proxy options do not say which
neighbour they trust (with a trusted list it answered no address at all for a plain proxied
request), and an address the lockout cannot rely on is worse than none.
"""

from __future__ import annotations

import ipaddress
from functools import cache

from django.conf import settings

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@cache
def _trusted(entries: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(entry.strip(), strict=False) for entry in entries if entry.strip())


def _is_trusted_proxy(address: str, proxies: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in proxies)


def client_address(request) -> str | None:
    """The client's address: REMOTE_ADDR, or the first untrusted hop when a trusted proxy forwarded it."""
    remote = request.META.get("REMOTE_ADDR")
    proxies = _trusted(tuple(settings.VALUEGATE_TRUSTED_PROXIES))
    if not proxies or remote is None or not _is_trusted_proxy(remote, proxies):
        return remote
    hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _is_trusted_proxy(hop, proxies):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return remote  # a malformed entry appended by a trusted proxy: count the proxy
    return hops[0] if hops else remote
