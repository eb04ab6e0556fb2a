"""The WSGI adapter: serve any PEP 3333 application (Django, Flask, a bare callable) from aiohttp.

A request takes three steps. On the event loop, the whole body is read (memory, then a temporary
file, within a budget shared by all requests and a deadline, so a slow client never holds a
thread) and the environ is built. On one worker thread, the
application is called, its body iterated and its ``close()`` called, exactly once. Back on the
loop, what the thread produced is written (:mod:`aiodjango.wsgi.sending`): a complete body in one
write, a regular file with sendfile, anything else block by block through a bounded buffer, with
a deadline on each write so that a client that stops reading releases its thread.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import re
import sys
import traceback
from collections.abc import Callable, Iterable
from functools import partial
from typing import IO, TYPE_CHECKING, Any, Final

from aiohttp import web
from aiohttp.http import HttpVersion11
from aiohttp.http_exceptions import HttpProcessingError

from .body import EMPTY_INPUT, BodyBudget, BodyRefused, InputStream, NoRoom, read_body
from .environ import make_environ
from .exchange import STARTED, WAITING, ClientGone, Exchange, FileWrapper, LoopWaker
from .sending import plain, respond
from .workers import WorkerThreads

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication, WSGIEnvironment

__all__ = [
    "DEFAULT_BODY_MIN_RATE",
    "DEFAULT_BODY_TIMEOUT",
    "DEFAULT_INBUF_OVERFLOW",
    "DEFAULT_MAX_QUEUED",
    "DEFAULT_MAX_REQUEST_BODIES_IN_MEMORY",
    "DEFAULT_MAX_REQUEST_BODIES_SIZE",
    "DEFAULT_MAX_REQUEST_BODY_SIZE",
    "DEFAULT_OUTBUF_OVERFLOW",
    "DEFAULT_SEND_TIMEOUT",
    "DEFAULT_THREADS",
    "RETRY_AFTER",
    "WSGIHandler",
    "add_wsgi_route",
    "check_script_name",
]

logger = logging.getLogger("aiodjango.wsgi")

DEFAULT_THREADS: Final = 8
"""Worker threads in the adapter's own pool: at most this many requests run the app at once."""
DEFAULT_INBUF_OVERFLOW: Final = 512 * 1024
"""Request bodies larger than this are spooled to a temporary file instead of memory."""
DEFAULT_MAX_REQUEST_BODY_SIZE: Final = 1024**3
"""Request bodies larger than this get 413 without reaching the application."""
DEFAULT_MAX_REQUEST_BODIES_SIZE: Final = 2 * 1024**3
"""Request body bytes held at once by all requests (memory and disk); past it, 503."""
DEFAULT_MAX_REQUEST_BODIES_IN_MEMORY: Final = 64 * 1024**2
"""Request body bytes held in memory at once by all requests; past it, bodies go to disk."""
DEFAULT_BODY_TIMEOUT: Final = 20.0
"""Seconds a request body may take, plus one per ``DEFAULT_BODY_MIN_RATE`` bytes received."""
DEFAULT_BODY_MIN_RATE: Final = 500
"""Bytes per second that earn a request body one more second (Apache's mod_reqtimeout rule)."""
DEFAULT_OUTBUF_OVERFLOW: Final = 4 * 1024**2
"""A streaming worker waits while more than this many response bytes are queued unsent."""
DEFAULT_SEND_TIMEOUT: Final = 30.0
"""A streamed response whose client takes nothing for this many seconds is cut off."""
DEFAULT_MAX_QUEUED: Final = 128
"""Requests that may wait for a worker thread; past that, new ones get 503 at once."""
RETRY_AFTER: Final = "1"
"""The Retry-After value (seconds) sent with a 503 when the queue is full."""


