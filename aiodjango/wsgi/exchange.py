"""One request's exchange between its worker thread and the event loop, as a state machine.

The worker thread talks to an :class:`Exchange`: it records the status and headers (checked by
:mod:`aiodjango.wsgi.headers`), then a complete body, a file to send, or blocks to stream. Each
step is a move between the :class:`State` values, checked against the allowed transitions, so
the state alone tells the loop what kind of response to write
(:func:`aiodjango.wsgi.sending.respond`).
"""

from __future__ import annotations

import asyncio
import enum
import logging
import os
import stat
import threading
from collections import deque
from collections.abc import Callable, Iterator
from typing import IO, TYPE_CHECKING, Any, Final, NamedTuple

from .headers import check_headers, parse_status

if TYPE_CHECKING:
    from _typeshed import OptExcInfo

__all__ = ["ClientGone", "Exchange", "FileBody", "FileWrapper", "LoopWaker", "State"]

logger = logging.getLogger("aiodjango.wsgi")


class FileWrapper:
    """``wsgi.file_wrapper``: a file-like object to send as the response body (PEP 3333).

    A regular file is sent from the event loop with sendfile and the worker thread is released at
    once; anything else (a pipe, a BytesIO) is read and sent block by block.
    """

    def __init__(self, filelike: Any, block_size: int = 8192) -> None:
        self.filelike = filelike
        self.block_size = block_size

    def __iter__(self) -> Iterator[bytes]:
        read = self.filelike.read
        while block := read(self.block_size):
            yield block

    def close(self) -> None:
        close = getattr(self.filelike, "close", None)
        if close is not None:
            close()


class ClientGone(Exception):
    """Raised in the worker thread when the client has gone: stop iterating, call close()."""


class FileBody(NamedTuple):
    file: IO[bytes]  # a duplicate descriptor of the application's file, owned by the loop
    offset: int
    size: int
    short: bool  # the file holds less than the declared Content-Length
    body_allowed: bool  # False for HEAD, 204 and 304: headers only


class LoopWaker:
    """Runs callbacks from worker threads on one event loop, with one wake-up for a burst.

    Waking a loop from another thread costs a system call and a loop iteration; under load many
    workers finish at nearly the same moment, and one wake-up serves them all.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self._pending: deque[Callable[[], None]] = deque()
        self._scheduled = False

    def call_soon(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` on the loop soon; callable from any thread."""
        self._pending.append(callback)
        # A run already scheduled has not cleared the flag yet, so it will see this callback.
        if not self._scheduled:
            self._scheduled = True
            try:
                self.loop.call_soon_threadsafe(self._run)
            except RuntimeError:  # the loop is closed
                self._scheduled = False
                raise

    def _run(self) -> None:
        self._scheduled = False
        pending = self._pending
        while pending:
            pending.popleft()()


class State(enum.Enum):
    """Where a response stands. Only the worker thread moves it; the loop reads it."""

    WAITING = "waiting for start_response"
    STARTED = "status and headers recorded, nothing committed"
    COMPLETE = "the whole body is known: one write with Content-Length (or headers only)"
    FILE = "a regular file was handed over, to be sent with sendfile"
    STREAMING = "blocks are flowing; the headers are committed"
    FAILED = "failed before anything was committed: the loop answers 500"
    BROKEN = "failed after the headers were committed: the loop cuts the connection"


WAITING: Final = State.WAITING
STARTED: Final = State.STARTED
COMPLETE: Final = State.COMPLETE
FILE: Final = State.FILE
STREAMING: Final = State.STREAMING
FAILED: Final = State.FAILED
BROKEN: Final = State.BROKEN

#: The moves each state allows. STARTED may repeat (start_response with exc_info before
#: anything is committed); COMPLETE and FILE may still fail (close() raising) because the loop
#: has written nothing of them yet; a stream that fails is BROKEN.
TRANSITIONS: Final[dict[State, frozenset[State]]] = {
    WAITING: frozenset({STARTED, FAILED}),
    STARTED: frozenset({STARTED, COMPLETE, FILE, STREAMING, FAILED}),
    COMPLETE: frozenset({FAILED}),
    FILE: frozenset({FAILED}),
    STREAMING: frozenset({BROKEN}),
    FAILED: frozenset({FAILED}),
    BROKEN: frozenset({BROKEN}),
}


