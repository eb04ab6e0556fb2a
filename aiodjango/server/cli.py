"""The command line: ``aiodjango-serve module:attr`` and ``python -m aiodjango module:attr``.

Loads a WSGI application (or an aiohttp Application) from a module, with the current directory
importable as with gunicorn, and serves it with :mod:`aiodjango.server` until SIGINT or
SIGTERM. Anything that stops it from starting (a bad ``module:attr``, an option value, an
address that cannot be used) is one line on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import signal
import ssl
import sys
import traceback
from collections.abc import Sequence
from typing import Any

from aiohttp import web

from .exit import leave_stuck_threads_behind
from .limits import limit_application
from .loops import loop_factory, run_on_loop
from .options import ASYNC_LIMIT_OPTIONS, EXIT_USAGE, build_parser
from .serving import Server, configure_server
from .static import add_static_routes
from .tls import make_ssl_context
from .values import (
    bounded_int,
    octal_mode,
    positive_seconds,
    seconds,
    show_size,
    size,
    static_route,
)
from .websocket_defaults import set_websocket_defaults

__all__ = [
    "EXIT_USAGE",
    "UsageError",
    "bounded_int",
    "build_parser",
    "load_application",
    "main",
    "make_server",
    "octal_mode",
    "positive_seconds",
    "seconds",
    "show_size",
    "size",
    "static_route",
]

logger = logging.getLogger("aiodjango.server")


class UsageError(Exception):
    """Something on the command line cannot be used; the message says what."""


def load_application(target: str) -> Any:
    """Import ``module:attr`` (attr may be dotted): a WSGI application or an aiohttp one."""
    module_name, colon, attr_path = target.partition(":")
    if not colon or not module_name or not attr_path:
        raise UsageError(f"{target!r} is not of the form module:attr")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name is not None and (module_name + ".").startswith(exc.name + "."):
            raise UsageError(
                f"cannot import {module_name!r}: no module named {exc.name!r}"
            ) from exc
        raise UsageError(_describe_import_failure(module_name, exc)) from exc
    except Exception as exc:
        raise UsageError(_describe_import_failure(module_name, exc)) from exc
    application: Any = module
    for attr in attr_path.split("."):
        try:
            application = getattr(application, attr)
        except AttributeError:
            raise UsageError(
                f"{target!r}: {module_name!r} has no attribute {attr_path!r}"
            ) from None
    if not isinstance(application, web.Application) and not callable(application):
        kind = type(application).__name__
        raise UsageError(
            f"{target!r} is not a WSGI application: an object of type {kind} is not callable"
        )
    return application


def _describe_import_failure(module_name: str, exc: BaseException) -> str:
    """One line about an exception raised while importing the application's module."""
    where = ""
    frames = traceback.extract_tb(exc.__traceback__)
    if frames and not isinstance(exc, SyntaxError):
        where = f" ({frames[-1].filename}, line {frames[-1].lineno})"
    return f"importing {module_name!r} failed: {type(exc).__name__}: {exc}{where}"


def configure_logging(verbose: int, quiet: int) -> None:
    """Default: aiodjango's messages at INFO; -q: warnings; -v: access log; -vv: debug."""
    level = logging.WARNING if quiet else logging.DEBUG if verbose >= 2 else logging.INFO
    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    if verbose < 1:
        logging.getLogger("aiohttp.access").setLevel(logging.WARNING)