class WSGIHandler:
    """An aiohttp handler that serves a WSGI application; mount it with :func:`add_wsgi_route`.

    Called directly, it serves the application mounted at the root (SCRIPT_NAME "").
    """

    def __init__(
        self,
        application: WSGIApplication,
        *,
        url_scheme: str | None = None,
        stderr: IO[str] | None = None,
        executor: concurrent.futures.Executor | None = None,
        threads: int = DEFAULT_THREADS,
        inbuf_overflow: int = DEFAULT_INBUF_OVERFLOW,
        max_request_body_size: int = DEFAULT_MAX_REQUEST_BODY_SIZE,
        outbuf_overflow: int = DEFAULT_OUTBUF_OVERFLOW,
        max_queued: int = DEFAULT_MAX_QUEUED,
        max_request_bodies_size: int = DEFAULT_MAX_REQUEST_BODIES_SIZE,
        max_request_bodies_in_memory: int = DEFAULT_MAX_REQUEST_BODIES_IN_MEMORY,
        body_timeout: float = DEFAULT_BODY_TIMEOUT,
        body_min_rate: int = DEFAULT_BODY_MIN_RATE,
        send_timeout: float = DEFAULT_SEND_TIMEOUT,
        multiprocess: bool = False,
    ) -> None:
        if url_scheme not in (None, "http", "https"):
            raise ValueError(f"url_scheme must be 'http', 'https' or None, got {url_scheme!r}")
        for name, value, low in (
            ("threads", threads, 1),
            ("inbuf_overflow", inbuf_overflow, 0),
            ("max_request_body_size", max_request_body_size, 0),
            ("outbuf_overflow", outbuf_overflow, 0),
            ("max_queued", max_queued, 0),
            ("max_request_bodies_size", max_request_bodies_size, 0),
            ("max_request_bodies_in_memory", max_request_bodies_in_memory, 0),
            ("body_min_rate", body_min_rate, 0),
        ):
            if not isinstance(value, int) or value < low:
                raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
        for name, duration in (("body_timeout", body_timeout), ("send_timeout", send_timeout)):
            if (
                not isinstance(duration, (int, float))
                or isinstance(duration, bool)
                or not 0 < duration < float("inf")
            ):
                raise ValueError(f"{name} must be a number of seconds > 0, got {duration!r}")
        self.application = application
        self._own_executor: WorkerThreads | None = None
        self._dispatch: Callable[..., object]
        if executor is None:
            executor = self._own_executor = WorkerThreads(threads)
            self._dispatch = self._own_executor.call
        else:
            self._dispatch = executor.submit
        self._executor = executor
        self._stderr = stderr  # tracebacks go there too, when given
        self._inbuf_overflow = inbuf_overflow
        self._max_body = max_request_body_size
        self._outbuf_overflow = outbuf_overflow
        self._budget = BodyBudget(max_request_bodies_size, max_request_bodies_in_memory)
        self._body_timeout = float(body_timeout)
        self._body_min_rate = body_min_rate
        self._send_timeout = float(send_timeout)
        # Requests handed to the executor and not finished there yet; past ``threads`` of them,
        # they are waiting for a thread.
        self._busy = 0
        self._release = self._release_slot  # bound once, not per request
        self._capacity = threads + max_queued
        self._wakers: dict[asyncio.AbstractEventLoop, LoopWaker] = {}
        self._base_environ: dict[str, Any] = {
            "wsgi.version": (1, 0),
            "wsgi.errors": sys.stderr if stderr is None else stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": multiprocess,
            "wsgi.run_once": False,
            "wsgi.input_terminated": True,
            "wsgi.file_wrapper": FileWrapper,
            "asyncio.executor": self._executor,
        }
        if url_scheme is not None:
            self._base_environ["wsgi.url_scheme"] = url_scheme

    async def __call__(self, request: web.Request) -> web.StreamResponse:
        return await self._handle("", request)

    def shutdown(self, wait: bool = True) -> None:
        """Stop the adapter's own thread pool (an executor passed in is left alone)."""
        if self._own_executor is not None:
            self._own_executor.shutdown(wait=wait)

    def shutdown_on_cleanup(self, app: web.Application) -> None:
        """Stop the thread pool when ``app`` is cleaned up, after its server stopped.

        Requests still running after the server's shutdown timeout were abandoned: it does not
        wait for them (``leave_stuck_threads_behind()`` deals with their threads).
        """

        async def shutdown(app: web.Application) -> None:
            self.shutdown(wait=False)

        app.on_cleanup.append(shutdown)

    def _release_slot(self) -> None:
        self._busy -= 1

    def _waker(self, loop: asyncio.AbstractEventLoop) -> LoopWaker:
        waker = self._wakers.get(loop)
        if waker is None:
            # A new loop (tests start one per test): forget the closed ones.
            self._wakers = {old: w for old, w in self._wakers.items() if not old.is_closed()}
            waker = self._wakers[loop] = LoopWaker(loop)
        return waker

    async def _expect(self, request: web.Request) -> web.StreamResponse | None:
        """Answer ``Expect: 100-continue`` with a refusal at once when the body would be."""
        length = request.content_length
        if length is not None and length > self._max_body:
            return self._refuse(413, "Request body too large\n")
        if length is not None and length > self._budget.room():
            return self._refuse(503, NoRoom().args[0])
        if self._busy >= self._capacity:
            return self._overloaded()
        if request.version == HttpVersion11:
            if request.headers.get("Expect", "").lower() != "100-continue":
                raise web.HTTPExpectationFailed(text="only 100-continue is supported")
            await request.writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            request.writer.output_size = 0  # the real response has not started
        return None

    async def _handle(self, script_name: str, request: web.Request) -> web.StreamResponse:
        if self._busy >= self._capacity:
            return self._overloaded()
        if not request.body_exists:  # most requests: no coroutine to run for the body
            body, size, in_memory = EMPTY_INPUT, 0, True
        else:
            received = await self.receive_body(request)
            if isinstance(received, web.Response):
                return received
            body, size, in_memory = received
        try:
            environ = make_environ(self._base_environ, request, script_name, body, size)
        except BaseException:
            self.close_body(body, size, in_memory)
            raise
        if self._busy >= self._capacity:
            self.close_body(body, size, in_memory)
            return self._overloaded()
        exchange = Exchange(
            self._waker(asyncio.get_running_loop()),
            request.method == "HEAD",
            self._outbuf_overflow,
            self._release,
        )
        try:
            self._dispatch(self._work, environ, exchange, body, size, in_memory)
        except RuntimeError:  # the executor is shut down: the server is stopping
            self.close_body(body, size, in_memory)
            return plain(503, "Server shutting down\n")
        self._busy += 1
        try:
            await exchange.waiter
            return await respond(request, exchange, self._send_timeout)
        except BaseException:
            exchange.abandon()
            raise

    # The request body, read on the loop; Django's async views read theirs here too.

    @property
    def send_timeout(self) -> float:
        """Seconds a streamed response may wait for its client to take anything."""
        return self._send_timeout

    async def receive_body(
        self, request: web.BaseRequest
    ) -> tuple[InputStream, int, bool] | web.Response:
        """Read the body of ``request`` within this adapter's limits: its size, the budget
        shared by all requests, the deadline. Return it with its size and whether it is in
        memory (give it back with :meth:`close_body`), or the response refusing it."""
        try:
            return await read_body(
                request,
                self._inbuf_overflow,
                self._max_body,
                self._budget,
                self._body_timeout,
                self._body_min_rate,
            )
        except BodyRefused as refused:
            return self._refuse(refused.status, refused.args[0])
        except ConnectionError:  # the client went away mid-upload
            return plain(400, "Incomplete request body\n")
        except HttpProcessingError:  # the body's framing broke mid-way
            return self._refuse(400, "Malformed request body\n")

    def close_body(self, body: InputStream, size: int, in_memory: bool) -> None:
        """Close a body :meth:`receive_body` read and give its bytes back (from any thread)."""
        body.close()
        if size:
            self._budget.give_back(size, size if in_memory else 0)

    # The worker thread: call, iterate, close.

    def _work(
        self,
        environ: WSGIEnvironment,
        exchange: Exchange,
        body: InputStream,
        size: int,
        in_memory: bool,
    ) -> None:
        try:
            result = self.application(environ, exchange.start_response)
        except BaseException as exc:
            self._fail(exchange, environ, exc)
        else:
            try:
                self._consume(result, exchange)
            except BaseException as exc:
                self._fail(exchange, environ, exc)
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    try:
                        close()
                    except BaseException as exc:
                        self._fail(exchange, environ, exc)
        finally:
            self.close_body(body, size, in_memory)
            exchange.finish()

    @staticmethod
    def _consume(result: Iterable[bytes], exchange: Exchange) -> None:
        state = exchange.state
        if state is STARTED or state is WAITING:
            kind = type(result)
            # Complete already (a list, a Django HttpResponse): one hop, one write.
            if kind is list or kind is tuple or getattr(result, "streaming", None) is False:
                exchange.complete(b"".join(result))
                return
            if kind is FileWrapper and exchange.take_file(result):  # type: ignore[arg-type]
                return
        for block in result:
            if block and not exchange.push(block):
                break
        exchange.end()

    def _fail(self, exchange: Exchange, environ: WSGIEnvironment, exc: BaseException) -> None:
        exchange.fail()
        if isinstance(exc, ClientGone):
            return
        logger.error(
            "WSGI application failed on %s %s",
            environ.get("REQUEST_METHOD"),
            environ.get("PATH_INFO"),
            exc_info=exc,
        )
        if self._stderr is not None:
            traceback.print_exception(exc, file=self._stderr)

    # Refusals, sent without involving a worker thread.

    @staticmethod
    def _refuse(status: int, text: str) -> web.Response:
        """Refuse a body that will not be read to its end; the connection closes after it."""
        if status == 503:
            response = plain(status, text, **{"Retry-After": RETRY_AFTER})
        else:
            response = plain(status, text)
        response.force_close()  # the rest of the body is not worth reading
        return response

    @staticmethod
    def _overloaded() -> web.Response:
        return plain(503, "Server busy, retry later\n", **{"Retry-After": RETRY_AFTER})


