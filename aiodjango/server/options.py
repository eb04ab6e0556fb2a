"""The command line's options, one group per concern; :func:`build_parser` puts them together.

Each option maps to an argument of :func:`~aiodjango.server.configure_server` (or of
:class:`~aiodjango.server.Server`); their values are parsed by :mod:`aiodjango.server.values`.
"""

from __future__ import annotations

import argparse
import inspect
from typing import Any, NoReturn

from .. import __version__
from ..wsgi import WSGIHandler
from .identity import DEFAULT_SERVER_HEADER
from .limits import DEFAULT_MAX_ASYNC_REQUESTS, DEFAULT_MAX_WEBSOCKETS
from .loops import LOOPS
from .proxy import DEFAULT_FORWARDED_ALLOW_IPS, FORWARDED_ALLOW_IPS_VARIABLE
from .serving import DEFAULT_HOST, DEFAULT_KEEPALIVE_TIMEOUT
from .values import (
    bounded_int,
    octal_mode,
    positive_seconds,
    seconds,
    show_size,
    size,
    static_route,
    trusted_peers,
)
from .websocket_defaults import DEFAULT_WEBSOCKET_HEARTBEAT, DEFAULT_WEBSOCKET_MAX_MSG_SIZE

__all__ = [
    "ASYNC_LIMIT_OPTIONS",
    "EXIT_USAGE",
    "add_async_limit_options",
    "add_listening_options",
    "add_logging_options",
    "add_proxy_options",
    "add_serving_options",
    "build_parser",
]

#: The exit status of a command line that cannot be used.
EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line (usage lives in --help)."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see --help)\n")


def _handler_default(name: str) -> Any:
    """WSGIHandler's default for one option, shown in --help."""
    return inspect.signature(WSGIHandler).parameters[name].default