class Exchange:
    """One request's meeting point between its worker thread and the event loop.

    The worker records the head (``status``, ``reason``, ``headers``, ``latin1``), then a
    complete ``body``, a ``file``, or a stream of blocks; the loop awaits ``waiter`` for news
    and reads ``state``. These few public attributes are written by the worker before it wakes
    the loop, and only read by the loop afterwards; the rest is private to the two sides.
    The lock and the block queue only exist once a block is streamed, so complete responses
    never pay for them.
    """

    __slots__ = (
        "_blocks",
        "_body_allowed",
        "_cond",
        "_content_length",
        "_finished",
        "_gone",
        "_head",
        "_limit",
        "_loop",
        "_loop_idle",
        "_on_finished",
        "_queued",
        "_remaining",
        "_state",
        "_waker",
        "body",
        "file",
        "headers",
        "latin1",
        "reason",
        "status",
        "waiter",
    )

    def __init__(
        self,
        waker: LoopWaker,
        head: bool,
        limit: int,
        on_finished: Callable[[], None],
    ) -> None:
        self._waker = waker
        self._loop = loop = waker.loop
        self._limit = limit  # the worker waits while more than this is queued unsent
        self._on_finished = on_finished  # called on the loop once the worker is done
        self._head = head  # a HEAD request: headers only
        self._state = WAITING
        self.status = 0
        self.reason = ""
        self.headers: list[tuple[str, str]] = []
        self.latin1 = False  # the reason or a header value goes beyond ASCII
        self._content_length: int | None = None
        self._remaining: int | None = None  # body bytes still allowed by Content-Length
        self._body_allowed = True
        self.body = b""
        self.file: FileBody | None = None
        self._finished = False  # the worker is done: close() has run
        self._gone = False  # the loop stopped listening: the client went away
        self._cond: threading.Condition | None = None
        self._blocks: list[bytes] = []
        self._queued = 0
        self._loop_idle = True
        self.waiter: asyncio.Future[None] = loop.create_future()

    @property
    def state(self) -> State:
        return self._state

    def _move(self, new: State) -> None:
        if new not in TRANSITIONS[self._state]:
            raise RuntimeError(f"a WSGI response cannot go from {self._state.name} to {new.name}")
        self._state = new

    # The worker thread's side.

    def start_response(
        self,
        status: str,
        headers: list[tuple[str, str]],
        exc_info: OptExcInfo | None = None,
    ) -> Callable[[bytes], None]:
        state = self._state
        if exc_info is not None:
            try:
                if state is not WAITING and state is not STARTED and exc_info[1] is not None:
                    raise exc_info[1].with_traceback(exc_info[2])
            finally:
                exc_info = None  # no reference cycle through the traceback
        elif state is not WAITING:
            raise RuntimeError("start_response called a second time without exc_info")
        if state is not WAITING and state is not STARTED:
            self._move(STARTED)  # committed already: refused, naming the states
        code, reason = parse_status(status)
        self._content_length, latin1 = check_headers(headers)
        self.latin1 = latin1 or not reason.isascii()
        self.status, self.reason, self.headers = code, reason, list(headers)
        self._body_allowed = not self._head and code != 204 and code != 304
        self._state = STARTED  # from WAITING or STARTED: allowed, as checked above
        return self.write

    def write(self, data: bytes) -> None:
        """The legacy ``write()`` callable that start_response returns."""
        if data:
            self.push(data)

    def push(self, block: bytes) -> bool:
        """Hand one non-empty block to the loop; return False once the response takes no more."""
        if type(block) is not bytes:
            if not isinstance(block, (bytes, bytearray)):
                raise TypeError(f"body blocks must be bytes, got {type(block).__name__}")
            block = bytes(block)  # the app may reuse its buffer before the loop writes it
        state = self._state
        if state is not STREAMING:
            if state is COMPLETE:  # headers only, already committed
                return False
            if state is WAITING:
                raise RuntimeError("the application sent body data before start_response")
            self._remaining = self._content_length
            if not self._body_allowed:  # HEAD, 204 or 304: the headers are all there is
                self._move(COMPLETE)
                return False
            self._cond = threading.Condition(threading.Lock())
            self._move(STREAMING)
        cond = self._cond
        assert cond is not None
        remaining = self._remaining
        if remaining is not None:  # PEP 3333: never send more than Content-Length
            if not remaining:
                return False
            block = block[:remaining]
            self._remaining = remaining = remaining - len(block)
        with cond:
            if self._gone:
                raise ClientGone
            self._blocks.append(block)
            self._queued += len(block)
            wake, self._loop_idle = self._loop_idle, False
        if wake:
            self._waker.call_soon(self._wake)
        limit = self._limit
        if self._queued > limit:
            with cond:
                while self._queued > limit and not self._gone:
                    if not cond.wait(1.0) and self._loop.is_closed():
                        self._gone = True
                if self._gone:
                    raise ClientGone
        return remaining != 0

    def complete(self, body: bytes) -> None:
        """Record a body known in full; it is written in one go with Content-Length."""
        if self._state is WAITING:
            raise RuntimeError("the application returned without calling start_response")
        if self._content_length is not None:
            body = body[: self._content_length]
        self.body = body
        if self._state is STARTED:  # the usual move, without a lookup on the hottest path
            self._state = COMPLETE
        else:
            self._move(COMPLETE)

    def end(self) -> None:
        """The body's iteration is over: a response that sent no block is complete and empty."""
        if self._state is not STREAMING and self._state is not COMPLETE:
            self.complete(b"")

    def take_file(self, wrapper: FileWrapper) -> bool:
        """Hand a regular file over to the loop for sendfile; False if it is not one."""
        if self._state is not STARTED:
            return False
        filelike = wrapper.filelike
        try:
            fd = filelike.fileno()
            info = os.fstat(fd)
            offset = filelike.tell() if hasattr(filelike, "tell") else os.lseek(fd, 0, os.SEEK_CUR)
        except (AttributeError, OSError, ValueError):
            return False
        if not stat.S_ISREG(info.st_mode):
            return False
        count = max(info.st_size - offset, 0)
        declared = self._content_length
        if declared is None:
            self.headers.append(("Content-Length", str(count)))
        self.file = FileBody(
            open(os.dup(fd), "rb", buffering=0),  # noqa: SIM115 (the loop closes it)
            offset,
            count if declared is None else min(count, declared),
            declared is not None and declared > count,
            self._body_allowed,
        )
        self._move(FILE)
        return True

    def fail(self) -> None:
        """The application failed: a 500 if nothing was committed, else a cut connection."""
        self._move(BROKEN if self._state is STREAMING or self._state is BROKEN else FAILED)

    def finish(self) -> None:
        """Tell the loop that the worker is done with this request (always called, once)."""
        cond = self._cond
        if cond is None:
            self._finished = True
        else:
            with cond:
                self._finished = True
        try:
            self._waker.call_soon(self._worker_done)
        except RuntimeError:  # the loop is closed: nobody is listening any more
            self.drop_file()

    # The event loop's side.

    @property
    def cut_short(self) -> bool:
        """The body sent is shorter than the Content-Length declared (read once finished)."""
        if self._state is COMPLETE:
            return self._body_allowed and len(self.body) < (self._content_length or 0)
        return self._state is BROKEN or bool(self._remaining)

    def _wake(self) -> None:
        if not self.waiter.done():
            self.waiter.set_result(None)

    def _worker_done(self) -> None:
        self._on_finished()
        self._wake()
        if self._gone:
            self.drop_file()

    def hand_over_file(self) -> FileBody:
        """The file to send, now owned by the caller, who closes it."""
        file, self.file = self.file, None
        assert file is not None, "no file was handed over"
        return file

    def drop_file(self) -> None:
        """Close a file handed over for sendfile that will not be sent after all."""
        file, self.file = self.file, None
        if file is not None:
            file.file.close()

    async def take(self) -> list[bytes] | None:
        """Wait for the next blocks the worker has pushed; None once it is done."""
        cond = self._cond
        assert cond is not None
        while True:
            with cond:
                blocks = self._blocks
                if blocks:
                    self._blocks = []
                    return blocks
                if self._finished:
                    return None
                self._loop_idle = True
                self.waiter = self._loop.create_future()
            await self.waiter

    def consumed(self, size: int) -> None:
        """``size`` queued bytes were handed to the transport: the worker may go on."""
        cond = self._cond
        assert cond is not None
        with cond:
            self._queued -= size
            cond.notify()

    def abandon(self) -> None:
        """The loop stops listening (client gone, too slow, task cancelled): the worker stops at
        its next block and calls close()."""
        self._gone = True
        cond = self._cond
        if cond is not None:
            with cond:
                cond.notify_all()
        if self._finished:
            self.drop_file()
