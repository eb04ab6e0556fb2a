"""Serving any aiohttp or WSGI application: listening, signals and a graceful shutdown.

This part of aiodjango imports no Django module. :mod:`~aiodjango.server.serving` holds
:class:`Server`, :func:`configure_server` and :func:`serve`; :mod:`~aiodjango.server.identity`
sets the ``Server`` header; :mod:`~aiodjango.server.proxy` believes the forwarded headers of
trusted proxies; :mod:`~aiodjango.server.tls` builds the TLS context and
:mod:`~aiodjango.server.loops` picks the event loop; :mod:`~aiodjango.server.websockets` closes
open websockets at shutdown; :mod:`~aiodjango.server.limits` caps what an application serves
on the loop; :mod:`~aiodjango.server.websocket_defaults` gives websockets the server's
defaults; :mod:`~aiodjango.server.exit` leaves threads stuck past the
shutdown timeout; :mod:`~aiodjango.server.cli` is the ``aiodjango-serve`` command.
"""

from .exit import leave_stuck_threads_behind
from .identity import DEFAULT_SERVER_HEADER, chosen_server_header, set_server_header
from .limits import (
    DEFAULT_MAX_ASYNC_REQUESTS,
    DEFAULT_MAX_WEBSOCKETS,
    LOOP_LIMITS,
    LoopLimits,
    limit_application,
)
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
    configure_server,
    describe_address,
    serve,
)
from .static import add_static_routes
from .tls import TLSSetupError, make_ssl_context
from .websocket_defaults import (
    DEFAULT_WEBSOCKET_HEARTBEAT,
    DEFAULT_WEBSOCKET_MAX_MSG_SIZE,
    WEBSOCKET_DEFAULTS,
    WebSocketDefaults,
    set_websocket_defaults,
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
    "DEFAULT_MAX_ASYNC_REQUESTS",
    "DEFAULT_MAX_WEBSOCKETS",
    "DEFAULT_SERVER_HEADER",
    "DEFAULT_WEBSOCKET_HEARTBEAT",
    "DEFAULT_WEBSOCKET_MAX_MSG_SIZE",
    "FORWARDED_HEADERS",
    "LOOP_LIMITS",
    "WEBSOCKETS",
    "WEBSOCKET_CLOSE_TIMEOUT",
    "WEBSOCKET_DEFAULTS",
    "ForwardedHeaders",
    "LoopLimits",
    "Server",
    "TLSSetupError",
    "TrustedPeers",
    "WebSocketDefaults",
    "add_static_routes",
    "chosen_server_header",
    "close_websockets_on_shutdown",
    "configure_server",
    "describe_address",
    "leave_stuck_threads_behind",
    "limit_application",
    "make_ssl_context",
    "serve",
    "set_server_header",
    "set_websocket_defaults",
    "trust_forwarded_headers",
    "watch_websocket",
]
