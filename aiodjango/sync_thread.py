"""Thread-sensitive sync calls of the serving loop: asgiref's one thread, with cheaper hops.

Django's async request handling runs every sync part through ``sync_to_async`` with
``thread_sensitive=True``: with ``startproject``'s middleware, 15 hops to a thread and back per
request to a Django async view (each ``MiddlewareMixin``'s ``process_request``,
``process_view`` and ``process_response``, the ``request_started`` receivers,
``response.close()``). asgiref sends each one to its one thread-sensitive thread through a
``ThreadPoolExecutor``: per hop a ``concurrent.futures.Future`` with its Condition, a work item,
an asyncio future chained to it, and one wake-up of the loop per result, which writes to the
loop's self-pipe and hands the GIL over. Under load that bookkeeping was about a quarter of
the server's CPU time for such requests (see the benchmarks page).

:class:`SyncCalls` keeps the thread and drops most of the rest: the loop queues a call as it
is, with a future of its own; one job handed to asgiref's thread runs every call queued until
the queue is empty (a job per call when they come one at a time, a job for many under load);
and results that finish while the loop is busy share one wake-up
(:class:`~aiodjango.wsgi.exchange.LoopWaker`). The calls still run in asgiref's thread, one at
a time and in order, so what that thread holds (Django's database connections) is the same
before, during and after the application runs. :func:`serve_sync_calls` puts it in place for
an application's loop, from its startup to its cleanup.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import functools
import threading
from collections import deque
from collections.abc import Callable
from typing import Any

from aiohttp import web

from ._compat import (
    has_thread_sensitive_executor,
    run_thread_sensitive_calls_in,
    stop_running_thread_sensitive_calls_in,
    thread_sensitive_executor,
)
from .wsgi.exchange import LoopWaker

__all__ = ["SyncCalls", "serve_sync_calls"]

_Call = tuple["asyncio.Future[Any]", Callable[..., Any], tuple[Any, ...], dict[str, Any]]


class SyncCalls(concurrent.futures.Executor):
    """The sync calls that ``loop.run_in_executor()`` hands it, run in ``thread`` (an executor
    of one thread: asgiref's thread-sensitive one by default) in order.

    :meth:`submit` must be called on ``loop`` (``run_in_executor`` is). A call whose future is
    cancelled before it starts does not run; one that is running finishes, and its result is
    dropped.
    """

    def __init__(
        self, loop: asyncio.AbstractEventLoop, thread: concurrent.futures.Executor | None = None
    ) -> None:
        self.loop = loop
        self._thread = thread_sensitive_executor() if thread is None else thread
        self._waker = LoopWaker(loop)
        self._calls: deque[_Call] = deque()
        self._lock = threading.Lock()
        self._running = False  # a job is running the queue in the thread, or about to
        self._shut_down = False

    # An Executor for run_in_executor(), whose submit() returns a future of the loop, not a
    # concurrent.futures.Future: run_in_executor() then returns it as it is.
    def submit(  # type: ignore[override]
        self, function: Callable[..., Any], /, *args: Any, **kwargs: Any
    ) -> asyncio.Future[Any]:
        """Queue ``function(*args, **kwargs)``; the future gets its result or exception."""
        if self._shut_down:
            raise RuntimeError("cannot schedule new calls after shutdown")
        future: asyncio.Future[Any] = self.loop.create_future()
        with self._lock:
            self._calls.append((future, function, args, kwargs))
            if self._running:
                return future  # the running job takes it
            self._running = True
        self._thread.submit(self._run_queued)
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Refuse new calls; the queued ones still run (the thread is not this object's)."""
        self._shut_down = True

    def _run_queued(self) -> None:
        """The job in the thread: run the calls until none is queued."""
        calls, lock, waker = self._calls, self._lock, self._waker
        while True:
            with lock:
                if not calls:
                    self._running = False
                    return
                future, function, args, kwargs = calls.popleft()
            if future.cancelled():
                continue
            try:
                outcome = functools.partial(_succeed, future, function(*args, **kwargs))
            except BaseException as error:  # as ThreadPoolExecutor: the caller gets it all
                outcome = functools.partial(_fail, future, error)
            del future, function, args, kwargs  # hold nothing of the last call while idle
            with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits
                waker.call_soon(outcome)
            del outcome


def _succeed(future: asyncio.Future[Any], result: Any) -> None:
    if not future.done():  # cancelled meanwhile
        future.set_result(result)


def _fail(future: asyncio.Future[Any], error: BaseException) -> None:
    if isinstance(error, StopIteration):  # asyncio futures refuse it, as coroutines do
        converted = RuntimeError(f"a sync call raised StopIteration: {error!r}")
        converted.__cause__ = error
        error = converted
    if not future.done():
        future.set_exception(error)


_SYNC_CALLS_KEY = web.AppKey("aiodjango_sync_calls", SyncCalls)


def serve_sync_calls(app: web.Application) -> None:
    """From ``app``'s startup to its cleanup, send the thread-sensitive sync calls of its loop
    to asgiref's thread through a :class:`SyncCalls`.

    Where the loop already has an executor for them (another application on the same loop, or
    ``async_to_sync``'s own loop), that one stays in use.
    """

    async def start(app: web.Application) -> None:
        loop = asyncio.get_running_loop()
        if not has_thread_sensitive_executor(loop):
            calls = app[_SYNC_CALLS_KEY] = SyncCalls(loop)
            run_thread_sensitive_calls_in(loop, calls)

    async def stop(app: web.Application) -> None:
        calls = app.get(_SYNC_CALLS_KEY)
        if calls is not None:
            stop_running_thread_sensitive_calls_in(calls.loop, calls)
            calls.shutdown()

    app.on_startup.append(start)
    app.on_cleanup.append(stop)
