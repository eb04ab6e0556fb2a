"""Every use of a private aiohttp, Django or Python API, each with its assumption asserted,
and the differences between the versions we support.

aiodjango uses public APIs where one exists. The few things below have no public way; they
live here so that an upgrade that breaks one fails at import, naming the assumption, instead
of misbehaving at request time. CI runs the oldest and newest versions we support.

This module imports no Django module (the WSGI adapter and the server use it): the
assumptions about Django are asserted by :func:`check_django`, which the Django-facing modules
(``aiodjango.routing``, ``aiodjango.lifted``) call when they are imported.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import inspect
import os
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web, web_response
from asgiref.sync import AsyncToSync, SyncToAsync

if TYPE_CHECKING:
    import sre_constants as regex_constants
    import sre_parse as regex_parser

    from aiohttp.web_urldispatcher import _InfoDict as ResourceInfo
    from django.db.backends.base.base import BaseDatabaseWrapper
    from django.http import HttpRequest
    from django.http.response import HttpResponseBase
    from django.middleware.csrf import CsrfViewMiddleware
    from django.urls.resolvers import RegexPattern, RoutePattern
else:
    from re import _constants as regex_constants
    from re import _parser as regex_parser

    # What an aiohttp resource's get_info() returns: a private TypedDict, for type checkers only.
    ResourceInfo = dict

__all__ = [
    "AIOHTTP_WEBSOCKET_MAX_MSG_SIZE",
    "CsrfRejected",
    "Latin1Response",
    "Latin1StreamResponse",
    "RequestKey",
    "ResourceInfo",
    "check_django",
    "csrf_check_class",
    "fill_websocket_defaults",
    "has_thread_sensitive_executor",
    "is_endpoint",
    "pattern_text",
    "regex_constants",
    "regex_parser",
    "register_thread_exit_hook",
    "run_async_to_sync_on",
    "run_thread_sensitive_calls_in",
    "set_default_server_header",
    "stop_running_thread_sensitive_calls_in",
    "thread_sensitive_executor",
    "watch_cursor_creation",
    "watch_prepare",
]


# --- Python --------------------------------------------------------------------------------

# The regex parser the ``re`` module itself uses (``sre_parse`` before 3.11): the routing part
# reads what a URL pattern's regex is made of with it, once at startup.
assert regex_parser.parse("^a(?P<b>c)$").state.groupdict == {"b": 1}, (
    "re._parser.parse() no longer gives named groups in .state.groupdict: "
    "aiodjango.routing.regexes needs a new way to read a pattern"
)
assert all(
    hasattr(regex_constants, name)
    for name in ("AT", "AT_BEGINNING", "AT_END", "LITERAL", "SUBPATTERN", "BRANCH", "MAXREPEAT")
), "re._constants lacks an opcode aiodjango.routing.regexes reads"

# ``threading._register_atexit(function)``: run ``function`` just before the interpreter joins
# non-daemon threads at exit, as concurrent.futures' thread pools do to stop their workers.
# There is no public hook that runs early enough (atexit handlers run after the join).
assert callable(getattr(threading, "_register_atexit", None)), (
    "threading._register_atexit() is gone: aiodjango.wsgi.workers needs a new way to stop "
    "its worker threads at exit"
)


def register_thread_exit_hook(function: Callable[[], None]) -> None:
    """Call ``function`` at exit, before the interpreter waits for non-daemon threads."""
    threading._register_atexit(function)  # type: ignore[attr-defined]


# --- aiohttp -------------------------------------------------------------------------------

# aiohttp 3.13 added typed request keys; 3.12 takes plain string keys for request storage.
if TYPE_CHECKING or hasattr(web, "RequestKey"):
    from aiohttp.web import RequestKey
else:

    class RequestKey(str):
        """A request storage key for aiohttp 3.12, where keys are plain strings."""

        __slots__ = ()

        def __new__(cls, name: str, kind: object = None) -> RequestKey:
            return super().__new__(cls, name)


# aiohttp: a request is told when a response to it is prepared, through the coroutine method
# ``Request._prepare_hook(response)`` (it sends ``on_response_prepare``). There is no public
# per-request hook; the app-wide signal costs every response of the app.
assert inspect.iscoroutinefunction(getattr(web.Request, "_prepare_hook", None)), (
    "aiohttp.web.Request._prepare_hook(response) is gone: aiodjango.server.websockets needs a "
    "new way to see websockets being prepared"
)

PrepareCallback = Callable[[web.Request, web.StreamResponse], None]

_watched_classes: dict[PrepareCallback, type[web.Request]] = {}


def watch_prepare(request: web.Request, callback: PrepareCallback) -> None:
    """Call ``callback(request, response)`` as a response to ``request`` is prepared.

    Only this request pays for it: its class becomes a subclass of ``web.Request`` (same
    layout, one method more), set with ``object.__setattr__`` because aiohttp's debug mode
    warns about attributes set on requests.
    """
    if type(request) is not web.Request:
        return
    watched = _watched_classes.get(callback)
    if watched is None:
        watched = _watched_classes[callback] = _watching_class(callback)
    object.__setattr__(request, "__class__", watched)


def _watching_class(callback: PrepareCallback) -> type[web.Request]:
    class WatchedRequest(web.Request):
        __slots__ = ()

        async def _prepare_hook(self, response: web.StreamResponse) -> None:
            callback(self, response)
            await super()._prepare_hook(response)

    return WatchedRequest


# aiohttp: a ``WebSocketResponse`` keeps its constructor's ``heartbeat`` in ``_heartbeat`` (and
# half of it in ``_pong_heartbeat``) and ``max_msg_size`` in ``_max_msg_size``, and reads them
# only in ``_post_start()``, which ``prepare()`` calls after the request's ``_prepare_hook``.
# There is no public way to give the websockets that views make themselves a server-wide default.
_WS_PARAMETERS = inspect.signature(web.WebSocketResponse).parameters
#: aiohttp's own defaults: a websocket still holding one was given no value by its view.
AIOHTTP_WEBSOCKET_HEARTBEAT = _WS_PARAMETERS["heartbeat"].default
AIOHTTP_WEBSOCKET_MAX_MSG_SIZE = _WS_PARAMETERS["max_msg_size"].default
_probe = web.WebSocketResponse(heartbeat=3.0, max_msg_size=5)
assert (
    AIOHTTP_WEBSOCKET_HEARTBEAT is None
    and isinstance(AIOHTTP_WEBSOCKET_MAX_MSG_SIZE, int)
    and (_probe._heartbeat, _probe._pong_heartbeat, _probe._max_msg_size) == (3.0, 1.5, 5)
    and {"_pre_start", "_post_start"} <= set(web.WebSocketResponse.prepare.__code__.co_names)
    and {"_max_msg_size", "_reset_heartbeat"}
    <= set(web.WebSocketResponse._post_start.__code__.co_names)
    and "_heartbeat" in web.WebSocketResponse._reset_heartbeat.__code__.co_names
), (
    "aiohttp.web.WebSocketResponse no longer keeps heartbeat and max_msg_size in _heartbeat, "
    "_pong_heartbeat and _max_msg_size until prepare(): aiodjango.server.websocket_defaults "
    "needs a new way to apply its defaults"
)
del _probe


def fill_websocket_defaults(
    websocket: web.WebSocketResponse, heartbeat: float | None, max_msg_size: int
) -> None:
    """Give ``websocket``, before its handshake is sent, the values its view left at aiohttp's
    defaults: ``heartbeat`` (None: none) and ``max_msg_size`` (0: no limit)."""
    if heartbeat is not None and websocket._heartbeat is None:
        websocket._heartbeat = heartbeat
        websocket._pong_heartbeat = heartbeat / 2.0
    if websocket._max_msg_size == AIOHTTP_WEBSOCKET_MAX_MSG_SIZE:
        websocket._max_msg_size = max_msg_size


# aiohttp: a response's status line and headers are written by the coroutine method
# ``StreamResponse._write_headers()``, called once from ``prepare()`` after the headers are
# final; it serializes them as UTF-8. PEP 3333 header values and reasons are latin-1, and
# aiohttp has no public way to send the bytes 0x80-0xff in a head.
assert inspect.iscoroutinefunction(getattr(web.StreamResponse, "_write_headers", None)), (
    "aiohttp.web.StreamResponse._write_headers() is gone: aiodjango.wsgi needs a new way to "
    "send latin-1 header values"
)


class _Latin1Head:
    """Writes the head as latin-1 bytes straight to the transport, instead of UTF-8."""

    latin1_request: web.BaseRequest

    async def _write_headers(self) -> None:
        response: web.StreamResponse = self  # type: ignore[assignment]
        request = self.latin1_request
        major, minor = request.version
        lines = [f"HTTP/{major}.{minor} {response.status} {response.reason}"]
        lines += [f"{name}: {value}" for name, value in response.headers.items()]
        transport = request.transport
        if transport is None:
            raise ConnectionResetError("Connection lost")
        transport.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))


class Latin1StreamResponse(_Latin1Head, web.StreamResponse):
    """A ``StreamResponse`` for ``request`` whose reason and header values go out as latin-1."""

    def __init__(self, request: web.BaseRequest, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.latin1_request = request


class Latin1Response(_Latin1Head, web.Response):
    """A ``Response`` for ``request`` whose reason and header values go out as latin-1."""

    def __init__(self, request: web.BaseRequest, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.latin1_request = request


# aiohttp: a response without a Server header gets the module global
# ``aiohttp.web_response.SERVER_SOFTWARE`` (``Python/3.x aiohttp/3.y``), read when its headers
# are prepared, for every response including the parser's own 400s. There is no option for it,
# and a per-response hook would cost every response.
assert "SERVER_SOFTWARE" in web.StreamResponse._prepare_headers.__code__.co_names and isinstance(
    getattr(web_response, "SERVER_SOFTWARE", None), str
), (
    "aiohttp.web_response.SERVER_SOFTWARE no longer sets the default Server header: "
    "aiodjango.server.identity needs a new way to set it"
)


def set_default_server_header(value: str) -> None:
    """The ``Server`` header of every response of this process that sets none."""
    web_response.SERVER_SOFTWARE = value  # type: ignore[attr-defined]


# asgiref: ``async_to_sync`` called in a thread with no running loop looks for the loop to run
# on in ``SyncToAsync.threadlocal`` (``main_event_loop`` and ``main_event_loop_pid``), which
# ``SyncToAsync`` sets for its own threads: when it is called (current asgiref) or when
# it is made (3.7, whose ``__init__`` looks). Threads that asgiref did not start have no public
# way to name that loop; aiodjango.groups names the serving loop for its WSGI worker threads
# when a request starts, before the view makes or calls ``async_to_sync``.
assert {"main_event_loop", "main_event_loop_pid"} <= {
    *AsyncToSync.__init__.__code__.co_consts,
    *AsyncToSync.__call__.__code__.co_consts,
} and isinstance(SyncToAsync.threadlocal, threading.local), (
    "asgiref's AsyncToSync no longer finds its loop in SyncToAsync.threadlocal: "
    "aiodjango.groups needs a new way to run async_to_sync on the serving loop"
)


def run_async_to_sync_on(loop: asyncio.AbstractEventLoop) -> None:
    """Make ``async_to_sync`` in the current thread run its coroutine on ``loop``."""
    threadlocal = SyncToAsync.threadlocal
    if getattr(threadlocal, "main_event_loop", None) is not loop:
        threadlocal.main_event_loop = loop
        threadlocal.main_event_loop_pid = os.getpid()


# asgiref: ``sync_to_async(thread_sensitive=True)`` called on a running loop, outside
# ``async_to_sync`` and ``ThreadSensitiveContext``, runs in the executor that
# ``AsyncToSync.loop_thread_executors`` maps that loop to (``async_to_sync`` maps the loops it
# starts to their waiting thread), and otherwise in its one global thread. There is no public way
# to give a loop its thread-sensitive executor. asyncio: ``run_in_executor`` returns what
# ``executor.submit()`` returns when that is already a future of the loop (``wrap_future``);
# checked on the loop by :func:`run_thread_sensitive_calls_in`.
assert isinstance(getattr(AsyncToSync, "loop_thread_executors", None), dict) and (
    "loop_thread_executors" in SyncToAsync.__call__.__code__.co_names
), (
    "asgiref's SyncToAsync no longer looks for a loop's executor in "
    "AsyncToSync.loop_thread_executors: aiodjango.sync_thread needs a new way to run "
    "thread-sensitive calls"
)


def has_thread_sensitive_executor(loop: asyncio.AbstractEventLoop) -> bool:
    """Whether thread-sensitive calls on ``loop`` already go to an executor of their own."""
    return loop in AsyncToSync.loop_thread_executors


def run_thread_sensitive_calls_in(loop: asyncio.AbstractEventLoop, executor: Any) -> None:
    """Run the thread-sensitive ``sync_to_async`` calls made on ``loop`` (the running loop) in
    ``executor``, whose ``submit()`` returns futures of ``loop``."""
    probe = loop.create_future()
    assert asyncio.wrap_future(probe, loop=loop) is probe, (
        "asyncio.wrap_future() no longer passes a loop's own future through: "
        "aiodjango.sync_thread needs a new way to hand results to the loop"
    )
    AsyncToSync.loop_thread_executors[loop] = executor


# asgiref: outside those, thread-sensitive calls run in ``SyncToAsync.single_thread_executor``,
# a ``ThreadPoolExecutor`` of one thread for the whole process; there is no public way to
# reach that thread.
assert isinstance(
    getattr(SyncToAsync, "single_thread_executor", None), concurrent.futures.ThreadPoolExecutor
) and ("single_thread_executor" in SyncToAsync.__call__.__code__.co_names), (
    "asgiref's SyncToAsync.single_thread_executor is gone: aiodjango.sync_thread needs a new "
    "way to run calls in asgiref's thread-sensitive thread"
)


def thread_sensitive_executor() -> concurrent.futures.Executor:
    """asgiref's executor of its one thread-sensitive thread."""
    executor: concurrent.futures.Executor = SyncToAsync.single_thread_executor
    return executor


