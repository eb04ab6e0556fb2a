"""Serve a WSGI application on aiohttp: listening sockets, signals and a graceful shutdown.

:func:`configure_server` builds the aiohttp application (static routes, extra routes, the WSGI
adapter mounted at ``script_name``) and returns a :class:`Server`, which starts and stops it
without blocking. :func:`serve` runs one until SIGINT or SIGTERM.

A graceful stop happens in aiohttp's order, driven by :class:`aiohttp.web.AppRunner`:

1. the listening socket is closed, so no new connection is accepted;
2. idle keep-alive connections are closed;
3. ``on_shutdown``: every open websocket is closed with code 1001 (going away);
4. requests in flight get up to ``shutdown_timeout`` seconds to finish, then are cancelled;
5. ``on_cleanup``: the WSGI adapter's thread pool is shut down and ``on_finish`` callbacks run;
6. the unix socket file, if this server created one, is removed.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import os
import signal
import socket as socket_module
import ssl
import stat
import threading
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import Any
from wsgiref.types import WSGIApplication

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from aiohttp.typedefs import Handler

from ..wsgi import WSGIHandler, add_wsgi_route
from .exit import exit_now
from .identity import (
    DEFAULT_SERVER_HEADER,
    check_server_header,
    chosen_server_header,
    set_server_header,
)
from .loops import loop_factory, loop_name, run_on_loop
from .proxy import TrustedPeers, trust_forwarded_headers
from .static import StaticRoute, add_static_routes
from .tls import PathLike, server_ssl_context
from .websockets import close_websockets_on_shutdown

__all__ = [
    "DEFAULT_HOST",
    "DEFAULT_KEEPALIVE_TIMEOUT",
    "Server",
    "configure_server",
    "describe_address",
    "serve",
]

logger = logging.getLogger("aiodjango.server")


#: An address as the socket reports it: a path for a unix socket, (host, port, ...) for TCP.
Address = str | tuple[Any, ...]
#: An extra aiohttp route: (method, path, handler).
Route = tuple[str, str, Handler | type[web.View]]
#: A zero-argument callback run once at shutdown; it may be a coroutine function.
FinishCallback = Callable[[], object]

#: The address listened on by default: every interface, as gunicorn and aiohttp do.
DEFAULT_HOST = "0.0.0.0"
#: Seconds a connection may stay idle, or take to send a request's headers, before it is
#: closed: the header timeout against slowloris clients (nginx's keepalive_timeout).
DEFAULT_KEEPALIVE_TIMEOUT = 75.0

# The keyword arguments configure_server() passes on to WSGIHandler, known once.
_HANDLER_OPTIONS = frozenset(
    name
    for name, parameter in inspect.signature(WSGIHandler).parameters.items()
    if parameter.kind is inspect.Parameter.KEYWORD_ONLY
)


def configure_server(
    application: WSGIApplication,
    *,
    host: str = DEFAULT_HOST,
    port: int = 8080,
    unix_socket: str | os.PathLike[str] | None = None,
    unix_socket_perms: int = 0o600,
    socket: socket_module.socket | None = None,
    backlog: int = 1024,
    routes: Iterable[Route] = (),
    static: Iterable[StaticRoute] = (),
    static_cors: str | None = None,
    on_finish: Iterable[FinishCallback] = (),
    script_name: str = "",
    shutdown_timeout: float = 60.0,
    keepalive_timeout: float = DEFAULT_KEEPALIVE_TIMEOUT,
    server_header: str | None = None,
    certfile: PathLike | None = None,
    keyfile: PathLike | None = None,
    ssl_ciphers: str | None = None,
    ca_certs: PathLike | None = None,
    ssl_context: ssl.SSLContext | None = None,
    forwarded_allow_ips: str | Iterable[str] | TrustedPeers | None = None,
    forwarded_host: bool = False,
    **handler_kwargs: Any,
) -> Server:
    """Build the aiohttp application serving ``application`` and a :class:`Server` for it.

    Static routes and extra routes come first; the WSGI application is mounted at
    ``script_name`` and gets every other URL under it. ``static_cors`` is the
    ``Access-Control-Allow-Origin`` of static files. The TLS arguments are those of
    :class:`Server`. ``forwarded_allow_ips`` and ``forwarded_host`` are the trusted forwarded
    headers (:mod:`aiodjango.server.proxy`; None: ``$FORWARDED_ALLOW_IPS``, else 127.0.0.1 and
    ::1). Other keyword arguments go to :class:`~aiodjango.wsgi.WSGIHandler`. Nothing listens
    until :meth:`Server.start`.
    """
    # Bad TLS files are reported before anything else is built.
    ssl_context = server_ssl_context(ssl_context, certfile, keyfile, ssl_ciphers, ca_certs)
    unknown = sorted(set(handler_kwargs) - _HANDLER_OPTIONS)
    if unknown:
        raise TypeError(f"configure_server() got an unexpected keyword argument {unknown[0]!r}")
    app = web.Application()
    trust_forwarded_headers(app, forwarded_allow_ips, forwarded_host)
    add_static_routes(app, static, static_cors)
    for method, path, view in routes:
        app.router.add_route(method, path, view)
    handler = WSGIHandler(application, **handler_kwargs)
    try:
        add_wsgi_route(app.router, handler, script_name)
    except BaseException:
        handler.shutdown(wait=False)
        raise

    handler.shutdown_on_cleanup(app)
    finish_callbacks = tuple(on_finish)

    async def finish(app: web.Application) -> None:
        await _run_finish_callbacks(finish_callbacks)

    app.on_cleanup.append(finish)
    return Server(
        app,
        host=host,
        port=port,
        unix_socket=unix_socket,
        unix_socket_perms=unix_socket_perms,
        socket=socket,
        backlog=backlog,
        shutdown_timeout=shutdown_timeout,
        keepalive_timeout=keepalive_timeout,
        server_header=server_header,
        ssl_context=ssl_context,
    )


async def _run_finish_callbacks(callbacks: Iterable[FinishCallback]) -> None:
    """Run each callback once, in order; one that fails is logged and the rest still run."""
    for callback in callbacks:
        try:
            result = callback()
            if inspect.isawaitable(result):
                await result
        except Exception:
            logger.exception("on_finish callback %r failed", callback)


def serve(application: WSGIApplication, *, loop: str = "auto", **kwargs: Any) -> None:
    """Serve ``application`` until SIGINT or SIGTERM, then stop gracefully.

    Takes the arguments of :func:`configure_server`; logs the addresses it serves on. ``loop``
    is ``"auto"`` (uvloop when installed), ``"asyncio"`` or ``"uvloop"``.
    """
    factory = loop_factory(loop)
    server = configure_server(application, **kwargs)
    run_on_loop(server.run(), factory)


class Server:
    """An aiohttp application bound to one listening address, started and stopped on demand.

    Listen on ``socket`` if given (an already bound socket; the caller owns it), else on the
    unix socket ``unix_socket``, else on TCP ``host``:``port`` (``port=0`` picks a free port:
    read :attr:`addresses` or :attr:`port` after :meth:`start`). The default host, 0.0.0.0,
    is every interface: bind 127.0.0.1 behind a proxy on the same machine.

    ``keepalive_timeout`` closes a connection idle, or still sending a request's headers, for
    that many seconds. ``server_header`` is the ``Server`` header of every response of the
    process, set when the server starts (default: the value chosen already, for instance by
    ``get_aio_application()``, else ``"aiodjango"``, without version numbers).
    With ``certfile`` (a PEM certificate chain, and the key unless ``keyfile`` is given) the
    server speaks HTTPS and WSS: ``ssl_ciphers`` restricts the TLS 1.2 ciphers, ``ca_certs``
    requires client certificates signed by those authorities. ``ssl_context`` is a context
    made another way (not with the files). The context is built once, here, and every problem
    with it is a :class:`~aiodjango.server.TLSSetupError` naming the file.
    ``access_log_class`` and ``access_log`` go to :class:`aiohttp.web.AppRunner`
    (``runserver`` logs requests the way Django's does). ``forwarded_allow_ips`` and
    ``forwarded_host``, when given, replace the app's trusted forwarded headers (or add them:
    :func:`~aiodjango.server.proxy.trust_forwarded_headers`); None keeps the app's own.
    """

    def __init__(
        self,
        app: web.Application,
        *,
        host: str = DEFAULT_HOST,
        port: int = 8080,
        unix_socket: str | os.PathLike[str] | None = None,
        unix_socket_perms: int = 0o600,
        socket: socket_module.socket | None = None,
        backlog: int = 1024,
        shutdown_timeout: float = 60.0,
        keepalive_timeout: float = DEFAULT_KEEPALIVE_TIMEOUT,
        server_header: str | None = None,
        certfile: PathLike | None = None,
        keyfile: PathLike | None = None,
        ssl_ciphers: str | None = None,
        ca_certs: PathLike | None = None,
        ssl_context: ssl.SSLContext | None = None,
        access_log_class: type[AbstractAccessLogger] | None = None,
        access_log: logging.Logger | None = None,
        forwarded_allow_ips: str | Iterable[str] | TrustedPeers | None = None,
        forwarded_host: bool | None = None,
    ) -> None:
        if unix_socket is not None and socket is not None:
            raise ValueError("give unix_socket or socket, not both")
        if shutdown_timeout < 0:
            raise ValueError(f"shutdown_timeout must be >= 0, not {shutdown_timeout!r}")
        if not 0 < keepalive_timeout < float("inf"):
            raise ValueError(f"keepalive_timeout must be > 0 seconds, not {keepalive_timeout!r}")
        if server_header is not None:
            check_server_header(server_header)
        if forwarded_allow_ips is not None or forwarded_host is not None:
            trust_forwarded_headers(app, forwarded_allow_ips, forwarded_host)
        self._server_header = server_header
        self._ssl_context = server_ssl_context(
            ssl_context, certfile, keyfile, ssl_ciphers, ca_certs
        )
        self.app = app
        self.shutdown_timeout = shutdown_timeout
        self._host = host
        self._port = port
        self._unix_socket = None if unix_socket is None else os.fspath(unix_socket)
        self._unix_socket_perms = unix_socket_perms
        self._unix_socket_inode: int | None = None
        self._socket = socket
        self._backlog = backlog
        self._started = False
        self._stopped = False

        close_websockets_on_shutdown(app, shutdown_timeout)
        access: dict[str, Any] = {}
        if access_log_class is not None:
            access["access_log_class"] = access_log_class
        if access_log is not None:
            access["access_log"] = access_log
        self._runner = web.AppRunner(
            app, shutdown_timeout=shutdown_timeout, keepalive_timeout=keepalive_timeout, **access
        )

    @property
    def addresses(self) -> list[Address]:
        """The addresses listened on while the server runs (empty before start and after stop)."""
        return list(self._runner.addresses)

    @property
    def sites(self) -> list[web.BaseSite]:
        """aiohttp's sites serving the application (one once started, none before or after)."""
        return list(self._runner.sites)

    @property
    def port(self) -> int | None:
        """The TCP port listened on, or None when not listening on TCP."""
        for address in self.addresses:
            if isinstance(address, tuple):
                return int(address[1])
        return None

    @property
    def urls(self) -> list[str]:
        """The addresses listened on, in a form meant for people (and for logs)."""
        return [describe_address(address, self.scheme) for address in self.addresses]

    @property
    def scheme(self) -> str:
        """``https`` when the server speaks TLS, ``http`` otherwise."""
        return "http" if self._ssl_context is None else "https"

    async def start(self) -> None:
        """Start listening; raise OSError naming the address if it cannot be used."""
        if self._started:
            raise RuntimeError("this server was already started")
        if self._server_header is not None:
            set_server_header(self._server_header)
        elif chosen_server_header() is None:
            set_server_header(DEFAULT_SERVER_HEADER)
        await self._runner.setup()
        self._started = True
        try:
            await self._make_site().start()
        except (OSError, UnicodeError) as exc:
            # Nothing is served: release what setup() created, then say which address failed.
            await self.stop()
            raise OSError(*_listen_error(self._describe_target(), exc)) from exc

    async def stop(self) -> None:
        """Stop gracefully (see the module docstring for the order); only the first call acts."""
        if not self._started or self._stopped:
            return
        self._stopped = True
        try:
            await self._runner.cleanup()
        finally:
            self._remove_unix_socket()

    async def run(self, announce: Callable[[Server], None] | None = None) -> None:
        """Start, serve until SIGINT or SIGTERM, then stop gracefully.

        ``announce(server)`` is called once listening; by default each address is logged. A
        second signal during the graceful stop ends the process at once (status 128 + the
        signal's number): whoever sent it does not want to wait. Outside the main thread (where
        Django's autoreloader runs the server) no signal can be handled: the server then runs
        until the process ends.
        """
        loop = asyncio.get_running_loop()
        stopping = asyncio.Event()

        def on_signal(signum: signal.Signals) -> None:
            if stopping.is_set():
                logger.warning("%s: exiting without waiting", signum.name)
                exit_now(128 + signum)
            logger.info(
                "%s: shutting down, waiting up to %g s for requests in flight",
                signum.name,
                self.shutdown_timeout,
            )
            stopping.set()

        handled: tuple[signal.Signals, ...] = ()
        if threading.current_thread() is threading.main_thread():
            with contextlib.suppress(NotImplementedError):  # a loop without signal handlers
                for signum in (signal.SIGINT, signal.SIGTERM):
                    loop.add_signal_handler(signum, on_signal, signum)
                    handled += (signum,)
        try:
            await self.start()
            logger.info("event loop: %s", loop_name(loop))
            if announce is not None:
                announce(self)
            else:
                for url in self.urls:
                    logger.info("serving on %s", url)
            await stopping.wait()
        finally:
            await self.stop()
            for signum in handled:
                loop.remove_signal_handler(signum)
        logger.info("stopped")

    async def __aenter__(self) -> Server:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    def _make_site(self) -> web.BaseSite:
        options: dict[str, Any] = {"backlog": self._backlog, "ssl_context": self._ssl_context}
        if self._socket is not None:
            return web.SockSite(self._runner, self._socket, **options)
        if self._unix_socket is not None:
            return web.SockSite(self._runner, self._bind_unix_socket(), **options)
        return web.TCPSite(self._runner, self._host, self._port, **options)

    def _bind_unix_socket(self) -> socket_module.socket:
        """Bind the unix socket and set its permissions before it starts listening."""
        assert self._unix_socket is not None
        path = self._unix_socket
        # A socket file left by a server that did not stop cleanly would make bind() fail;
        # asyncio's create_unix_server() removes it the same way. Other files are kept.
        with contextlib.suppress(FileNotFoundError):
            if stat.S_ISSOCK(os.stat(path).st_mode):
                os.unlink(path)
        sock = socket_module.socket(socket_module.AF_UNIX, socket_module.SOCK_STREAM)
        try:
            sock.bind(path)
            try:
                # Until listen() runs, connecting is refused: nobody gets in before the chmod.
                os.chmod(path, self._unix_socket_perms)
                self._unix_socket_inode = os.stat(path).st_ino
            except OSError:
                os.unlink(path)
                raise
        except OSError:
            sock.close()
            raise
        return sock

    def _remove_unix_socket(self) -> None:
        """Remove the socket file this server created, unless another one took its path."""
        if self._unix_socket is None or self._unix_socket_inode is None:
            return
        with contextlib.suppress(FileNotFoundError):
            if os.stat(self._unix_socket).st_ino == self._unix_socket_inode:
                os.unlink(self._unix_socket)
        self._unix_socket_inode = None

    def _describe_target(self) -> str:
        if self._socket is not None:
            return describe_address(self._socket.getsockname(), self.scheme)
        if self._unix_socket is not None:
            return describe_address(self._unix_socket)
        return describe_address((self._host, self._port), self.scheme)


def _listen_error(target: str, exc: OSError | UnicodeError) -> tuple[int | None, str]:
    """The errno and message for an address that cannot be used, naming the address."""
    if isinstance(exc, UnicodeError):  # a host name IDNA cannot encode, like "bad..host"
        return None, f"cannot listen on {target}: not a valid host name"
    # asyncio's message repeats the address; the system's own reason is enough.
    if exc.errno is not None and exc.errno > 0:
        reason = os.strerror(exc.errno)
    else:
        reason = exc.strerror or str(exc)
    return exc.errno, f"cannot listen on {target}: {reason}"


def describe_address(address: Address, scheme: str = "http") -> str:
    """Show a socket address as a URL for TCP, and as ``unix:PATH`` for a unix socket."""
    if isinstance(address, str):
        return f"unix:{address}"
    host, port = address[0], address[1]
    if ":" in host:
        host = f"[{host}]"
    return f"{scheme}://{host}:{port}"
