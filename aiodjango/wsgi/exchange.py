"""One request's exchange between its worker thread and the event loop.

The worker thread talks to an :class:`Exchange`: it records the status and headers (checked
here: a bad status, a hop-by-hop header or a header carrying CR/LF never reaches the wire), then
a complete body, a file to send, or blocks to stream. :mod:`aiodjango.wsgi.sending` writes what
the loop gets.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import stat
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import IO, TYPE_CHECKING, Any, Final, NamedTuple

if TYPE_CHECKING:
    from _typeshed import OptExcInfo

__all__ = ["ClientGone", "Exchange", "FileBody", "FileWrapper", "LoopWaker"]

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


# Response headers: names are tokens, values visible latin-1 (RFC 9110); no CR/LF smuggling.
_TOKEN: Final = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+").fullmatch
_BAD_VALUE: Final = re.compile(r"[^\t\x20-\x7e\x80-\xff]").search
_STATUS: Final = re.compile(r"([2-5][0-9][0-9]) ([\t\x20-\x7e\x80-\xff]*)").fullmatch
_HOP_BY_HOP: Final = frozenset(
    [
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "trailers",
        "transfer-encoding",
        "upgrade",
    ]
)
# Names and status lines already checked (bounded: an app could invent endless ones). A name
# maps to whether it is Content-Length.
_CHECKED_NAMES: dict[str, bool] = {}
_CHECKED_STATUSES: dict[str, tuple[int, str]] = {}
_CACHE_MAX: Final = 1024


def _parse_status(status: str) -> tuple[int, str]:
    parsed = _CHECKED_STATUSES.get(status)
    if parsed is None:
        match = _STATUS(status) if isinstance(status, str) else None
        if match is None:
            raise ValueError(
                f"bad status {status!r}: expected a code from 200 to 599, a space and a reason"
            )
        parsed = int(match[1]), match[2]
        if len(_CHECKED_STATUSES) < _CACHE_MAX:
            _CHECKED_STATUSES[status] = parsed
    return parsed


def _check_name(name: str) -> bool:
    if not isinstance(name, str) or _TOKEN(name) is None:
        raise ValueError(f"bad header name {name!r}: not an HTTP token")
    lower = name.lower()
    if lower in _HOP_BY_HOP:
        raise ValueError(f"hop-by-hop header {name!r}: the server manages the connection")
    if len(_CHECKED_NAMES) < _CACHE_MAX:
        _CHECKED_NAMES[name] = lower == "content-length"
    return lower == "content-length"


def _check_headers(headers: Iterable[tuple[str, str]]) -> int | None:
    """Validate the application's headers; return the Content-Length it declares, if any."""
    content_length = None
    for name, value in headers:
        is_length = _CHECKED_NAMES.get(name)
        if is_length is None:
            is_length = _check_name(name)
        if not isinstance(value, str) or _BAD_VALUE(value) is not None:
            raise ValueError(
                f"bad value for header {name!r}: {value!r} (must be latin-1 text without CR/LF)"
            )
        if is_length:
            digits = value.strip()
            if content_length is not None or not (digits.isascii() and digits.isdigit()):
                raise ValueError(f"bad or repeated Content-Length: {value!r}")
            content_length = int(digits)
    return content_length


class ClientGone(Exception):
    """Raised in the worker thread when the client has gone: stop iterating, call close()."""


class FileBody(NamedTuple):
    file: IO[bytes]  # a duplicate descriptor of the application's file, owned by the loop
    offset: int
    size: int
    short: bool  # the file holds less than the declared Content-Length


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


