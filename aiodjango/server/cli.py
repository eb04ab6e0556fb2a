"""The command line: ``aiodjango-serve module:attr`` and ``python -m aiodjango module:attr``.

Loads a WSGI application (or an aiohttp Application) from a module, with the current directory
importable as with gunicorn, and serves it with :mod:`aiodjango.server` until SIGINT or
SIGTERM. Anything that stops it from starting (a bad ``module:attr``, an option value, an
address that cannot be used) is one line on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import inspect
import logging
import os
import signal
import sys
import traceback
from collections.abc import Sequence
from typing import Any, NoReturn

from aiohttp import web

from .. import __version__
from ..wsgi import WSGIHandler
from .exit import leave_stuck_threads_behind
from .identity import DEFAULT_SERVER_HEADER
from .serving import (
    DEFAULT_HOST,
    DEFAULT_KEEPALIVE_TIMEOUT,
    Server,
    add_static_routes,
    configure_server,
)
from .values import (
    bounded_int,
    octal_mode,
    positive_seconds,
    seconds,
    show_size,
    size,
    static_route,
)

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

EXIT_USAGE = 2

logger = logging.getLogger("aiodjango.server")


class UsageError(Exception):
    """Something on the command line cannot be used; the message says what."""


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
    return parser


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
    if not isinstance(application, web.Application):
        return configure_server(
            application,
            static=args.static,
            static_cors=args.static_cors,
            script_name=args.script_name,
            **listen,
            **handler_kwargs,
        )
    # An aiohttp application (such as get_aio_application()'s) brings its own WSGI adapter.
    if handler_kwargs or args.script_name:
        names = [*handler_kwargs, *(["script_name"] if args.script_name else [])]
        flags = ", ".join("--" + name.replace("_", "-") for name in names)
        raise UsageError(f"{args.application!r} is an aiohttp Application: {flags} do not apply")
    add_static_routes(application, args.static, args.static_cors)
    return Server(application, **listen)


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
        server = make_server(load_application(args.application), args)
    except UsageError as exc:
        if exc.__cause__ is not None:
            logger.debug("the cause:", exc_info=exc.__cause__)
        return fail(str(exc))
    except ValueError as exc:
        return fail(str(exc))
    try:
        asyncio.run(server.run())
    except OSError as exc:
        return fail(exc.strerror or str(exc))
    except KeyboardInterrupt:
        # Interrupted while starting, before the signal handlers were in place.
        return 128 + signal.SIGINT
    leave_stuck_threads_behind()
    return 0