def build_parser(prog: str = "aiodjango-serve") -> argparse.ArgumentParser:
    """The command line's options; each maps to an argument of configure_server()."""
    parser = _Parser(
        prog=prog,
        description="Serve a WSGI application (Django, Flask, any PEP 3333 callable) on aiohttp.",
        epilog=(
            "example:\n"
            "  aiodjango-serve --port 8000 --static /static=staticfiles mysite.wsgi:application\n\n"
            "SIZE is a number of bytes, optionally with a K, M or G suffix (powers of 1024)."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "application",
        metavar="module:attr",
        help="the WSGI application, e.g. mysite.wsgi:application, imported with the current "
        "directory on sys.path; an aiohttp Application (get_aio_application()) is served as is",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")

    add_listening_options(parser)
    add_tls_options(parser)
    add_loop_options(parser)
    add_serving_options(parser)
    add_proxy_options(parser)
    add_async_limit_options(parser)
    add_logging_options(parser)
    return parser


def add_listening_options(parser: argparse.ArgumentParser) -> None:
    """Where and how long to listen: address, socket, backlog, timeouts, the Server header."""
    listen = parser.add_argument_group("listening")
    listen.add_argument(
        "--host",
        default=DEFAULT_HOST,
        help="address to bind (default: %(default)s, every interface: reachable from other "
        "machines; use 127.0.0.1 behind a proxy on this machine)",
    )
    listen.add_argument(
        "-p",
        "--port",
        type=bounded_int(0, 65535),
        default=8080,
        help="TCP port; 0 picks a free one (default: %(default)s)",
    )
    listen.add_argument(
        "--unix-socket", metavar="PATH", help="listen on this unix socket instead of TCP"
    )
    listen.add_argument(
        "--unix-socket-perms",
        type=octal_mode,
        default=0o600,
        metavar="MODE",
        help="permissions of the unix socket, in octal (default: 600)",
    )
    listen.add_argument(
        "--backlog",
        type=bounded_int(1),
        default=1024,
        help="connections waiting to be accepted (default: %(default)s)",
    )
    listen.add_argument(
        "--shutdown-timeout",
        type=seconds,
        default=60.0,
        metavar="SECONDS",
        help="on SIGINT/SIGTERM, how long requests in flight may take to finish "
        "(default: %(default)s)",
    )
    listen.add_argument(
        "--keepalive-timeout",
        type=positive_seconds,
        default=DEFAULT_KEEPALIVE_TIMEOUT,
        metavar="SECONDS",
        help="close a connection idle, or still sending a request's headers, for this long "
        "(default: %(default)s)",
    )
    listen.add_argument(
        "--server-header",
        metavar="TEXT",
        help=f"the Server header of every response (default: {DEFAULT_SERVER_HEADER}, "
        "without version numbers)",
    )


def add_tls_options(parser: argparse.ArgumentParser) -> None:
    """HTTPS and WSS without a proxy: the certificate, its key, ciphers, client certificates."""
    tls = parser.add_argument_group("TLS (HTTPS and WSS without a proxy in front)")
    tls.add_argument(
        "--certfile",
        metavar="PEM",
        help="serve HTTPS with this certificate chain (and its private key, unless --keyfile)",
    )
    tls.add_argument("--keyfile", metavar="PEM", help="the private key of --certfile")
    tls.add_argument(
        "--ssl-ciphers",
        metavar="CIPHERS",
        help="the TLS 1.2 cipher suites allowed, as an OpenSSL cipher string (default: "
        "Python's secure defaults; TLS 1.3 suites are not affected)",
    )
    tls.add_argument(
        "--ca-certs",
        metavar="PEM",
        help="require client certificates signed by these authorities (mutual TLS)",
    )


def add_loop_options(parser: argparse.ArgumentParser) -> None:
    """Which event loop runs the server."""
    loops = parser.add_argument_group("event loop")
    loops.add_argument(
        "--loop",
        choices=LOOPS,
        default="auto",
        help='auto: uvloop when installed (pip install "aiodjango[uvloop]"), else asyncio\'s '
        "(default: %(default)s)",
    )


def add_serving_options(parser: argparse.ArgumentParser) -> None:
    """What is served and within which limits: static files, the mount, threads, bodies."""
    serving = parser.add_argument_group("serving")
    serving.add_argument(
        "--static",
        type=static_route,
        action="append",
        default=[],
        metavar="/URL=DIR",
        help="serve the files in DIR under /URL (repeatable)",
    )
    serving.add_argument(
        "--static-cors",
        metavar="ORIGIN",
        help="send Access-Control-Allow-Origin: ORIGIN (an origin or *) with the --static "
        "files, and only with them (default: none)",
    )
    serving.add_argument(
        "--script-name",
        default="",
        help="URL prefix the application is mounted at, without a trailing slash (default: none)",
    )
    serving.add_argument(
        "--threads",
        type=bounded_int(1),
        help=f"worker threads running the application (default: {_handler_default('threads')})",
    )
    serving.add_argument(
        "--url-scheme",
        choices=("http", "https"),
        help="force wsgi.url_scheme (default: detected from the connection)",
    )
    serving.add_argument(
        "--inbuf-overflow",
        type=size,
        metavar="SIZE",
        help="request bodies larger than this are spooled to a temporary file "
        f"(default: {show_size(_handler_default('inbuf_overflow'))})",
    )
    serving.add_argument(
        "--max-request-body-size",
        type=size,
        metavar="SIZE",
        help="larger request bodies get 413 without reaching the application "
        f"(default: {show_size(_handler_default('max_request_body_size'))})",
    )
    serving.add_argument(
        "--max-request-bodies-size",
        type=size,
        metavar="SIZE",
        help="request body bytes held at once by all requests, in memory and on disk; past "
        f"it, 503 (default: {show_size(_handler_default('max_request_bodies_size'))})",
    )
    serving.add_argument(
        "--max-request-bodies-in-memory",
        type=size,
        metavar="SIZE",
        help="request body bytes held in memory at once by all requests; past it, bodies go "
        f"to temporary files (default: "
        f"{show_size(_handler_default('max_request_bodies_in_memory'))})",
    )
    serving.add_argument(
        "--body-timeout",
        type=positive_seconds,
        metavar="SECONDS",
        help="time a request body may take to arrive, plus one second per --body-min-rate "
        f"bytes received; past it, 408 (default: {_handler_default('body_timeout')})",
    )
    serving.add_argument(
        "--body-min-rate",
        type=bounded_int(0),
        metavar="BYTES",
        help="bytes per second that earn a request body one more second; 0: the body "
        f"timeout is a fixed deadline (default: {_handler_default('body_min_rate')})",
    )
    serving.add_argument(
        "--send-timeout",
        type=positive_seconds,
        metavar="SECONDS",
        help="cut a streamed response whose client takes nothing for this long, releasing "
        f"its worker thread (default: {_handler_default('send_timeout')})",
    )


def add_proxy_options(parser: argparse.ArgumentParser) -> None:
    """Which proxies in front are believed about the client, the scheme and the host."""
    proxy = parser.add_argument_group(
        "behind a proxy",
        "X-Forwarded-For, X-Forwarded-Proto and Forwarded set the client's address and the\n"
        "scheme only on connections from a trusted proxy; from other peers they are ignored.\n"
        "For an aiohttp Application, these options replace its own (the\n"
        "AIODJANGO_FORWARDED_* settings of get_aio_application()).",
    )
    proxy.add_argument(
        "--forwarded-allow-ips",
        type=trusted_peers,
        metavar="IPS",
        help="comma-separated addresses and CIDR networks of the trusted proxies, or * to "
        f"trust every peer, or '' to trust none (default: ${FORWARDED_ALLOW_IPS_VARIABLE} if "
        f"set, else {DEFAULT_FORWARDED_ALLOW_IPS})",
    )
    proxy.add_argument(
        "--forwarded-host",
        action="store_true",
        default=None,
        help="also take the host from a trusted proxy's X-Forwarded-Host (or Forwarded: host=) "
        "(default: the Host header)",
    )


#: The options of :func:`add_async_limit_options`, as ``argparse`` names them.
ASYNC_LIMIT_OPTIONS = (
    "max_async_requests",
    "max_websockets",
    "websocket_heartbeat",
    "websocket_max_msg_size",
)


def add_async_limit_options(parser: argparse.ArgumentParser) -> None:
    """What an aiohttp application serves on the loop: caps, and websocket defaults.

    None of them is set unless given: an application from ``get_aio_application()`` keeps
    its own values (its settings, or aiodjango's defaults, shown here) for the others.
    """
    limits = parser.add_argument_group(
        "on the event loop (an aiohttp Application only: lifted views, Django async views, "
        "websockets)"
    )
    limits.add_argument(
        "--max-async-requests",
        type=bounded_int(1),
        metavar="N",
        help="requests served on the loop at once, websockets aside; past it, 503 with "
        f"Retry-After (get_aio_application's default: {DEFAULT_MAX_ASYNC_REQUESTS})",
    )
    limits.add_argument(
        "--max-websockets",
        type=bounded_int(1),
        metavar="N",
        help="websockets open at once; past it, handshakes get 503 with Retry-After "
        f"(get_aio_application's default: {DEFAULT_MAX_WEBSOCKETS})",
    )
    limits.add_argument(
        "--websocket-heartbeat",
        type=seconds,
        metavar="SECONDS",
        help="ping websockets quiet for this long, closing those that do not answer; 0: no "
        "pings; for websockets whose view sets none "
        f"(get_aio_application's default: {DEFAULT_WEBSOCKET_HEARTBEAT:g})",
    )
    limits.add_argument(
        "--websocket-max-msg-size",
        type=size,
        metavar="SIZE",
        help="larger websocket messages close the websocket with 1009; 0: no limit; for "
        "websockets whose view sets none "
        f"(get_aio_application's default: {show_size(DEFAULT_WEBSOCKET_MAX_MSG_SIZE)})",
    )


def add_logging_options(parser: argparse.ArgumentParser) -> None:
    """How much is logged, to stderr."""
    logs = parser.add_argument_group("logging (to stderr)")
    logs.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0,
        help="-v also logs every request, -vv logs debug messages",
    )
    logs.add_argument(
        "-q", "--quiet", action="count", default=0, help="log only warnings and errors"
    )
