"""Which network addresses a webhook may reach: IPv6 forms that carry an IPv4 address count as that address.

A receiver at ``[::ffff:127.0.0.1]`` or ``[64:ff9b::7f00:1]`` is loopback as much as ``127.0.0.1`` is: the
operating system or a translating gateway delivers the packet to the embedded IPv4 address. Every such form
(IPv4-mapped, IPv4-compatible, NAT64, 6to4, Teredo) is judged by the IPv4 addresses it embeds.
"""

from __future__ import annotations

import ipaddress

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# NAT64: the well-known prefix (RFC 6052) and the local-use prefix (RFC 8215), IPv4 in the last 32 bits.
_NAT64 = (ipaddress.IPv6Network("64:ff9b::/96"), ipaddress.IPv6Network("64:ff9b:1::/48"))
# IPv4-compatible addresses (RFC 4291, deprecated): ::a.b.c.d. ``::`` and ``::1`` are not IPv4.
_COMPATIBLE = ipaddress.IPv6Network("::/96")


def embedded_ipv4(ip: IPAddress) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address carries; empty for an IPv4 address or a plain IPv6 one."""
    if isinstance(ip, ipaddress.IPv4Address):
        return []
    ip = ipaddress.IPv6Address(int(ip))  # without a scope id
    low32 = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.ipv4_mapped is not None:
        return [ip.ipv4_mapped]
    if ip in _COMPATIBLE and int(ip) > 1:
        return [low32]
    if any(ip in network for network in _NAT64):
        return [low32]
    if ip.sixtofour is not None:
        return [ip.sixtofour]
    if ip.teredo is not None:
        server, client = ip.teredo
        return [server, client]
    return []


def is_public(ip: IPAddress) -> bool:
    """Whether a webhook may be delivered to ``ip``: global unicast, judged by the IPv4 addresses it embeds if any."""
    inner = embedded_ipv4(ip)
    if inner:
        return all(part.is_global and not part.is_multicast for part in inner)
    return ip.is_global and not ip.is_multicast


def ip_literal(host: str) -> IPAddress | None:
    """The address a URL's host names literally, or None for a DNS name."""
    try:
        return ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        return None
