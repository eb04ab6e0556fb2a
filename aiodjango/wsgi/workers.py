"""The WSGI adapter's own worker threads: a queue of calls and the threads that take them.

``ThreadPoolExecutor.submit()`` builds a Future (with its Condition) and a work item for every
call, and both sides update an idle-thread semaphore: on a hello-world Django request, that
bookkeeping is about a tenth of the server's CPU time (see the benchmarks page). A request needs
none of it: the adapter learns that its call finished through the request's own exchange.
:class:`WorkerThreads` queues the call as it is and otherwise behaves like
``ThreadPoolExecutor``.
"""

from __future__ import annotations

import concurrent.futures
import logging
import queue
import threading
import weakref
from collections import deque
from collections.abc import Callable
from typing import Any, TypeVar

from .._compat import register_thread_exit_hook

__all__ = ["WorkerThreads"]

logger = logging.getLogger("aiodjango.wsgi")

T = TypeVar("T")
_Call = tuple[Callable[..., object], tuple[Any, ...]]
_Calls = queue.SimpleQueue["_Call | None"]  # None: the stop sentinel

# Every worker thread with its queue, so that interpreter exit lets them finish what is queued
# (as ThreadPoolExecutor does), including the threads of pools collected meanwhile.
_all_workers: weakref.WeakKeyDictionary[threading.Thread, _Calls] = weakref.WeakKeyDictionary()
_exiting = False


def _finish_at_exit() -> None:
    global _exiting
    _exiting = True
    workers = list(_all_workers.items())
    for _, calls in workers:
        calls.put(None)
    for thread, _ in workers:
        thread.join()


# As for ThreadPoolExecutor, the threads are not daemons and this hook runs just before the
# interpreter joins them at exit, so that they stop waiting for calls.
register_thread_exit_hook(_finish_at_exit)


def _serve_calls(
    calls: _Calls, idle: deque[None], pool: weakref.ReferenceType[WorkerThreads]
) -> None:
    """A worker thread's life: take calls until the stop sentinel, then pass it on.

    ``pool`` is not used: holding it keeps alive the weak reference whose callback wakes the
    threads when the pool is garbage-collected.
    """
    while (call := calls.get()) is not None:
        function, args = call
        try:
            function(*args)
        except BaseException:
            logger.exception("A call on a WSGI worker thread failed")
        del call, function, args  # hold nothing of the last request while idle
        idle.append(None)
    calls.put(None)  # for the pool's next thread


class _Submitted:
    """A :meth:`WorkerThreads.submit` call and the future that reports it."""

    __slots__ = ("args", "function", "future", "kwargs")

    def __init__(
        self, function: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> None:
        self.future: concurrent.futures.Future[Any] = concurrent.futures.Future()
        self.function, self.args, self.kwargs = function, args, kwargs

    def __call__(self) -> None:
        if not self.future.set_running_or_notify_cancel():
            return
        try:
            result = self.function(*self.args, **self.kwargs)
        except BaseException as exc:
            self.future.set_exception(exc)
        else:
            self.future.set_result(result)


class WorkerThreads(concurrent.futures.Executor):
    """Up to ``max_workers`` threads taking calls from one queue, started when needed.

    :meth:`call` runs a function without a Future. As with ``ThreadPoolExecutor``, a thread is
    started when a call finds none idle, calls queued before :meth:`shutdown` still run,
    interpreter exit waits for them, and the threads end when the pool is garbage-collected.
    :meth:`submit` returns a Future as usual, for applications that use
    ``environ["asyncio.executor"]``.
    """

    def __init__(self, max_workers: int, thread_name_prefix: str = "aiodjango-wsgi") -> None:
        if max_workers < 1:
            raise ValueError(f"max_workers must be at least 1, got {max_workers!r}")
        self._max_workers = max_workers
        self._prefix = thread_name_prefix
        self._calls: _Calls = queue.SimpleQueue()
        self._idle: deque[None] = deque()  # one entry per thread free for a new call
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._shut_down = False

    def call(self, function: Callable[..., object], /, *args: Any) -> None:
        """Run ``function(*args)`` on a worker thread; nothing reports its result."""
        with self._lock:
            if self._shut_down or _exiting:
                raise RuntimeError("cannot schedule new calls after shutdown")
            self._calls.put((function, args))
            try:
                self._idle.pop()  # a waiting thread will take it
            except IndexError:
                if len(self._threads) < self._max_workers:
                    self._start_thread()

    def _start_thread(self) -> None:
        calls = self._calls
        # Collected without shutdown(): wake the threads so that they end.
        pool = weakref.ref(self, lambda _: calls.put(None))
        thread = threading.Thread(
            target=_serve_calls,
            args=(calls, self._idle, pool),
            name=f"{self._prefix}_{len(self._threads)}",
        )
        thread.start()
        self._threads.append(thread)
        _all_workers[thread] = calls

    def submit(
        self, fn: Callable[..., T], /, *args: Any, **kwargs: Any
    ) -> concurrent.futures.Future[T]:
        submitted = _Submitted(fn, args, kwargs)
        self.call(submitted)
        return submitted.future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Accept no more calls; the threads end once the queued ones have run.

        ``cancel_futures`` cancels what :meth:`submit` queued and has not started; plain
        :meth:`call` calls (accepted requests) still run.
        """
        with self._lock:
            self._shut_down = True
            if cancel_futures:
                kept = []
                while True:
                    try:
                        call = self._calls.get_nowait()
                    except queue.Empty:
                        break
                    if call is not None and isinstance(call[0], _Submitted):
                        call[0].future.cancel()
                    elif call is not None:
                        kept.append(call)
                for call in kept:
                    self._calls.put(call)
            self._calls.put(None)
        if wait:
            for thread in self._threads:
                thread.join()
