"""``manage.py runserver``, serving the project on aiohttp.

The command keeps Django's options, banner, system checks, migration warning,
autoreloader and friendly errors; only the server underneath changes: the
application from :func:`aiodjango.application.get_internal_aio_application`, on
aiohttp, so coroutine views, websockets and Django views all answer on one port.

The server is :class:`aiodjango.server.Server`, as for ``aiodjango-serve``: with
``--noreload``, SIGTERM and CONTROL-C stop it gracefully (open websockets are closed with
code 1001 and requests in flight get ``--shutdown-timeout`` seconds to finish), and a second
signal ends the process at once. Under the autoreloader, Django's parent process owns the
signals and ends the serving process at once.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import posixpath
import sys
from datetime import datetime
from typing import Any

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from aiohttp.typedefs import Handler, Middleware
from aiohttp.web_request import BaseRequest
from django.conf import settings
from django.core.exceptions import SuspiciousFileOperation
from django.core.management.base import CommandError, CommandParser
from django.core.management.commands.runserver import Command as DjangoRunserverCommand
from django.db import connections
from django.utils import autoreload

from aiodjango.application import get_internal_aio_application
from aiodjango.server import Server, leave_stuck_threads_behind
from aiodjango.server.cli import seconds
from aiodjango.server.loops import LOOPS, LoopUnavailable, loop_factory, run_on_loop
from aiodjango.wsgi import WSGIHandler

FRIENDLY_ERRORS = {
    errno.EACCES: "You don't have permission to access that port.",
    errno.EADDRINUSE: "That port is already in use.",
    errno.EADDRNOTAVAIL: "That IP address can't be assigned to.",
}


class Command(DjangoRunserverCommand):
    help = "Starts the aiodjango development server: Django and coroutine views on one port."

    # Set by Django's handle() from the addrport argument.
    addr: str
    port: str
    _raw_ipv6: bool

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--nostatic",
            action="store_false",
            dest="use_static_handler",
            help="Tells Django to NOT automatically serve static files at STATIC_URL.",
        )
        parser.add_argument(
            "--insecure",
            action="store_true",
            dest="insecure_serving",
            help="Allows serving static files even if DEBUG is False.",
        )
        parser.add_argument(
            "--shutdown-timeout",
            type=seconds,
            default=60.0,
            metavar="SECONDS",
            help="On SIGTERM or CONTROL-C (with --noreload), how long requests in flight may "
            "take to finish (default: 60).",
        )
        parser.add_argument(
            "--loop",
            choices=LOOPS,
            default="auto",
            help='The event loop: auto (uvloop when installed, pip install "aiodjango[uvloop]"), '
            "asyncio or uvloop (default: auto).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        # Checked before the autoreloader starts: a loop that cannot be used is one message.
        try:
            loop_factory(options["loop"])
        except LoopUnavailable as error:
            raise CommandError(str(error)) from None
        super().handle(*args, **options)

    def inner_run(self, *args: Any, **options: Any) -> None:
        # An exception silenced in the reloader's parent is raised here, in the child.
        autoreload.raise_last_exception()
        if not options["skip_checks"]:
            self.stdout.write("Performing system checks...\n\n")
            self.check(display_num_errors=True)
        self.check_migrations()
        for connection in connections.all(initialized_only=True):
            connection.close()

        app = get_internal_aio_application()
        if options["use_static_handler"] and (settings.DEBUG or options["insecure_serving"]):
            app.middlewares.append(static_files_middleware(app))
        server = Server(
            app,
            host=self.addr,
            port=int(self.port),
            shutdown_timeout=options["shutdown_timeout"],
            access_log_class=DjangoStyleAccessLogger,
            access_log=logging.getLogger("django.server"),
        )
        show_server_messages()
        factory = loop_factory(options["loop"])
        try:
            run_on_loop(server.run(announce=lambda server: self.print_banner(server.port)), factory)
        except OSError as error:
            reason = FRIENDLY_ERRORS.get(error.errno or 0, error.strerror or error)
            self.stderr.write(f"Error: {reason}")
            # sys.exit would only end this thread when the autoreloader runs us in one.
            os._exit(1)
        except KeyboardInterrupt:
            pass
        if shutdown_message := options.get("shutdown_message", ""):
            self.stdout.write(shutdown_message)
        leave_stuck_threads_behind()
        sys.exit(0)

    def print_banner(self, port: int | None) -> None:
        """Django's start-up banner, naming aiohttp as the server."""
        if self._raw_ipv6:
            addr = f"[{self.addr}]"
        elif self.addr == "0":
            addr = "0.0.0.0"
        else:
            addr = self.addr
        quit_command = "CTRL-BREAK" if sys.platform == "win32" else "CONTROL-C"
        now = datetime.now().strftime("%B %d, %Y - %X")
        self.stdout.write(
            f"{now}\n"
            f"Django version {self.get_version()}, using settings {settings.SETTINGS_MODULE!r}\n"
            f"Starting aiodjango development server at {self.protocol}://{addr}:{port}/\n"
            f"Quit the server with {quit_command}."
        )
        self.stdout.flush()


