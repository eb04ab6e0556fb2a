"""The serving loop's own thread for thread-sensitive sync calls (aiodjango.sync_thread).

Django's sync middleware and signals of async views, and every other
``sync_to_async(thread_sensitive=True)`` call made on the loop, run on one thread of the
application's own, from its startup to its cleanup; the executor keeps what asgiref's gave:
order, results, exceptions, calls cancelled before they start.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.core.signals import request_started

from aiodjango import get_aio_application
from aiodjango.sync_thread import SyncThread
from tests.support.servers import AiohttpClient
from tests.support.waiting import settle

URLCONF = "tests.django_async.project.urls"


def _thread_name() -> str:
    return threading.current_thread().name


@pytest.fixture
def started_in() -> Iterator[list[str]]:
    """The thread of every ``request_started`` receiver call while the test runs."""
    threads: list[str] = []

    def record(sender: object, **kwargs: object) -> None:
        threads.append(_thread_name())

    request_started.connect(record, weak=False, dispatch_uid="tests.sync_thread")
    yield threads
    request_started.disconnect(dispatch_uid="tests.sync_thread")


async def test_django_async_views_and_the_loop_use_the_applications_thread(
    aiohttp_client: AiohttpClient, started_in: list[str], settings: Any
) -> None:
    settings.ROOT_URLCONF = URLCONF
    asgiref_thread = await sync_to_async(_thread_name)()  # before the application starts
    assert not asgiref_thread.startswith("aiodjango-sync")
    client = await aiohttp_client(get_aio_application(urlconf=URLCONF))
    for _ in range(3):
        response = await client.get("/hello/")
        assert response.status == 200
        assert response.headers["X-Content-Type-Options"] == "nosniff"  # sync middleware ran
    assert started_in == ["aiodjango-sync"] * 3  # one thread, the same for every request
    # Any thread-sensitive call on the loop goes there too (lifted views' ORM calls...).
    assert await sync_to_async(_thread_name)() == "aiodjango-sync"
    assert await sync_to_async(_thread_name, thread_sensitive=False)() != "aiodjango-sync"

    await client.close()  # the application's cleanup
    assert await sync_to_async(_thread_name)() == asgiref_thread
    assert await settle(
        lambda: all(thread.name != "aiodjango-sync" for thread in threading.enumerate())
    )


async def test_calls_run_in_order_with_their_results_and_exceptions() -> None:
    loop = asyncio.get_running_loop()
    thread = SyncThread(loop, name="test-sync")
    try:
        ran: list[int] = []

        def note(number: int) -> str:
            ran.append(number)
            return f"{_thread_name()} {number}"

        results = await asyncio.gather(*(loop.run_in_executor(thread, note, n) for n in range(50)))
        assert results == [f"test-sync {n}" for n in range(50)]
        assert ran == list(range(50))

        def fail(error: BaseException) -> None:
            raise error

        with pytest.raises(ValueError, match="bad value"):
            await loop.run_in_executor(thread, fail, ValueError("bad value"))
        # asyncio futures refuse StopIteration; it arrives as the cause of a RuntimeError.
        with pytest.raises(RuntimeError, match="StopIteration") as raised:
            await loop.run_in_executor(thread, fail, StopIteration("over"))
        assert isinstance(raised.value.__cause__, StopIteration)
        assert await loop.run_in_executor(thread, _thread_name) == "test-sync"  # still serving
    finally:
        thread.shutdown()
    await thread.stopped


async def test_a_call_cancelled_before_it_starts_does_not_run() -> None:
    loop = asyncio.get_running_loop()
    thread = SyncThread(loop, name="test-sync")
    release = threading.Event()
    ran: list[str] = []
    try:
        busy = loop.run_in_executor(thread, release.wait, 30)
        skipped = thread.submit(ran.append, "cancelled")
        after = loop.run_in_executor(thread, ran.append, "after")
        skipped.cancel()
        release.set()
        assert await busy is True
        await after
        assert ran == ["after"]
    finally:
        release.set()
        thread.shutdown()
    await thread.stopped


async def test_shutdown_runs_what_is_queued_then_refuses_calls() -> None:
    loop = asyncio.get_running_loop()
    thread = SyncThread(loop, name="test-sync")
    release = threading.Event()
    busy = loop.run_in_executor(thread, release.wait, 30)
    queued = loop.run_in_executor(thread, _thread_name)
    thread.shutdown()
    with pytest.raises(RuntimeError, match="after shutdown"):
        thread.submit(_thread_name)
    release.set()
    assert await busy is True
    assert await queued == "test-sync"
    await thread.stopped
    assert all(t.name != "test-sync" for t in threading.enumerate())
