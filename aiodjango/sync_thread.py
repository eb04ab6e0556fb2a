"""The one thread that runs the serving loop's thread-sensitive sync calls, with cheap hops.

Django's async request handling runs every sync part through ``sync_to_async`` with
``thread_sensitive=True``: with ``startproject``'s middleware, 15 hops to a thread and
back per request to a Django async view (each ``MiddlewareMixin``'s ``process_request``,
``process_view`` and ``process_response``, the ``request_started`` receivers,
``response.close()``). asgiref sends them to its one thread-sensitive thread through a
``ThreadPoolExecutor``: per hop a ``concurrent.futures.Future`` with its Condition, a work item,
an asyncio future chained to it, and one wake-up of the loop per result, which writes to the
loop's self-pipe and hands the GIL over. Under load that bookkeeping was about a quarter of
the server's CPU time for such requests (see the benchmarks page).

:class:`SyncThread` is the same one thread, with less: a call is queued as it is, the thread
completes the loop's own future, and results that finish while the loop is busy share one
wake-up (:class:`~aiodjango.wsgi.exchange.LoopWaker`). :func:`run_sync_calls_on_own_thread`
makes it the thread of an application's loop, from its startup to its cleanup; every
thread-sensitive call made on that loop outside ``async_to_sync`` and ``ThreadSensitiveContext``
(Django async views, lifted views' ORM calls, ...) runs there, one at a time, as before.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import functools
import queue
import threading
import weakref
from collections.abc import Callable
from typing import Any

from aiohttp import web

from ._compat import (
    has_thread_sensitive_executor,
    register_thread_exit_hook,
    run_thread_sensitive_calls_in,
    stop_running_thread_sensitive_calls_in,
)
from .wsgi.exchange import LoopWaker

__all__ = ["SyncThread", "run_sync_calls_on_own_thread"]

_Call = tuple["asyncio.Future[Any]", Callable[..., Any], tuple[Any, ...], dict[str, Any]]
_Calls = queue.SimpleQueue["_Call | None"]  # None: the stop sentinel

# Every live thread with its queue, so that interpreter exit lets each finish what is queued
# and stop (as ThreadPoolExecutor's threads do), even if its application was never cleaned up.
_all_threads: weakref.WeakKeyDictionary[threading.Thread, _Calls] = weakref.WeakKeyDictionary()


def _finish_at_exit() -> None:
    threads = list(_all_threads.items())
    for _, calls in threads:
        calls.put(None)
    for thread, _ in threads:
        thread.join()


register_thread_exit_hook(_finish_at_exit)


class SyncThread(concurrent.futures.Executor):
    """One thread running the sync calls that ``loop.run_in_executor()`` hands it, in order.

    :meth:`submit` must be called on ``loop`` (``run_in_executor`` is) and returns a future of
    that loop, which ``run_in_executor`` returns as it is. A call whose future is cancelled
    before it starts does not run; one that is running finishes, and its result is dropped.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, name: str = "aiodjango-sync") -> None:
        self.loop = loop
        self._waker = LoopWaker(loop)
        self._calls: _Calls = queue.SimpleQueue()
        #: Done once the thread has ended, after :meth:`shutdown`.
        self.stopped: asyncio.Future[None] = loop.create_future()
        self._shut_down = False
        self._thread = threading.Thread(target=self._serve, name=name)
        self._thread.start()
        _all_threads[self._thread] = self._calls

    # An Executor for run_in_executor(), whose submit() returns a future of the loop, not a
    # concurrent.futures.Future: run_in_executor() then returns it as it is.
    def submit(  # type: ignore[override]
        self, function: Callable[..., Any], /, *args: Any, **kwargs: Any
    ) -> asyncio.Future[Any]:
        """Queue ``function(*args, **kwargs)``; the future gets its result or exception."""
        if self._shut_down:
            raise RuntimeError("cannot schedule new calls after shutdown")
        future: asyncio.Future[Any] = self.loop.create_future()
        self._calls.put((future, function, args, kwargs))
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Stop once the calls already queued have run (``Executor.shutdown``'s signature;
        waiting would block the loop: await :attr:`stopped` instead)."""
        if not self._shut_down:
            self._shut_down = True
            self._calls.put(None)

    def _serve(self) -> None:
        calls, waker = self._calls, self._waker
        while (call := calls.get()) is not None:
            future, function, args, kwargs = call
            del call
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
        _all_threads.pop(threading.current_thread(), None)
        with contextlib.suppress(RuntimeError):
            waker.call_soon(functools.partial(_succeed, self.stopped, None))


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


_SYNC_THREAD_KEY = web.AppKey("aiodjango_sync_thread", SyncThread)


def run_sync_calls_on_own_thread(app: web.Application) -> None:
    """From ``app``'s startup to its cleanup, run the thread-sensitive sync calls of its loop on
    a :class:`SyncThread` instead of asgiref's thread.

    Where the loop already has such an executor (another application on the same loop, or
    ``async_to_sync``'s own loop), that one stays in use.
    """

    async def start(app: web.Application) -> None:
        loop = asyncio.get_running_loop()
        if not has_thread_sensitive_executor(loop):
            thread = app[_SYNC_THREAD_KEY] = SyncThread(loop)
            run_thread_sensitive_calls_in(loop, thread)

    async def stop(app: web.Application) -> None:
        # Requests still running after the server's shutdown timeout were abandoned: the
        # thread ends once the calls queued so far have run, without being waited for.
        thread = app.get(_SYNC_THREAD_KEY)
        if thread is not None:
            stop_running_thread_sensitive_calls_in(thread.loop, thread)
            thread.shutdown()

    app.on_startup.append(start)
    app.on_cleanup.append(stop)
