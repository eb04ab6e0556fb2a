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
import stat
import sys
import threading
import time
import weakref
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import Any
from wsgiref.types import WSGIApplication

from aiohttp import WSCloseCode, web
from aiohttp.typedefs import Handler

from aiodjango.wsgi import WSGIHandler, add_wsgi_route

__all__ = [
    "WEBSOCKETS",
    "Server",
    "close_websockets_on_shutdown",
    "configure_server",
    "leave_stuck_threads_behind",
    "serve",
    "watch_websocket",
]

logger = logging.getLogger(__name__)

#: Every websocket the application has prepared, so a shutdown can close them with 1001.
#: Filled automatically (see :func:`close_websockets_on_shutdown` and :func:`watch_websocket`).
WEBSOCKETS = web.AppKey("aiodjango.websockets", weakref.WeakSet[web.WebSocketResponse])
#: How long closing the websockets may take at shutdown, when no Server sets its own bound.
WEBSOCKET_CLOSE_TIMEOUT = 10.0
_CLOSE_TIMEOUT = web.AppKey("aiodjango.websocket_close_timeout", float)

#: An address as the socket reports it: a path for a unix socket, (host, port, ...) for TCP.
Address = str | tuple[Any, ...]
#: An extra aiohttp route: (method, path, handler).
Route = tuple[str, str, Handler | type[web.View]]
#: A static route: (URL prefix, directory).
StaticRoute = tuple[str, "str | os.PathLike[str]"]
#: A zero-argument callback run once at shutdown; it may be a coroutine function.
FinishCallback = Callable[[], object]

# The keyword arguments configure_server() passes on to WSGIHandler, known once.
_HANDLER_OPTIONS = frozenset(
    name
    for name, parameter in inspect.signature(WSGIHandler).parameters.items()
    if parameter.kind is inspect.Parameter.KEYWORD_ONLY
)


def configure_server(
    application: WSGIApplication,
    *,
    host: str = "0.0.0.0",
    port: int = 8080,
    unix_socket: str | os.PathLike[str] | None = None,
    unix_socket_perms: int = 0o600,
    socket: socket_module.socket | None = None,
    backlog: int = 1024,
    routes: Iterable[Route] = (),
    static: Iterable[StaticRoute] = (),
    on_finish: Iterable[FinishCallback] = (),
    script_name: str = "",
    shutdown_timeout: float = 60.0,
    **handler_kwargs: Any,
) -> Server:
    """Build the aiohttp application serving ``application`` and a :class:`Server` for it.

    Static routes and extra routes come first; the WSGI application is mounted at
    ``script_name`` and gets every other URL under it. Other keyword arguments go to
    :class:`~aiodjango.wsgi.WSGIHandler`. Nothing listens until :meth:`Server.start`.
    """
    unknown = sorted(set(handler_kwargs) - _HANDLER_OPTIONS)
    if unknown:
        raise TypeError(f"configure_server() got an unexpected keyword argument {unknown[0]!r}")
    app = web.Application()
    for prefix, directory in static:
        app.router.add_static(prefix, directory)
    for method, path, view in routes:
        app.router.add_route(method, path, view)
    handler = WSGIHandler(application, **handler_kwargs)
    try:
        add_wsgi_route(app.router, handler, script_name)
    except BaseException:
        handler.shutdown(wait=False)
        raise

    finish_callbacks = tuple(on_finish)

    async def finish(app: web.Application) -> None:
        # Requests still running after shutdown_timeout were abandoned: don't wait for them.
        handler.shutdown(wait=False)
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


def serve(application: WSGIApplication, **kwargs: Any) -> None:
    """Serve ``application`` until SIGINT or SIGTERM, then stop gracefully.

    Takes the arguments of :func:`configure_server`; logs the addresses it serves on.
    """
    server = configure_server(application, **kwargs)
    asyncio.run(server.run())


class Server:
    """An aiohttp application bound to one listening address, started and stopped on demand.

    Listen on ``socket`` if given (an already bound socket; the caller owns it), else on the
    unix socket ``unix_socket``, else on TCP ``host``:``port`` (``port=0`` picks a free port:
    read :attr:`addresses` or :attr:`port` after :meth:`start`).
    """

    def __init__(
        self,
        app: web.Application,
        *,
        host: str = "0.0.0.0",
        port: int = 8080,
        unix_socket: str | os.PathLike[str] | None = None,
        unix_socket_perms: int = 0o600,
        socket: socket_module.socket | None = None,
        backlog: int = 1024,
        shutdown_timeout: float = 60.0,
    ) -> None:
        if unix_socket is not None and socket is not None:
            raise ValueError("give unix_socket or socket, not both")
        if shutdown_timeout < 0:
            raise ValueError(f"shutdown_timeout must be >= 0, not {shutdown_timeout!r}")
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
        self._runner = web.AppRunner(app, shutdown_timeout=shutdown_timeout)

    @property
    def addresses(self) -> list[Address]:
        """The addresses listened on while the server runs (empty before start and after stop)."""
        return list(self._runner.addresses)

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
        return [describe_address(address) for address in self.addresses]

    async def start(self) -> None:
        """Start listening; raise OSError naming the address if it cannot be used."""
        if self._started:
            raise RuntimeError("this server was already started")
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

    async def run(self) -> None:
        """Start, serve until SIGINT or SIGTERM, then stop gracefully."""
        loop = asyncio.get_running_loop()
        stopping = asyncio.Event()

        def on_signal(signum: signal.Signals) -> None:
            if stopping.is_set():
                logger.warning("%s: already shutting down", signum.name)
                return
            logger.info(
                "%s: shutting down, waiting up to %g s for requests in flight",
                signum.name,
                self.shutdown_timeout,
            )
            stopping.set()

        handled = (signal.SIGINT, signal.SIGTERM)
        for signum in handled:
            loop.add_signal_handler(signum, on_signal, signum)
        try:
            await self.start()
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
        if self._socket is not None:
            return web.SockSite(self._runner, self._socket, backlog=self._backlog)
        if self._unix_socket is not None:
            return web.SockSite(self._runner, self._bind_unix_socket(), backlog=self._backlog)
        return web.TCPSite(self._runner, self._host, self._port, backlog=self._backlog)

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
            return describe_address(self._socket.getsockname())
        if self._unix_socket is not None:
            return describe_address(self._unix_socket)
        return describe_address((self._host, self._port))