def stop_running_thread_sensitive_calls_in(loop: asyncio.AbstractEventLoop, executor: Any) -> None:
    """Undo :func:`run_thread_sensitive_calls_in` (if ``executor`` is still the one)."""
    if AsyncToSync.loop_thread_executors.get(loop) is executor:
        del AsyncToSync.loop_thread_executors[loop]


class CsrfRejected(Exception):
    """Django's CSRF checks refused a request; ``reason`` is Django's reason."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@functools.cache
def csrf_check_class() -> type[CsrfViewMiddleware]:
    """``CsrfViewMiddleware`` whose checks raise :class:`CsrfRejected` instead of answering.

    Django: every refusal of ``CsrfViewMiddleware.process_view`` goes through
    ``_reject(request, reason)``, which logs and renders ``CSRF_FAILURE_VIEW``. Lifted views run
    the checks on the event loop, where rendering (templates, maybe the database) must not
    happen; the subclass reports the refusal, and ``failure_response()`` renders Django's answer
    in a worker thread. Imported lazily, so that the WSGI adapter loads no Django;
    :mod:`aiodjango.lifted.csrf` calls this at its import, so the assertion runs then.
    """
    from django.middleware.csrf import CsrfViewMiddleware

    reject = getattr(CsrfViewMiddleware, "_reject", None)
    assert reject is not None and list(inspect.signature(reject).parameters) == [
        "self",
        "request",
        "reason",
    ], (
        "django.middleware.csrf.CsrfViewMiddleware._reject(request, reason) is gone: "
        "aiodjango.lifted.csrf needs a new way to hear of a CSRF refusal"
    )

    class ReportingCsrfCheck(CsrfViewMiddleware):
        def _reject(self, request: HttpRequest, reason: str) -> HttpResponseBase | None:
            raise CsrfRejected(reason)

        def failure_response(self, request: HttpRequest, reason: str) -> HttpResponseBase | None:
            """Django's own answer to the refusal: logged, ``CSRF_FAILURE_VIEW`` rendered."""
            return super()._reject(request, reason)  # type: ignore[misc,no-any-return]

    return ReportingCsrfCheck


