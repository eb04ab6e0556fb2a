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
from aiohttp.typedefs import Handler
from aiohttp.web_request import BaseRequest
from django.conf import settings
from django.core.exceptions import SuspiciousFileOperation
from django.core.management.base import CommandParser
from django.core.management.commands.runserver import Command as DjangoRunserverCommand
from django.db import connections
from django.utils import autoreload

from aiodjango.application import get_internal_aio_application
from aiodjango.server import Server, leave_stuck_threads_behind
from aiodjango.server.cli import seconds

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
            app.middlewares.append(serve_static_files)
        server = Server(
            app,
            host=self.addr,
            port=int(self.port),
            shutdown_timeout=options["shutdown_timeout"],
            access_log_class=DjangoStyleAccessLogger,
            access_log=logging.getLogger("django.server"),
        )
        show_server_messages()
        try:
            asyncio.run(server.run(announce=lambda server: self.print_banner(server.port)))
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
    """One line per request on the ``django.server`` logger, as Django's runserver writes it."""

    def log(self, request: BaseRequest, response: web.StreamResponse, time: float) -> None:
        self.logger.info(
            '"%s %s HTTP/%d.%d" %d %d',
            request.method,
            request.path_qs,
            request.version.major,
            request.version.minor,
            response.status,
            response.body_length,
            extra={"status_code": response.status, "request": None},
        )


@web.middleware
async def serve_static_files(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Serve ``STATIC_URL`` from the staticfiles finders, as Django's runserver does in DEBUG."""
    prefix = str(settings.STATIC_URL or "")
    if not prefix.startswith("/") or not request.path.startswith(prefix):
        return await handler(request)
    # request.path is already percent-decoded.
    relative = posixpath.normpath(request.path[len(prefix) :]).lstrip("/")
    found = await asyncio.get_running_loop().run_in_executor(None, find_static_file, relative)
    if found is None:
        raise web.HTTPNotFound(text=f"'{relative}' could not be found")
    return web.FileResponse(found)


def find_static_file(relative: str) -> str | None:
    """The file the staticfiles finders have for ``relative``; they refuse paths leaving their roots."""
    from django.contrib.staticfiles import finders

    try:
        found = finders.find(relative)
    except SuspiciousFileOperation:
        return None
    return found if isinstance(found, str) and os.path.isfile(found) else None
