"""Trusted forwarded headers: the client, scheme and host that a proxy in front reports.

Behind a proxy (nginx, a load balancer) the connection's peer is the proxy: the client's address
and the scheme it used arrive in headers the proxy adds, ``X-Forwarded-For``,
``X-Forwarded-Proto``, ``X-Forwarded-Host`` and RFC 7239's ``Forwarded``. Anyone can send those
headers, so :class:`ForwardedHeaders`, an aiohttp middleware, reads them only when the peer is
in ``forwarded_allow_ips`` (as gunicorn and uvicorn do), and then hands the rest of the
application a clone of the request with ``remote``, ``scheme`` and ``host`` replaced. Every path
reads those three: the WSGI environ, Django's async views, lifted views and their CSRF, Origin
and ``ALLOWED_HOSTS`` checks, so they never disagree.

The client is found by walking ``X-Forwarded-For`` from the right, skipping trusted addresses:
the first untrusted one is the client (all trusted: the leftmost), so a client cannot pass for
another by sending the header itself. When a request carries both kinds, each ``X-Forwarded-*``
header decides its value and ``Forwarded`` only fills in the others. A header that cannot be
read is ignored (the connection's own value stays), never an error.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network
from typing import Final, TypedDict

from aiohttp import hdrs, web
from aiohttp.typedefs import Handler

__all__ = [
    "DEFAULT_FORWARDED_ALLOW_IPS",
    "FORWARDED_ALLOW_IPS_VARIABLE",
    "FORWARDED_HEADERS",
    "Forwarded",
    "ForwardedHeaders",
    "TrustedPeers",
    "allowed_peers",
    "forwarded_values",
    "trust_forwarded_headers",
]

#: The peers trusted by default: this machine, where a proxy in front usually runs.
DEFAULT_FORWARDED_ALLOW_IPS: Final = "127.0.0.1,::1"
#: The environment variable read when no value is given, as gunicorn and uvicorn read it.
FORWARDED_ALLOW_IPS_VARIABLE: Final = "FORWARDED_ALLOW_IPS"

IPAddress = IPv4Address | IPv6Address

# The schemes X-Forwarded-Proto may name; a websocket's is its HTTP scheme, as aiohttp says.
_SCHEMES: Final = {"http": "http", "https": "https", "ws": "http", "wss": "https"}
# Django's own rule for a host (django.http.request.host_validation_re): anything else is no host.
_HOST_RE: Final = re.compile(r"([a-z0-9.-]+|\[[a-f0-9]*:[a-f0-9.:]+\])(:[0-9]+)?", re.IGNORECASE)
_VERDICTS_MAX: Final = 1024


class Forwarded(TypedDict, total=False):
    """What a trusted proxy's headers tell, named as ``request.clone()`` takes it."""

    remote: str
    scheme: str
    host: str


