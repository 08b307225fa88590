"""The client's address behind reverse proxies, for throttling and logs.

X-Forwarded-For is a list anyone can start: a client may send one of its own, and each proxy
appends the address it received the request from. Only the entries added by proxies we trust
are facts, so the client is the right-most address that is not one of those proxies. With no
trusted proxies configured (the default) the header is ignored and the client is the TCP peer.
X-Forwarded-Proto counts only from a trusted peer too (for the Secure flag of cookies).

`custos serve` turns uvicorn's own proxy-header handling off (it would trust 127.0.0.1 by
default), so these settings alone decide.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network

from fastapi import Request

from custos.errors import UserError
from custos.server.context import context

Network = IPv4Network | IPv6Network
Address = IPv4Address | IPv6Address
UNKNOWN = "unknown"
MAX_HOPS = 32  # trusted proxies in a row worth walking; a longer chain is a made-up header
MAX_LENGTH = 64  # what login_attempts.client holds


def parse_networks(values: Iterable[str]) -> tuple[Network, ...]:
    """`--trusted-proxy` values: addresses or CIDR ranges; a one-line UserError for others."""
    found: list[Network] = []
    for value in values:
        try:
            found.append(ipaddress.ip_network(value.strip(), strict=False))
        except ValueError:
            raise UserError(
                f"--trusted-proxy {value!r} is not an IP address or CIDR range "
                "(like 10.0.0.7 or 10.0.0.0/8)"
            ) from None
    return tuple(found)


def parse_address(text: str) -> Address | None:
    """One address as proxies write it: bare, `[v6]`, `[v6]:port` or `v4:port`; else None."""
    value = text.strip()
    if value.startswith("["):
        value = value[1 : value.find("]")] if "]" in value else ""
    elif value.count(":") == 1:
        value = value.partition(":")[0]
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        return None


def is_trusted(address: Address, trusted: Sequence[Network]) -> bool:
    return any(address in network for network in trusted)


def client_from(peer: str | None, forwarded: Sequence[str], trusted: Sequence[Network]) -> str:
    """The client of a request from `peer` carrying the X-Forwarded-For headers `forwarded`
    (each may list several addresses), given the trusted proxies."""
    if not peer:
        return UNKNOWN
    here = parse_address(peer)
    if here is None or not is_trusted(here, trusted):
        return peer[:MAX_LENGTH]
    hops = [part for header in forwarded for part in header.split(",") if part.strip()]
    client: Address = here
    for hop in reversed(hops[-MAX_HOPS:]):
        address = parse_address(hop)
        if address is None:
            break  # not written by a proxy of ours: the last good address is all we know
        client = address
        if not is_trusted(address, trusted):
            break
    return str(client)[:MAX_LENGTH]


def https_from(peer: str | None, protos: Sequence[str], trusted: Sequence[Network]) -> bool:
    """True when a trusted peer says the client's connection was HTTPS (the nearest proxy's
    word: the right-most X-Forwarded-Proto value)."""
    here = parse_address(peer) if peer else None
    if here is None or not is_trusted(here, trusted):
        return False
    values = [part.strip().lower() for header in protos for part in header.split(",")]
    return bool(values) and values[-1] == "https"


def client_address(request: Request) -> str:
    """The address to throttle and log the request under (see the module's docstring)."""
    trusted = context(request).settings.trusted_proxies
    peer = request.client.host if request.client else None
    return client_from(peer, request.headers.getlist("x-forwarded-for"), trusted)


def forwarded_https(request: Request) -> bool:
    trusted = context(request).settings.trusted_proxies
    peer = request.client.host if request.client else None
    return https_from(peer, request.headers.getlist("x-forwarded-proto"), trusted)