def close_websockets_on_shutdown(
    app: web.Application,
    timeout: float = WEBSOCKET_CLOSE_TIMEOUT,
    *,
    watch_responses: bool = True,
) -> None:
    """Close every websocket ``app`` serves with code 1001 (going away) when it shuts down.

    However the application is run (:class:`Server`, ``runserver``, gunicorn's aiohttp worker),
    its ``on_shutdown`` signal comes before requests in flight are waited for, so clients hear
    that the server is leaving instead of seeing their connection cut. Closing waits at most
    ``timeout`` seconds for the clients' replies. Calling this again only changes ``timeout``.

    With ``watch_responses`` every response the application prepares is looked at, through
    aiohttp's ``on_response_prepare`` signal, which costs each request a little. Without it,
    only the requests given to :func:`watch_websocket` are: ``get_aio_application()`` does this
    for the websocket handshakes of lifted views, so its other requests pay nothing.
    """
    if WEBSOCKETS in app:
        app[_CLOSE_TIMEOUT] = timeout
        return
    websockets: weakref.WeakSet[web.WebSocketResponse] = weakref.WeakSet()
    app[WEBSOCKETS] = websockets
    app[_CLOSE_TIMEOUT] = timeout

    async def track(request: web.Request, response: web.StreamResponse) -> None:
        # Bound to this application's set: a websocket served by a sub-application is
        # announced here too, with request.app naming the sub-application.
        if isinstance(response, web.WebSocketResponse):
            websockets.add(response)

    if watch_responses:
        app.on_response_prepare.append(track)
    app.on_shutdown.append(_close_websockets)


def watch_websocket(request: web.Request) -> None:
    """Have the websocket prepared in answer to ``request`` closed when the application stops.

    For handlers of an application set up with ``watch_responses=False`` (such as
    ``get_aio_application()``'s) that open websockets; call it before preparing the response.
    The nearest application with :func:`close_websockets_on_shutdown` set up closes it.
    """
    if type(request) is web.Request:
        # aiohttp tells no one else that a response is being prepared: the request's class
        # becomes one that does, for this request alone (same layout, one method more).
        request.__class__ = _WatchedRequest


class _WatchedRequest(web.Request):
    """A request whose websocket response joins :data:`WEBSOCKETS` as it is prepared."""

    __slots__ = ()

    async def _prepare_hook(self, response: web.StreamResponse) -> None:
        if isinstance(response, web.WebSocketResponse):
            websockets = self.config_dict.get(WEBSOCKETS)
            if websockets is not None:
                websockets.add(response)
        await super()._prepare_hook(response)


async def _close_websockets(app: web.Application) -> None:
    """Close every open websocket with 1001, all at once, waiting a bounded time for replies."""
    # A websocket still in its handshake is not prepared yet and cannot be closed; its handler
    # is cancelled with the other requests in flight once the shutdown timeout has passed.
    open_websockets = [ws for ws in app[WEBSOCKETS] if ws.prepared and not ws.closed]
    if not open_websockets:
        return
    logger.info("closing %d websocket(s)", len(open_websockets))
    closing = [
        asyncio.ensure_future(ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutdown"))
        for ws in open_websockets
    ]
    # close() waits for the client's reply; a client that never answers must not hold the
    # shutdown longer than the bound.
    _, pending = await asyncio.wait(closing, timeout=app[_CLOSE_TIMEOUT])
    for task in pending:
        task.cancel()


def leave_stuck_threads_behind(grace: float = 1.0) -> None:
    """Exit the process at once (status 0) if threads are still busy after a server stopped.

    A WSGI request stuck in the application past ``shutdown_timeout`` keeps its worker thread,
    and the interpreter would wait for it at exit (thread pools join their threads): a request
    stuck forever would keep the process alive. Idle threads get ``grace`` seconds to end.
    Call this after the server has stopped, when the process has nothing else to do.
    """
    deadline = time.monotonic() + grace
    stuck = []
    for thread in threading.enumerate():
        if thread is threading.main_thread() or thread.daemon:
            continue
        thread.join(max(0.0, deadline - time.monotonic()))
        if thread.is_alive():
            stuck.append(thread.name)
    if stuck:
        logger.warning("exiting without waiting for busy threads: %s", ", ".join(stuck))
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


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


def describe_address(address: Address) -> str:
    """Show a socket address as a URL for TCP, and as ``unix:PATH`` for a unix socket."""
    if isinstance(address, str):
        return f"unix:{address}"
    host, port = address[0], address[1]
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"