def make_server(application: Any, args: argparse.Namespace) -> Server:
    """The server for the options given: around a WSGI application, or an aiohttp one as is."""
    listen: dict[str, Any] = {
        "host": args.host,
        "port": args.port,
        "unix_socket": args.unix_socket,
        "unix_socket_perms": args.unix_socket_perms,
        "backlog": args.backlog,
        "shutdown_timeout": args.shutdown_timeout,
        "keepalive_timeout": args.keepalive_timeout,
        "server_header": args.server_header,
        "ssl_context": tls_context(args),
    }
    proxy: dict[str, Any] = {
        "forwarded_allow_ips": args.forwarded_allow_ips,
        "forwarded_host": args.forwarded_host,
    }
    handler_kwargs = {
        name: value
        for name, value in (
            ("threads", args.threads),
            ("url_scheme", args.url_scheme),
            ("inbuf_overflow", args.inbuf_overflow),
            ("max_request_body_size", args.max_request_body_size),
            ("max_request_bodies_size", args.max_request_bodies_size),
            ("max_request_bodies_in_memory", args.max_request_bodies_in_memory),
            ("body_timeout", args.body_timeout),
            ("body_min_rate", args.body_min_rate),
            ("send_timeout", args.send_timeout),
        )
        if value is not None
    }
    loop_options = {
        name: getattr(args, name) for name in ASYNC_LIMIT_OPTIONS if getattr(args, name) is not None
    }
    if not isinstance(application, web.Application):
        if loop_options:
            raise UsageError(
                f"{args.application!r} is a WSGI application, which serves nothing on the "
                f"event loop: {_flags(list(loop_options))} apply to an aiohttp Application only"
            )
        return configure_server(
            application,
            static=args.static,
            static_cors=args.static_cors,
            script_name=args.script_name,
            forwarded_allow_ips=args.forwarded_allow_ips,
            forwarded_host=bool(args.forwarded_host),
            **listen,
            **handler_kwargs,
        )
    # An aiohttp application (such as get_aio_application()'s) brings its own WSGI adapter.
    if handler_kwargs or args.script_name:
        names = [*handler_kwargs, *(["script_name"] if args.script_name else [])]
        raise UsageError(
            f"{args.application!r} is an aiohttp Application: {_flags(names)} do not apply"
        )
    add_static_routes(application, args.static, args.static_cors)
    apply_async_limit_options(application, args)
    # The proxy options replace the application's own (get_aio_application()'s settings).
    return Server(application, **listen, **proxy)


def apply_async_limit_options(app: web.Application, args: argparse.Namespace) -> None:
    """The caps and websocket defaults given on the command line, for an aiohttp application.

    ``get_aio_application()``'s application has its own values changed; any other serves every
    request on the loop, so the caps given apply to all its requests and websockets.
    """
    if args.max_async_requests is not None or args.max_websockets is not None:
        limit_application(
            app, max_async_requests=args.max_async_requests, max_websockets=args.max_websockets
        )
    if args.websocket_heartbeat is not None or args.websocket_max_msg_size is not None:
        set_websocket_defaults(
            app, heartbeat=args.websocket_heartbeat, max_msg_size=args.websocket_max_msg_size
        )


def _flags(names: Sequence[str]) -> str:
    return ", ".join("--" + name.replace("_", "-") for name in names)


def tls_context(args: argparse.Namespace) -> ssl.SSLContext | None:
    """The TLS context of --certfile and the other TLS options, errors naming the flags."""
    if args.certfile is None:
        given = [flag for flag in ("keyfile", "ssl_ciphers", "ca_certs") if getattr(args, flag)]
        if given:
            raise UsageError(f"{_flags(given[:1])} needs --certfile (the server's certificate)")
        return None
    return make_ssl_context(
        args.certfile,
        args.keyfile,
        ssl_ciphers=args.ssl_ciphers,
        ca_certs=args.ca_certs,
        naming=lambda name: _flags([name]),
    )


def main(argv: Sequence[str] | None = None, prog: str = "aiodjango-serve") -> int:
    """Run the command line; return the exit status."""
    parser = build_parser(prog)
    args = parser.parse_args(argv)
    configure_logging(args.verbose, args.quiet)

    def fail(message: str) -> int:
        print(f"{prog}: error: {message}", file=sys.stderr)
        return EXIT_USAGE

    # Like gunicorn: module:attr is looked up from the current directory first.
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        factory = loop_factory(args.loop)
        server = make_server(load_application(args.application), args)
    except UsageError as exc:
        if exc.__cause__ is not None:
            logger.debug("the cause:", exc_info=exc.__cause__)
        return fail(str(exc))
    except ValueError as exc:
        return fail(str(exc))
    try:
        run_on_loop(server.run(), factory)
    except OSError as exc:
        return fail(exc.strerror or str(exc))
    except KeyboardInterrupt:
        # Interrupted while starting, before the signal handlers were in place.
        return 128 + signal.SIGINT
    leave_stuck_threads_behind()
    return 0