def show_server_messages() -> None:
    """Show the server's messages (shutting down, stopped) on stderr, as Django's runserver
    shows its own, unless the project's logging configuration already handles them."""
    server_logger = logging.getLogger("aiodjango.server")
    if server_logger.hasHandlers():
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    server_logger.addHandler(handler)
    server_logger.setLevel(logging.INFO)


class DjangoStyleAccessLogger(AbstractAccessLogger):
    """One line per request on the ``django.server`` logger, as Django's runserver writes it:
    the request line as sent, the status, the size of the body, at Django's level for the
    status (errors for 5xx, warnings for 4xx)."""

    def log(self, request: BaseRequest, response: web.StreamResponse, time: float) -> None:
        status = response.status
        level = (
            logging.ERROR if status >= 500 else logging.WARNING if status >= 400 else logging.INFO
        )
        self.logger.log(
            level,
            '"%s %s HTTP/%d.%d" %d %d',
            request.method,
            request.raw_path,
            request.version.major,
            request.version.minor,
            status,
            body_size(request, response),
            extra={"status_code": status, "request": None},
        )


def body_size(request: BaseRequest, response: web.StreamResponse) -> int:
    """The bytes of body sent, as Django's runserver counts them (headers excluded).

    aiohttp's ``body_length`` counts the headers and misses what went out with sendfile (static
    files, ``FileResponse``), so the announced ``Content-Length`` is used when there is one.
    """
    if request.method == "HEAD" or status_has_no_body(response.status):
        return 0
    if response.content_length is not None:
        return response.content_length
    # A stream without a length (chunked): what aiohttp wrote, framing included.
    return response.body_length


def status_has_no_body(status: int) -> bool:
    """1xx, 204 and 304 responses never carry a body (RFC 9110)."""
    return status < 200 or status in (204, 304)


def static_files_middleware(app: web.Application) -> Middleware:
    """Serve ``STATIC_URL`` from the staticfiles finders, as Django's runserver does.

    A file found is sent by aiohttp (sendfile). Anything else is handed to Django's own
    ``StaticFilesHandler`` on a worker thread, so that a missing file gets Django's 404: the
    debug page with ``DEBUG``, the project's ``404.html`` otherwise (``--insecure``).
    """
    from django.contrib.staticfiles.handlers import StaticFilesHandler
    from django.core.servers.basehttp import get_internal_wsgi_application

    # Misses are rare and only in development: two threads of their own are plenty.
    not_found = WSGIHandler(StaticFilesHandler(get_internal_wsgi_application()), threads=2)

    async def stop_not_found(app: web.Application) -> None:
        not_found.shutdown(wait=False)

    app.on_cleanup.append(stop_not_found)

    @web.middleware
    async def serve_static_files(request: web.Request, handler: Handler) -> web.StreamResponse:
        prefix = str(settings.STATIC_URL or "")
        if not prefix.startswith("/") or not request.path.startswith(prefix):
            return await handler(request)
        # request.path is already percent-decoded.
        relative = posixpath.normpath(request.path[len(prefix) :]).lstrip("/")
        loop = asyncio.get_running_loop()
        found = await loop.run_in_executor(None, find_static_file, relative)
        if found is None:
            return await not_found(request)
        return web.FileResponse(found)

    return serve_static_files


def find_static_file(relative: str) -> str | None:
    """The file the staticfiles finders have for ``relative``; they refuse paths leaving their roots."""
    from django.contrib.staticfiles import finders

    try:
        found = finders.find(relative)
    except SuspiciousFileOperation:
        return None
    return found if isinstance(found, str) and os.path.isfile(found) else None
