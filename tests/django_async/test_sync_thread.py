"""Thread-sensitive sync calls of the serving loop (aiodjango.sync_thread).

Django's sync middleware and signals of async views, and every other
``sync_to_async(thread_sensitive=True)`` call made on the loop, still run in asgiref's one
thread-sensitive thread, through a queue of the application's own from its startup to its
cleanup; the queue keeps what asgiref's executor gave (order, results, exceptions, calls
cancelled before they start) and runs the calls queued meanwhile in one job.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.core.signals import request_started

from aiodjango import get_aio_application
from aiodjango._compat import has_thread_sensitive_executor
from aiodjango.sync_thread import SyncCalls
from tests.support.servers import AiohttpClient

URLCONF = "tests.django_async.project.urls"


def _thread() -> threading.Thread:
    return threading.current_thread()


@pytest.fixture
def started_in() -> Iterator[list[threading.Thread]]:
    """The thread of every ``request_started`` receiver call while the test runs."""
    threads: list[threading.Thread] = []

    def record(sender: object, **kwargs: object) -> None:
        threads.append(_thread())

    request_started.connect(record, weak=False, dispatch_uid="tests.sync_thread")
    yield threads
    request_started.disconnect(dispatch_uid="tests.sync_thread")


class CountingThread(concurrent.futures.ThreadPoolExecutor):
    """An executor of one thread that counts the jobs handed to it."""

    def __init__(self) -> None:
        super().__init__(max_workers=1, thread_name_prefix="test-sync")
        self.jobs = 0

    def submit(
        self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any
    ) -> concurrent.futures.Future[Any]:
        self.jobs += 1
        return super().submit(fn, *args, **kwargs)


@pytest.fixture
def thread() -> Iterator[CountingThread]:
    executor = CountingThread()
    yield executor
    executor.shutdown(wait=True)


async def test_django_async_views_run_their_sync_parts_in_asgirefs_thread(
    aiohttp_client: AiohttpClient, started_in: list[threading.Thread], settings: Any
) -> None:
    settings.ROOT_URLCONF = URLCONF
    loop = asyncio.get_running_loop()
    asgiref_thread = await sync_to_async(_thread)()  # before the application starts
    assert not has_thread_sensitive_executor(loop)
    client = await aiohttp_client(get_aio_application(urlconf=URLCONF))
    assert has_thread_sensitive_executor(loop)  # the application's queue is in place
    for _ in range(3):
        response = await client.get("/hello/")
        assert response.status == 200
        assert response.headers["X-Content-Type-Options"] == "nosniff"  # sync middleware ran
    # The same one thread as before the application started, for every request and for any
    # thread-sensitive call on the loop (lifted views' ORM calls...): its connections stay.
    assert started_in == [asgiref_thread] * 3
    assert await sync_to_async(_thread)() is asgiref_thread
    assert await sync_to_async(_thread, thread_sensitive=False)() is not asgiref_thread

    await client.close()  # the application's cleanup
    assert not has_thread_sensitive_executor(loop)
    assert await sync_to_async(_thread)() is asgiref_thread


async def test_calls_run_in_order_with_their_results_and_exceptions(
    thread: CountingThread,
) -> None:
    loop = asyncio.get_running_loop()
    calls = SyncCalls(loop, thread)
    ran: list[int] = []

    def note(number: int) -> str:
        ran.append(number)
        return f"{_thread().name.split('_')[0]} {number}"

    results = await asyncio.gather(*(loop.run_in_executor(calls, note, n) for n in range(50)))
    assert results == [f"test-sync {n}" for n in range(50)]
    assert ran == list(range(50))

    def fail(error: BaseException) -> None:
        raise error

    with pytest.raises(ValueError, match="bad value"):
        await loop.run_in_executor(calls, fail, ValueError("bad value"))
    # asyncio futures refuse StopIteration; it arrives as the cause of a RuntimeError.
    with pytest.raises(RuntimeError, match="StopIteration") as raised:
        await loop.run_in_executor(calls, fail, StopIteration("over"))
    assert isinstance(raised.value.__cause__, StopIteration)
    assert (await loop.run_in_executor(calls, _thread)).name.startswith("test-sync")


async def test_calls_queued_while_the_thread_works_take_one_job(thread: CountingThread) -> None:
    loop = asyncio.get_running_loop()
    calls = SyncCalls(loop, thread)
    release = threading.Event()
    ran: list[int] = []
    try:
        busy = loop.run_in_executor(calls, release.wait, 30)
        queued = [loop.run_in_executor(calls, ran.append, n) for n in range(20)]
    finally:
        release.set()
    assert await busy is True
    await asyncio.gather(*queued)
    assert ran == list(range(20))
    assert thread.jobs == 1
    # The queue ran dry: the next call is a new job.
    await loop.run_in_executor(calls, ran.append, 20)
    assert thread.jobs == 2


async def test_a_call_cancelled_before_it_starts_does_not_run(thread: CountingThread) -> None:
    loop = asyncio.get_running_loop()
    calls = SyncCalls(loop, thread)
    release = threading.Event()
    ran: list[str] = []
    try:
        busy = loop.run_in_executor(calls, release.wait, 30)
        skipped = calls.submit(ran.append, "cancelled")
        after = loop.run_in_executor(calls, ran.append, "after")
        skipped.cancel()
    finally:
        release.set()
    assert await busy is True
    await after
    assert ran == ["after"]


async def test_shutdown_runs_what_is_queued_then_refuses_calls(thread: CountingThread) -> None:
    loop = asyncio.get_running_loop()
    calls = SyncCalls(loop, thread)
    release = threading.Event()
    try:
        busy = loop.run_in_executor(calls, release.wait, 30)
        queued = loop.run_in_executor(calls, _thread)
        calls.shutdown()
        with pytest.raises(RuntimeError, match="after shutdown"):
            calls.submit(_thread)
    finally:
        release.set()
    assert await busy is True
    assert (await queued).name.startswith("test-sync")