_SCRIPT_NAME: Final = re.compile(r"(?:/[A-Za-z0-9._~!$&'()*+,;=:@-]+)+").fullmatch


def check_script_name(script_name: str) -> None:
    """Raise ValueError unless ``script_name`` is a mount prefix: ``""`` or ``"/a/b"`` (the
    lifted routes and the WSGI application of a project share it)."""
    if script_name and (not isinstance(script_name, str) or _SCRIPT_NAME(script_name) is None):
        raise ValueError(
            f"script_name must be empty or start with '/' and not end with '/' (ASCII path "
            f"characters only, no '%', '{{', '}}', '//'), got {script_name!r}"
        )


def add_wsgi_route(
    router: web.UrlDispatcher, handler: WSGIHandler, script_name: str = ""
) -> web.AbstractRoute:
    """Mount ``handler`` at ``script_name``: it takes ``script_name`` and ``script_name + "/..."``
    for every method, and nothing else (not ``script_name + "-other"``).

    SCRIPT_NAME is ``script_name``; PATH_INFO is the rest of the path.
    """
    check_script_name(script_name)
    # (?s:...): an encoded newline (%0A) is part of a path like any other character.
    path = script_name + "{path_info:(?s:(?:/.*)?)}" if script_name else "/{path_info:(?s:.*)}"
    return router.add_route(
        "*", path, partial(handler._handle, script_name), expect_handler=handler._expect
    )
