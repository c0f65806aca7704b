"""Server-side request forgery guard: which addresses a probe may reach.

The host is resolved here and the probe connects to the address that was checked (the URL is
pinned to it), so a name that resolves differently a moment later (DNS rebinding) cannot slip
through, and every redirect hop is checked again.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket

from lifeline.core.outbound import EXTRA_INTERNAL, IPAddress, is_internal

__all__ = ["EXTRA_INTERNAL", "IPAddress", "ResolveFailed", "TargetRefused", "is_internal"]


class TargetRefused(Exception):
    """The target resolves to an internal address and nobody allowed that."""


class ResolveFailed(Exception):
    pass


async def resolve(host: str, port: int) -> list[IPAddress]:
    try:
        return [ipaddress.ip_address(host.strip("[]"))]
    except ValueError:
        pass
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise ResolveFailed(str(exc)) from exc
    seen: list[IPAddress] = []
    for *_rest, sockaddr in infos:
        ip = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if ip not in seen:
            seen.append(ip)
    if not seen:
        raise ResolveFailed(host)
    return seen


async def checked_address(host: str, port: int, allow_internal: bool) -> IPAddress:
    """The address to connect to; refused when any address is internal and not allowed."""
    addresses = await resolve(host, port)
    if not allow_internal:
        bad = [str(ip) for ip in addresses if is_internal(ip)]
        if bad:
            raise TargetRefused(", ".join(bad))
    return addresses[0]
