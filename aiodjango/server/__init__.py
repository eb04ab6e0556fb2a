"""Serving any aiohttp or WSGI application: listening, signals and a graceful shutdown.

This part of aiodjango imports no Django module. :mod:`~aiodjango.server.serving` holds
:class:`Server`, :func:`configure_server` and :func:`serve`; :mod:`~aiodjango.server.identity`
sets the ``Server`` header; :mod:`~aiodjango.server.tls` builds the TLS context and
:mod:`~aiodjango.server.loops` picks the event loop; :mod:`~aiodjango.server.websockets`
closes open websockets at shutdown; :mod:`~aiodjango.server.exit` leaves threads stuck past the
shutdown timeout; :mod:`~aiodjango.server.cli` is the ``aiodjango-serve`` command.
"""

from .exit import leave_stuck_threads_behind
from .identity import DEFAULT_SERVER_HEADER, chosen_server_header, set_server_header
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
from .websockets import (
    WEBSOCKET_CLOSE_TIMEOUT,
    WEBSOCKETS,
    close_websockets_on_shutdown,
    watch_websocket,
)

__all__ = [
    "DEFAULT_HOST",
    "DEFAULT_KEEPALIVE_TIMEOUT",
    "DEFAULT_SERVER_HEADER",
    "WEBSOCKETS",
    "WEBSOCKET_CLOSE_TIMEOUT",
    "Server",
    "TLSSetupError",
    "add_static_routes",
    "chosen_server_header",
    "close_websockets_on_shutdown",
    "configure_server",
    "describe_address",
    "leave_stuck_threads_behind",
    "make_ssl_context",
    "serve",
    "set_server_header",
    "watch_websocket",
]
