"""Direct tests of :class:`WorkerThreads`, the WSGI adapter's own thread pool."""

from __future__ import annotations

import gc
import logging
import threading
import time

import pytest

from aiodjango.wsgi.workers import WorkerThreads


def wait_until(check: object, within: float = 5.0) -> bool:
    """Poll ``check()`` until it holds or ``within`` seconds pass."""
    deadline = time.monotonic() + within
    while not check():  # type: ignore[operator]
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)
    return True


def pool_threads(prefix: str) -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith(prefix + "_")]


def test_calls_run_on_named_threads_started_on_demand_up_to_the_limit() -> None:
    pool = WorkerThreads(3, thread_name_prefix="unit-limit")
    release = threading.Event()
    names: list[str] = []
    lock = threading.Lock()

    def hold() -> None:
        with lock:
            names.append(threading.current_thread().name)
        release.wait(5)

    try:
        assert pool_threads("unit-limit") == []  # none before the first call
        for _ in range(5):
            pool.call(hold)
        assert wait_until(lambda: len(names) == 3)
        assert len(pool_threads("unit-limit")) == 3  # two calls wait in the queue
        release.set()
        assert wait_until(lambda: len(names) == 5)
        assert all(name.startswith("unit-limit_") for name in names)
    finally:
        release.set()
        pool.shutdown()
    assert pool_threads("unit-limit") == []


def test_an_idle_thread_is_reused_rather_than_a_new_one_started() -> None:
    pool = WorkerThreads(4, thread_name_prefix="unit-reuse")
    done = threading.Semaphore(0)
    try:
        for _ in range(20):
            pool.call(done.release)
            assert done.acquire(timeout=5)
        assert len(pool_threads("unit-reuse")) == 1
    finally:
        pool.shutdown()


def test_submit_reports_results_and_exceptions_through_futures() -> None:
    pool = WorkerThreads(2)
    try:
        assert pool.submit(pow, 2, 10).result(5) == 1024
        with pytest.raises(ZeroDivisionError):
            pool.submit(lambda: 1 / 0).result(5)
    finally:
        pool.shutdown()


def test_a_failing_call_is_logged_and_the_thread_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    pool = WorkerThreads(1, thread_name_prefix="unit-fail")
    done = threading.Event()

    def fail() -> None:
        raise ValueError("boom")

    try:
        with caplog.at_level(logging.ERROR, logger="aiodjango.wsgi"):
            pool.call(fail)
            pool.call(done.set)
            assert done.wait(5)
        assert "A call on a WSGI worker thread failed" in caplog.text
        assert len(pool_threads("unit-fail")) == 1
    finally:
        pool.shutdown()


def test_shutdown_runs_what_is_queued_then_refuses_new_calls() -> None:
    pool = WorkerThreads(1, thread_name_prefix="unit-stop")
    release = threading.Event()
    ran: list[int] = []
    pool.call(release.wait, 5)
    for n in range(3):
        pool.call(ran.append, n)
    pool.shutdown(wait=False)
    with pytest.raises(RuntimeError, match="after shutdown"):
        pool.call(ran.append, 99)
    with pytest.raises(RuntimeError):
        pool.submit(print)
    release.set()
    pool.shutdown(wait=True)  # joins the threads, once they have run what was queued
    assert ran == [0, 1, 2]
    assert pool_threads("unit-stop") == []


def test_cancel_futures_cancels_queued_submits_but_not_queued_calls() -> None:
    pool = WorkerThreads(1)
    release = threading.Event()
    ran: list[str] = []
    pool.call(release.wait, 5)
    future = pool.submit(ran.append, "submitted")
    pool.call(ran.append, "called")
    pool.shutdown(wait=False, cancel_futures=True)
    release.set()
    assert wait_until(lambda: ran == ["called"])
    assert future.cancelled() and future.done()


def test_a_pool_collected_without_shutdown_ends_its_threads() -> None:
    pool = WorkerThreads(2, thread_name_prefix="unit-gc")
    done = threading.Event()
    pool.call(done.set)
    assert done.wait(5)
    assert len(pool_threads("unit-gc")) == 1
    del pool
    gc.collect()
    assert wait_until(lambda: pool_threads("unit-gc") == [])


def test_at_least_one_thread() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        WorkerThreads(0)
