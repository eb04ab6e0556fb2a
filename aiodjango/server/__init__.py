"""Serving any aiohttp or WSGI application: listening, signals and a graceful shutdown.

This part of aiodjango imports no Django module. :mod:`~aiodjango.server.serving` holds
:class:`Server`, :func:`configure_server` and :func:`serve`; :mod:`~aiodjango.server.identity`
sets the ``Server`` header; :mod:`~aiodjango.server.proxy` believes the forwarded headers of
trusted proxies; :mod:`~aiodjango.server.websockets`
closes open websockets at shutdown; :mod:`~aiodjango.server.exit` leaves threads stuck past the
shutdown timeout; :mod:`~aiodjango.server.cli` is the ``aiodjango-serve`` command.
"""

from .exit import leave_stuck_threads_behind
from .identity import DEFAULT_SERVER_HEADER, chosen_server_header, set_server_header
from .proxy import (
    DEFAULT_FORWARDED_ALLOW_IPS,
    FORWARDED_HEADERS,
    ForwardedHeaders,
    TrustedPeers,
    trust_forwarded_headers,
)
from .serving import (
    DEFAULT_HOST,
    DEFAULT_KEEPALIVE_TIMEOUT,
    Server,
    add_static_routes,
    configure_server,
    describe_address,
    serve,
)
from .websockets import (
    WEBSOCKET_CLOSE_TIMEOUT,
    WEBSOCKETS,
    close_websockets_on_shutdown,
    watch_websocket,
)

__all__ = [
    "DEFAULT_FORWARDED_ALLOW_IPS",
    "DEFAULT_HOST",
    "DEFAULT_KEEPALIVE_TIMEOUT",
    "DEFAULT_SERVER_HEADER",
    "FORWARDED_HEADERS",
    "WEBSOCKETS",
    "WEBSOCKET_CLOSE_TIMEOUT",
    "ForwardedHeaders",
    "Server",
    "TrustedPeers",
    "add_static_routes",
    "chosen_server_header",
    "close_websockets_on_shutdown",
    "configure_server",
    "describe_address",
    "leave_stuck_threads_behind",
    "serve",
    "set_server_header",
    "trust_forwarded_headers",
    "watch_websocket",
]
