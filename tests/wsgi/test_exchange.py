"""Direct tests of :class:`Exchange`, the state machine between a worker thread and the loop,
and of :class:`LoopWaker`, which runs the worker's callbacks on the loop."""

from __future__ import annotations

import asyncio
import contextvars
import functools
import io
import sys
import tempfile
import threading
from collections.abc import Callable
from typing import Any, TypeVarTuple, Unpack

import pytest

from aiodjango.wsgi.exchange import (
    TRANSITIONS,
    ClientGone,
    Exchange,
    FileWrapper,
    LoopWaker,
    State,
)


def make_exchange(*, head: bool = False, limit: int = 1 << 20) -> tuple[Exchange, list[str]]:
    """An exchange on the running loop, and the list its on_finished callback appends to."""
    finished: list[str] = []
    exchange = Exchange(
        LoopWaker(asyncio.get_running_loop()), head, limit, lambda: finished.append("finished")
    )
    return exchange, finished


def state_of(exchange: Exchange) -> State:
    """The exchange's state, read afresh: the worker's calls change it behind mypy's back."""
    return exchange.state


async def in_worker(function: Callable[[], Any]) -> Any:
    """Run ``function`` on a thread of its own, as a worker would."""
    return await asyncio.to_thread(function)


def test_every_state_has_its_moves_and_failures_end_in_failure_states() -> None:
    assert set(TRANSITIONS) == set(State)
    assert TRANSITIONS[State.FAILED] == {State.FAILED}
    assert TRANSITIONS[State.BROKEN] == {State.BROKEN}
    assert TRANSITIONS[State.STREAMING] == {State.BROKEN}  # a stream never becomes complete


async def test_a_complete_response_wakes_the_loop_once_the_worker_finishes() -> None:
    exchange, finished = make_exchange()
    assert state_of(exchange) is State.WAITING

    def work() -> None:
        exchange.start_response("200 OK", [("Content-Type", "text/plain")])
        assert state_of(exchange) is State.STARTED
        exchange.complete(b"hello")
        exchange.finish()

    await in_worker(work)
    await asyncio.wait_for(exchange.waiter, 5)
    assert state_of(exchange) is State.COMPLETE
    assert (exchange.status, exchange.reason, exchange.body) == (200, "OK", b"hello")
    assert finished == ["finished"] and not exchange.cut_short


async def test_content_length_bounds_a_complete_body_and_a_shorter_one_is_cut_short() -> None:
    longer, _ = make_exchange()
    longer.start_response("200 OK", [("Content-Length", "3")])
    longer.complete(b"hello")
    assert longer.body == b"hel" and not longer.cut_short
    shorter, _ = make_exchange()
    shorter.start_response("200 OK", [("Content-Length", "9")])
    shorter.complete(b"hello")
    assert shorter.cut_short


async def test_start_response_twice_needs_exc_info_and_reraises_once_committed() -> None:
    exchange, _ = make_exchange()
    exchange.start_response("200 OK", [])
    with pytest.raises(RuntimeError, match="second time"):
        exchange.start_response("200 OK", [])
    try:
        raise KeyError("boom")
    except KeyError:
        exchange.start_response("500 Oops", [], sys.exc_info())  # nothing committed: replaced
    assert (exchange.status, exchange.reason, exchange.state) == (500, "Oops", State.STARTED)
    exchange.push(b"first block")
    assert state_of(exchange) is State.STREAMING
    with pytest.raises(KeyError):
        try:
            raise KeyError("late")
        except KeyError:
            exchange.start_response("500 Oops", [], sys.exc_info())


async def test_bad_heads_and_early_bodies_are_refused() -> None:
    exchange, _ = make_exchange()
    with pytest.raises(RuntimeError, match="before start_response"):
        exchange.push(b"x")
    with pytest.raises(RuntimeError, match="without calling start_response"):
        exchange.complete(b"x")
    with pytest.raises(ValueError, match="bad status"):
        exchange.start_response("OK", [])
    with pytest.raises(ValueError, match="hop-by-hop"):
        exchange.start_response("200 OK", [("Connection", "close")])
    with pytest.raises(ValueError, match="CR/LF"):
        exchange.start_response("200 OK", [("X-A", "a\r\nX-B: b")])
    assert state_of(exchange) is State.WAITING
    exchange.start_response("200 OK", [])
    with pytest.raises(TypeError, match="must be bytes"):
        exchange.push("text")  # type: ignore[arg-type]


async def test_non_ascii_latin1_heads_are_flagged() -> None:
    plain, _ = make_exchange()
    plain.start_response("200 OK", [("X-Name", "cafe")])
    assert not plain.latin1
    header, _ = make_exchange()
    header.start_response("200 OK", [("X-Name", "café")])
    assert header.latin1
    reason, _ = make_exchange()
    reason.start_response("200 Ça va", [])
    assert reason.latin1


@pytest.mark.parametrize(("status", "head"), [("200 OK", True), ("204 No Content", False)])
async def test_headers_only_responses_take_no_block(status: str, head: bool) -> None:
    exchange, _ = make_exchange(head=head)
    exchange.start_response(status, [])
    assert exchange.push(b"ignored") is False
    assert state_of(exchange) is State.COMPLETE and exchange.body == b""
    assert exchange.push(b"more") is False
    exchange.end()
    assert state_of(exchange) is State.COMPLETE


