"""Which IP addresses a webhook push may reach: public ones only, IPv4 inside IPv6 included.

Python's `is_global` judges an IPv6 address by its own prefix, so `::127.0.0.1`,
`64:ff9b::a9fe:a9fe` (NAT64 of 169.254.169.254) or `2002:7f00:1::` (6to4 of 127.0.0.1)
all pass it, yet a dual-stack host, a NAT64 gateway or a 6to4 relay turns them into the
private IPv4 address they carry. So the IPv4 address embedded by each transition form is
checked as well (RFC 4291 §2.5.5 compatible and mapped, RFC 6052/8215 NAT64, RFC 2765
SIIT, RFC 3056 6to4, RFC 4380 Teredo); the local-use NAT64 prefix (RFC 8215) is refused
whole.
"""

from __future__ import annotations

import ipaddress
from ipaddress import IPv4Address, IPv6Address

IPV4_COMPATIBLE = ipaddress.ip_network("::/96")
IPV4_TRANSLATED = ipaddress.ip_network("::ffff:0:0:0/96")  # SIIT, RFC 2765
NAT64_WELL_KNOWN = ipaddress.ip_network("64:ff9b::/96")  # RFC 6052
NAT64_LOCAL_USE = ipaddress.ip_network("64:ff9b:1::/48")  # RFC 8215: never globally routed

_LOW32 = 0xFFFF_FFFF


def embedded_ipv4(address: IPv6Address) -> list[tuple[str, IPv4Address]]:
    """(form, IPv4 address) for every transition form `address` is an instance of."""
    found: list[tuple[str, IPv4Address]] = []
    value = int(address)
    if address.ipv4_mapped is not None:
        found.append(("IPv4-mapped", address.ipv4_mapped))
    if address in IPV4_COMPATIBLE and value > 1:  # not :: and ::1, which is_global covers
        found.append(("IPv4-compatible", IPv4Address(value & _LOW32)))
    if address in IPV4_TRANSLATED:
        found.append(("IPv4-translated", IPv4Address(value & _LOW32)))
    if address in NAT64_WELL_KNOWN:
        found.append(("NAT64", IPv4Address(value & _LOW32)))
    if address.sixtofour is not None:
        found.append(("6to4", address.sixtofour))
    if address.teredo is not None:
        server, client = address.teredo
        found.extend((("Teredo server", server), ("Teredo client", client)))
    return found


def address_problem(text: str) -> str | None:
    """Why a push may not connect to this address, or None if it is public."""
    try:
        address = ipaddress.ip_address(text.split("%", 1)[0])  # drop an IPv6 zone id
    except ValueError:
        return f"{text!r} is not an IP address"
    if isinstance(address, IPv6Address):
        if address in NAT64_LOCAL_USE:  # whatever it embeds, it leads into a private network
            return f"{address} is in the local-use NAT64 prefix {NAT64_LOCAL_USE}"
        for form, ipv4 in embedded_ipv4(address):
            if not ipv4.is_global:
                return f"{address} embeds the non-public IPv4 address {ipv4} ({form})"
    if not address.is_global:
        return f"{address} is a private, loopback, link-local or reserved address"
    return None