# --- Django --------------------------------------------------------------------------------


def pattern_text(pattern: RoutePattern | RegexPattern) -> str | None:
    """The text a ``path()`` route or a ``re_path()`` regex was given, or None when it is a
    translated (lazy) string. Django keeps it in ``_route`` and ``_regex``; the public
    ``regex`` is compiled for the active language only."""
    text = pattern._route if hasattr(pattern, "_route") else getattr(pattern, "_regex", None)
    return text if isinstance(text, str) else None


def is_endpoint(pattern: RoutePattern | RegexPattern) -> bool:
    """Whether the pattern ends a URL (``path()``, ``re_path()``) rather than an ``include()``;
    Django keeps it in ``_is_endpoint``."""
    return bool(getattr(pattern, "_is_endpoint", False))


def watch_cursor_creation(connection: BaseDatabaseWrapper, callback: Callable[[], None]) -> None:
    """Call ``callback()`` before ``connection`` creates each cursor.

    A query can fail before it executes (a cursor asked of a connection that died), so execute
    wrappers do not see it. The backend's ``create_cursor()`` is replaced on this connection
    only: its class is shared with connections nobody watches.
    """
    create_cursor = connection.create_cursor

    def create_noted_cursor(*args: Any, **kwargs: Any) -> Any:
        callback()
        return create_cursor(*args, **kwargs)

    connection.create_cursor = create_noted_cursor  # type: ignore[method-assign]


@functools.cache
def check_django() -> None:
    """Assert the assumptions about Django's private API (once; the Django-facing modules call
    this at import)."""
    from django.db.backends.base.base import BaseDatabaseWrapper
    from django.urls.resolvers import RegexPattern, RoutePattern

    route = RoutePattern("a/<int:b>/", is_endpoint=True)
    regex = RegexPattern(r"^a/(?P<b>\d+)/$", is_endpoint=False)
    assert pattern_text(route) == "a/<int:b>/" and pattern_text(regex) == r"^a/(?P<b>\d+)/$", (
        "Django's RoutePattern._route or RegexPattern._regex is gone: aiodjango.routing needs "
        "a new way to read a pattern's text"
    )
    assert is_endpoint(route) and not is_endpoint(regex), (
        "Django's pattern._is_endpoint is gone: aiodjango.routing needs a new way to tell "
        "path() from include()"
    )
    cursor_method = BaseDatabaseWrapper._cursor  # type: ignore[attr-defined]
    assert "create_cursor" in cursor_method.__code__.co_names, (
        "Django's BaseDatabaseWrapper._cursor() no longer calls create_cursor(): "
        "aiodjango.lifted.db needs a new way to see cursors being created"
    )