class TrustedPeers:
    """The peers whose forwarded headers are believed: addresses, networks, or ``*`` for all.

    ``value`` is a comma-separated string or an iterable of addresses and CIDR networks
    (``10.0.0.0/8``, ``2001:db8::/32``); an empty one trusts nobody. ``name`` is what error
    messages call the value (an argument, a setting, an option).
    """

    __slots__ = ("_nodes", "_verdicts", "everyone", "networks", "text")

    def __init__(self, value: str | Iterable[str], name: str = "forwarded_allow_ips") -> None:
        try:
            entries = value.split(",") if isinstance(value, str) else list(value)
        except TypeError:
            raise ValueError(
                f"{name} must be addresses and networks, as a comma-separated string or a "
                f"list, not {value!r}"
            ) from None
        networks: list[IPv4Network | IPv6Network] = []
        everyone = False
        for entry in entries:
            if not isinstance(entry, str):
                raise ValueError(f"{name}: {entry!r} is not an IP address or network")
            entry = entry.strip()
            if entry == "*":
                everyone = True
            elif entry:
                networks.append(_network(entry, name))
        self.everyone = everyone
        self.networks = tuple(networks)
        self.text = "*" if everyone else ",".join(str(network) for network in networks)
        # Peer address as the socket gives it -> verdict; bounded, like every per-value cache.
        self._verdicts: dict[str, bool] = {}
        # Forwarded entry as sent -> (the address, trusted), or None for no address.
        self._nodes: dict[str, tuple[str, bool] | None] = {}

    def __bool__(self) -> bool:
        return self.everyone or bool(self.networks)

    def __repr__(self) -> str:
        return f"TrustedPeers({self.text!r})"

    def trusts(self, peer: object) -> bool:
        """Whether the connection's peer (its ``peername``) is trusted.

        A unix socket's peer has no address: only ``*`` trusts it (the socket file's
        permissions decide who may connect).
        """
        if self.everyone:
            return True
        if not isinstance(peer, tuple) or not isinstance(peer[0], str):
            return False
        address = peer[0]
        verdict = self._verdicts.get(address)
        if verdict is None:
            try:
                verdict = self.trusts_ip(ip_address(address))
            except ValueError:
                verdict = False
            if len(self._verdicts) < _VERDICTS_MAX:
                self._verdicts[address] = verdict
        return verdict

    def judge(self, node: str) -> tuple[str, bool] | None:
        """The address in a forwarded entry and whether it is trusted; None for no address.

        Remembered per entry (bounded): behind a proxy every request names a client, and
        parsing an address costs more than the rest of the headers together.
        """
        try:
            return self._nodes[node]
        except KeyError:
            pass
        ip = _node_ip(node)
        judged = None if ip is None else (str(ip), self.trusts_ip(ip))
        if len(self._nodes) < _VERDICTS_MAX:
            self._nodes[node] = judged
        return judged

    def trusts_ip(self, ip: IPAddress) -> bool:
        """Whether ``ip`` is in the list (an IPv4-mapped IPv6 address as its IPv4 address)."""
        if self.everyone:
            return True
        if isinstance(ip, IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped  # a dual-stack socket's IPv4 peer
        return any(ip in network for network in self.networks)


def _network(entry: str, name: str) -> IPv4Network | IPv6Network:
    if "/" in entry:
        try:
            return ip_network(entry)
        except ValueError as error:  # the reason, such as "has host bits set"
            raise ValueError(f"{name}: {entry!r} is not an IP network ({error})") from None
    try:
        return ip_network(ip_address(entry))
    except ValueError:
        raise ValueError(f"{name}: {entry!r} is not an IP address or network") from None


def allowed_peers(
    value: str | Iterable[str] | TrustedPeers | None, name: str = "forwarded_allow_ips"
) -> TrustedPeers:
    """The trusted peers for ``value``; None means ``$FORWARDED_ALLOW_IPS``, else the default."""
    if isinstance(value, TrustedPeers):
        return value
    if value is None:
        variable = os.environ.get(FORWARDED_ALLOW_IPS_VARIABLE)
        if variable is None:
            return TrustedPeers(DEFAULT_FORWARDED_ALLOW_IPS, name)
        return TrustedPeers(variable, f"${FORWARDED_ALLOW_IPS_VARIABLE}")
    return TrustedPeers(value, name)


def _node_ip(node: str) -> IPAddress | None:
    """The address in one ``X-Forwarded-For`` entry or ``Forwarded`` ``for=`` value, or None.

    Accepts ``192.0.2.1``, ``192.0.2.1:4711``, ``2001:db8::1`` and ``[2001:db8::1]:4711``;
    ``unknown``, obfuscated names (``_hidden``) and anything else are no address.
    """
    node = node.strip()
    if node.startswith("["):
        end = node.find("]")
        port = node[end + 1 :]
        if end < 0 or (port and not (port[0] == ":" and _is_port(port[1:]))):
            return None
        node = node[1:end]
    elif node.count(":") == 1:
        node, _, port = node.partition(":")
        if not _is_port(port):
            return None
    try:
        return ip_address(node)
    except ValueError:
        return None


def _is_port(text: str) -> bool:
    return text.isascii() and text.isdigit()


def _client_hop(nodes: list[str], trusted: TrustedPeers) -> tuple[int, str] | None:
    """The index and address of the client among the hops, walking from the right.

    Trusted addresses are proxies and are skipped; the first untrusted one is the client, or
    the leftmost when all are trusted. An entry that is no address, met before the client is
    found, makes the list unreadable: None.
    """
    address = None
    for index in range(len(nodes) - 1, -1, -1):
        judged = trusted.judge(nodes[index])
        if judged is None:
            return None
        address, believed = judged
        if not believed:
            return index, address
    return None if address is None else (0, address)


def _list(request: web.BaseRequest, name: str) -> list[str] | None:
    """A header's comma-separated entries, repeated headers joined; None when absent."""
    values = request.headers.getall(name, ())
    return ",".join(values).split(",") if values else None


def _per_hop(entries: list[str], hop: tuple[int, int] | None) -> str | None:
    """One value, or the client hop's among one value per ``X-Forwarded-For`` entry."""
    if len(entries) == 1:
        return entries[0].strip()
    if hop is not None and len(entries) == hop[1]:
        return entries[hop[0]].strip()
    return None


def _scheme(value: str | None) -> str | None:
    return None if value is None else _SCHEMES.get(value.lower())


def _host(value: str | None) -> str | None:
    return value if value is not None and _HOST_RE.fullmatch(value) else None


def forwarded_values(
    request: web.BaseRequest, trusted: TrustedPeers, forwarded_host: bool
) -> Forwarded:
    """What the headers of a trusted peer's request say: ``remote``, ``scheme``, ``host``.

    Only the values the headers tell (and that can be read) are in the result, named as
    :meth:`aiohttp.web.BaseRequest.clone` takes them. ``host`` only with ``forwarded_host``.
    """
    values: Forwarded = {}
    hop: tuple[int, int] | None = None
    nodes = _list(request, hdrs.X_FORWARDED_FOR)
    if nodes is not None:
        client = _client_hop(nodes, trusted)
        if client is not None:
            hop = client[0], len(nodes)
            values["remote"] = client[1]
    element: Mapping[str, str] = {}
    if hdrs.FORWARDED in request.headers:
        elements = request.forwarded
        if len(elements) == 1:
            element = elements[0]
            found = trusted.judge(element.get("for", ""))
            client = None if found is None else (0, found[0])
        else:
            client = _client_hop([item.get("for", "") for item in elements], trusted)
            if client is not None:
                element = elements[client[0]]
        if client is not None and nodes is None:
            values["remote"] = client[1]
    protos = _list(request, hdrs.X_FORWARDED_PROTO)
    proto = _scheme(element.get("proto") if protos is None else _per_hop(protos, hop))
    if proto is not None:
        values["scheme"] = proto
    if forwarded_host:
        hosts = _list(request, hdrs.X_FORWARDED_HOST)
        host = _host(element.get("host") if hosts is None else _per_hop(hosts, hop))
        if host is not None:
            values["host"] = host
    return values


class ForwardedHeaders:
    """The aiohttp middleware that believes forwarded headers from trusted peers only.

    ``trusted`` are the peers (:class:`TrustedPeers`); with ``forwarded_host``,
    ``X-Forwarded-Host`` (or ``Forwarded: host=``) replaces the ``Host`` header too. A request
    without any of those headers costs a few dictionary lookups; with them, from a trusted
    peer, the handler gets ``request.clone(remote=..., scheme=..., host=...)``.
    """

    __middleware_version__ = 1  # a "new-style" aiohttp middleware

    def __init__(self, trusted: TrustedPeers, forwarded_host: bool = False) -> None:
        self.trusted = trusted
        self.forwarded_host = forwarded_host

    async def __call__(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        headers = request.headers
        if (
            hdrs.X_FORWARDED_FOR in headers
            or hdrs.X_FORWARDED_PROTO in headers
            or hdrs.FORWARDED in headers
            or (self.forwarded_host and hdrs.X_FORWARDED_HOST in headers)
        ):
            transport = request.transport
            peer = transport.get_extra_info("peername") if transport is not None else None
            if self.trusted.trusts(peer):
                values = forwarded_values(request, self.trusted, self.forwarded_host)
                if values:
                    request = request.clone(**values)
        return await handler(request)


#: App key: the :class:`ForwardedHeaders` middleware of an application, to reconfigure it.
FORWARDED_HEADERS = web.AppKey("aiodjango_forwarded_headers", ForwardedHeaders)


def trust_forwarded_headers(
    app: web.Application,
    forwarded_allow_ips: str | Iterable[str] | TrustedPeers | None = None,
    forwarded_host: bool | None = None,
) -> ForwardedHeaders:
    """Make ``app`` believe the forwarded headers of trusted peers; return the middleware.

    The middleware goes first, so every other middleware and handler sees the client. An app
    that has it already keeps it, with the values given here replacing its own (None keeps
    a value; a new middleware gets ``$FORWARDED_ALLOW_IPS`` or the default, and no host).
    """
    current = app.get(FORWARDED_HEADERS)
    if current is not None:
        if forwarded_allow_ips is not None:
            current.trusted = allowed_peers(forwarded_allow_ips)
        if forwarded_host is not None:
            current.forwarded_host = forwarded_host
        return current
    middleware = ForwardedHeaders(allowed_peers(forwarded_allow_ips), bool(forwarded_host))
    app.middlewares.insert(0, middleware)
    app[FORWARDED_HEADERS] = middleware
    return middleware
