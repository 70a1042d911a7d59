"""The SSRF guard: webhook URLs may not reach into our own network.

An endpoint URL is a request the tenant makes us send from inside our network. It is checked
twice: when the endpoint is created or changed (a clear 422), and at send time against the
address the connection is actually made to. The second check is the one that matters: the name
is resolved by the guard itself, every address it resolves to must be allowed, and the socket is
opened to that vetted address (the TLS handshake still verifies the certificate against the
name). A name that resolved to a public address at creation and to 127.0.0.1 later (DNS
rebinding) is refused at connect time.

Refused always: unspecified, multicast, link-local (which holds the cloud metadata service
169.254.169.254), reserved and the known metadata addresses. Refused unless
``WALLGUARD_WEBHOOKS_ALLOW_PRIVATE`` (on in dev and test): loopback, private and shared
(carrier-grade NAT) ranges. In production only ``https`` URLs are accepted.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import SplitResult, urlsplit

import httpcore
import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Awaitable[list[str]]]

_METADATA = frozenset(
    ipaddress.ip_address(a)
    for a in (
        "169.254.169.254",  # AWS, GCP, Azure, OpenStack
        "169.254.170.2",  # AWS ECS task metadata
        "fd00:ec2::254",  # AWS over IPv6
        "100.100.100.200",  # Alibaba Cloud
    )
)
_SHARED = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT: not the public internet


class RefusedUrl(ValueError):
    """The URL or the address it leads to is not allowed; the message says why."""


class RefusedAddress(httpcore.ConnectError):
    """Raised while connecting: httpx reports it as a ``ConnectError`` like any other."""


@dataclass(frozen=True, slots=True)
class Policy:
    allow_private: bool
    https_only: bool


def address_problem(ip: IPAddress, policy: Policy) -> str | None:
    """Why ``ip`` may not be connected to, or None."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip in _METADATA:
        return "a cloud metadata address"
    if ip.is_unspecified:
        return "an unspecified address"
    if ip.is_multicast:
        return "a multicast address"
    if ip.is_link_local:
        return "a link-local address"
    if ip.is_loopback:
        return None if policy.allow_private else "a loopback address"
    if ip.is_reserved:  # before "private": Python counts 240.0.0.0/4 as both
        return "a reserved address"
    if ip.is_private or ip in _SHARED:
        return None if policy.allow_private else "a private address"
    if not ip.is_global:
        return "a reserved address"
    return None


def split_url(url: str, policy: Policy) -> tuple[SplitResult, str, int]:
    """The URL's parts, host and port, or ``RefusedUrl``."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise RefusedUrl("The URL is not valid.") from None
    scheme = parts.scheme.lower()
    if scheme not in {"http", "https"}:
        raise RefusedUrl("The URL must start with https://.")
    if policy.https_only and scheme != "https":
        raise RefusedUrl("Only https:// URLs are accepted.")
    if not parts.hostname:
        raise RefusedUrl("The URL has no host.")
    if parts.username is not None or parts.password is not None:
        raise RefusedUrl("The URL may not carry a user name or password.")
    return parts, parts.hostname, port or (443 if scheme == "https" else 80)


async def system_resolve(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(
        host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
    )
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


async def vetted_addresses(host: str, port: int, policy: Policy, resolve: Resolver) -> list[str]:
    """Every address ``host`` resolves to, if all of them are allowed."""
    try:
        literal: IPAddress | None = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        literal = None
    if literal is not None:
        addresses = [str(literal)]
    else:
        try:
            addresses = await resolve(host, port)
        except (OSError, UnicodeError):
            raise RefusedUrl(f"The host {host!r} does not resolve.") from None
        if not addresses:
            raise RefusedUrl(f"The host {host!r} does not resolve.")
    for address in addresses:
        problem = address_problem(ipaddress.ip_address(address.split("%", 1)[0]), policy)
        if problem is not None:
            raise RefusedUrl(f"The host {host!r} resolves to {problem}, which is not allowed.")
    return addresses


async def check_url(url: str, policy: Policy, resolve: Resolver = system_resolve) -> None:
    """The creation-time check (the send-time one is in ``GuardedBackend``)."""
    _, host, port = split_url(url, policy)
    await vetted_addresses(host, port, policy, resolve)


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend with the guard in ``connect_tcp``: it resolves the name
    itself, refuses unless every address is allowed, connects to a vetted address and checks
    the socket's peer once more."""

    def __init__(self, policy: Policy, resolve: Resolver = system_resolve) -> None:
        self.policy = policy
        self.resolve = resolve
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            addresses = await vetted_addresses(host, port, self.policy, self.resolve)
        except RefusedUrl as exc:
            raise RefusedAddress(str(exc)) from None
        last: Exception | None = None
        for address in addresses:
            try:
                stream = await self._inner.connect_tcp(
                    address, port, timeout, local_address, socket_options
                )
            except httpcore.ConnectError as exc:
                last = exc
                continue
            peer = stream.get_extra_info("server_addr")
            if peer is not None:
                problem = address_problem(ipaddress.ip_address(str(peer[0])), self.policy)
                if problem is not None:
                    await stream.aclose()
                    raise RefusedAddress(f"connected to {problem}, which is not allowed")
            return stream
        raise last or httpcore.ConnectError(f"could not connect to {host}")

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise RefusedAddress("unix sockets are not allowed")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's own transport (pooling, HTTP/1.1, TLS verification, error mapping) over the
    guarded network backend. No proxies from the environment: a proxy would connect for us."""

    def __init__(
        self,
        policy: Policy,
        *,
        limits: httpx.Limits,
        resolve: Resolver = system_resolve,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        super().__init__(limits=limits, trust_env=False)
        # Replaces the pool httpx built with one that connects through the guard.
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context or httpx.create_ssl_context(),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=GuardedBackend(policy, resolve),
        )