class Exchange:
    """One request's meeting point between its worker thread and the event loop.

    The worker records status and headers, then a complete body, a file to send, or a stream of
    blocks; the loop awaits ``waiter`` for news. The lock and the block queue only exist once a
    block is streamed, so complete responses never pay for them.
    """

    __slots__ = (
        "blocks",
        "body",
        "body_allowed",
        "cond",
        "content_length",
        "failed",
        "file",
        "finished",
        "gone",
        "head",
        "headers",
        "limit",
        "loop",
        "loop_idle",
        "on_finished",
        "queued",
        "reason",
        "remaining",
        "sent",
        "status",
        "waiter",
        "waker",
    )

    def __init__(
        self,
        waker: LoopWaker,
        head: bool,
        limit: int,
        on_finished: Callable[[], None],
    ) -> None:
        self.waker = waker
        self.loop = loop = waker.loop
        self.limit = limit  # the worker waits while more than this is queued unsent
        self.on_finished = on_finished  # called on the loop once the worker is done
        self.head = head
        self.status = 0  # 0 until start_response is called
        self.reason = ""
        self.headers: list[tuple[str, str]] = []
        self.content_length: int | None = None
        self.remaining: int | None = None  # body bytes still allowed by Content-Length
        self.body_allowed = True
        self.sent = False  # headers are committed: the first block is out
        self.body = b""
        self.file: FileBody | None = None
        self.failed = False
        self.finished = False
        self.gone = False
        self.cond: threading.Condition | None = None
        self.blocks: list[bytes] = []
        self.queued = 0
        self.loop_idle = True
        self.waiter: asyncio.Future[None] = loop.create_future()

    # The worker thread's side.

    def start_response(
        self,
        status: str,
        headers: list[tuple[str, str]],
        exc_info: OptExcInfo | None = None,
    ) -> Callable[[bytes], None]:
        if exc_info is not None:
            try:
                if self.sent and exc_info[1] is not None:
                    raise exc_info[1].with_traceback(exc_info[2])
            finally:
                exc_info = None  # no reference cycle through the traceback
        elif self.status:
            raise RuntimeError("start_response called a second time without exc_info")
        code, reason = _parse_status(status)
        self.content_length = _check_headers(headers)
        self.status, self.reason, self.headers = code, reason, list(headers)
        self.body_allowed = not self.head and code != 204 and code != 304
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
        if not self.sent:
            if not self.status:
                raise RuntimeError("the application sent body data before start_response")
            self.sent = True
            self.remaining = self.content_length
            if self.body_allowed:
                self.cond = threading.Condition(threading.Lock())
        cond = self.cond
        if cond is None:  # HEAD, 204 or 304: headers only
            return False
        remaining = self.remaining
        if remaining is not None:  # PEP 3333: never send more than Content-Length
            if not remaining:
                return False
            block = block[:remaining]
            self.remaining = remaining = remaining - len(block)
        with cond:
            if self.gone:
                raise ClientGone
            self.blocks.append(block)
            self.queued += len(block)
            wake, self.loop_idle = self.loop_idle, False
        if wake:
            self.waker.call_soon(self._wake)
        limit = self.limit
        if self.queued > limit:
            with cond:
                while self.queued > limit and not self.gone:
                    if not cond.wait(1.0) and self.loop.is_closed():
                        self.gone = True
                if self.gone:
                    raise ClientGone
        return remaining != 0

    def complete(self, body: bytes) -> None:
        """Record a body known in full; it is written in one go with Content-Length."""
        if not self.status:
            raise RuntimeError("the application returned without calling start_response")
        if self.content_length is not None:
            body = body[: self.content_length]
        self.body = body

    def take_file(self, wrapper: FileWrapper) -> bool:
        """Hand a regular file over to the loop for sendfile; False if it is not one."""
        if not self.status:
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
        declared = self.content_length
        if declared is None:
            self.headers.append(("Content-Length", str(count)))
        self.file = FileBody(
            open(os.dup(fd), "rb", buffering=0),  # noqa: SIM115 (the loop closes it)
            offset,
            count if declared is None else min(count, declared),
            declared is not None and declared > count,
        )
        return True

    def finish(self) -> None:
        """Tell the loop that the worker is done with this request (always called, once)."""
        cond = self.cond
        if cond is None:
            self.finished = True
        else:
            with cond:
                self.finished = True
        try:
            self.waker.call_soon(self._finished)
        except RuntimeError:  # the loop is closed: nobody is listening any more
            self.drop_file()

    # The event loop's side.

    def _wake(self) -> None:
        if not self.waiter.done():
            self.waiter.set_result(None)

    def _finished(self) -> None:
        self.on_finished()
        self._wake()
        if self.gone:
            self.drop_file()

    def drop_file(self) -> None:
        """Close a file handed over for sendfile that will not be sent after all."""
        file, self.file = self.file, None
        if file is not None:
            file.file.close()

    async def take(self) -> list[bytes] | None:
        """Wait for the next blocks the worker has pushed; None once it is done."""
        cond = self.cond
        assert cond is not None
        while True:
            with cond:
                blocks = self.blocks
                if blocks:
                    self.blocks = []
                    return blocks
                if self.finished:
                    return None
                self.loop_idle = True
                self.waiter = self.loop.create_future()
            await self.waiter

    def consumed(self, size: int) -> None:
        """``size`` queued bytes were handed to the transport: the worker may go on."""
        cond = self.cond
        assert cond is not None
        with cond:
            self.queued -= size
            cond.notify()

    def abandon(self) -> None:
        """The loop stops listening (client gone, task cancelled): the worker stops at its
        next block and calls close()."""
        self.gone = True
        cond = self.cond
        if cond is not None:
            with cond:
                cond.notify_all()
        if self.finished:
            self.drop_file()