async def test_a_stream_hands_blocks_over_and_waits_while_too_much_is_queued() -> None:
    exchange, finished = make_exchange(limit=10)
    pushed: list[bool] = []

    def work() -> None:
        exchange.start_response("200 OK", [])
        for block in (b"a" * 8, b"b" * 8, b"c" * 8):  # the second one passes the limit
            pushed.append(exchange.push(block))
        exchange.end()
        exchange.finish()

    worker = asyncio.ensure_future(in_worker(work))
    await asyncio.wait_for(exchange.waiter, 5)
    assert state_of(exchange) is State.STREAMING
    received = []
    while (blocks := await asyncio.wait_for(exchange.take(), 5)) is not None:
        received += blocks
        if len(received) == 2:
            assert not worker.done()  # 16 bytes queued: it waits for them to be taken
        exchange.consumed(sum(map(len, blocks)))
    await worker
    assert b"".join(received) == b"a" * 8 + b"b" * 8 + b"c" * 8
    assert pushed == [True, True, True] and finished == ["finished"]
    assert not exchange.cut_short


async def test_content_length_ends_a_stream_and_a_short_one_is_cut_short() -> None:
    exchange, _ = make_exchange()
    exchange.start_response("200 OK", [("Content-Length", "5")])
    assert exchange.push(b"abc") is True
    assert exchange.push(b"defgh") is False  # only "de" fits
    assert exchange.push(b"more") is False and not exchange.cut_short
    short, _ = make_exchange()
    short.start_response("200 OK", [("Content-Length", "5")])
    short.push(b"abc")
    assert short.cut_short


async def test_abandon_stops_a_waiting_worker_with_client_gone() -> None:
    exchange, _ = make_exchange(limit=1)
    started = threading.Event()
    outcome: list[str] = []

    def work() -> None:
        exchange.start_response("200 OK", [])
        started.set()
        try:
            exchange.push(b"more than the limit")  # waits: nobody takes it
        except ClientGone:
            outcome.append("client gone")
        exchange.fail()
        exchange.finish()

    worker = asyncio.ensure_future(in_worker(work))
    await asyncio.to_thread(started.wait, 5)
    exchange.abandon()
    await asyncio.wait_for(worker, 5)
    assert outcome == ["client gone"]
    assert state_of(exchange) is State.BROKEN and exchange.cut_short


async def test_failing_before_or_after_committing() -> None:
    early, _ = make_exchange()
    early.start_response("200 OK", [])
    early.complete(b"body")
    early.fail()  # close() raised: nothing was written yet, the loop answers 500
    assert state_of(early) is State.FAILED
    late, _ = make_exchange()
    late.start_response("200 OK", [])
    late.push(b"block")
    late.fail()
    assert state_of(late) is State.BROKEN
    with pytest.raises(RuntimeError, match="cannot go from BROKEN to COMPLETE"):
        late.complete(b"")


async def test_a_regular_file_is_handed_over_and_anything_else_is_not() -> None:
    exchange, _ = make_exchange()
    exchange.start_response("200 OK", [])
    assert exchange.take_file(FileWrapper(io.BytesIO(b"not a file"))) is False
    assert state_of(exchange) is State.STARTED
    with tempfile.TemporaryFile() as file:
        file.write(b"0123456789")
        file.seek(2)
        assert exchange.take_file(FileWrapper(file)) is True
    assert state_of(exchange) is State.FILE and exchange.file is not None
    assert (exchange.file.offset, exchange.file.size) == (2, 8)
    assert ("Content-Length", "8") in exchange.headers
    descriptor = exchange.file.file
    exchange.drop_file()
    assert descriptor.closed and exchange.file is None


Arguments = TypeVarTuple("Arguments")


class CountingLoop(asyncio.SelectorEventLoop):
    """A real event loop that counts the wake-ups other threads ask of it."""

    wakeups = 0

    def call_soon_threadsafe(
        self,
        callback: Callable[[Unpack[Arguments]], object],
        *args: *Arguments,
        context: contextvars.Context | None = None,
    ) -> asyncio.Handle:
        self.wakeups += 1
        return super().call_soon_threadsafe(callback, *args, context=context)


def test_loop_waker_runs_a_burst_of_callbacks_in_order_with_one_wakeup() -> None:
    loop = CountingLoop()
    try:
        waker = LoopWaker(loop)
        ran: list[int] = []
        # The loop is not running: the whole burst queues up behind one wake-up.

        def burst_of_callbacks() -> None:
            for n in range(100):
                waker.call_soon(functools.partial(ran.append, n))

        burst = threading.Thread(target=burst_of_callbacks)
        burst.start()
        burst.join(5)
        loop.run_until_complete(asyncio.sleep(0))
        assert ran == list(range(100))
        assert loop.wakeups == 1
        waker.call_soon(lambda: ran.append(100))  # a later callback wakes it again
        loop.run_until_complete(asyncio.sleep(0))
        assert ran[-1] == 100 and loop.wakeups == 2
    finally:
        loop.close()


def test_loop_waker_on_a_closed_loop_raises_and_can_be_used_again() -> None:
    loop = asyncio.new_event_loop()
    waker = LoopWaker(loop)
    loop.close()
    with pytest.raises(RuntimeError):
        waker.call_soon(lambda: None)
    with pytest.raises(RuntimeError):  # not stuck believing a run is scheduled
        waker.call_soon(lambda: None)


async def test_a_committed_head_cannot_be_replaced_even_with_an_empty_exc_info() -> None:
    exchange, _ = make_exchange()
    exchange.start_response("200 OK", [])
    exchange.push(b"block")
    with pytest.raises(RuntimeError, match="cannot go from STREAMING to STARTED"):
        exchange.start_response("500 Oops", [], (None, None, None))
    assert (exchange.status, exchange.state) == (200, State.STREAMING)
