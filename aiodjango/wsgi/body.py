"""The request body, read in full before the application runs (memory, then a temporary file).

Reading on the event loop means a slow client never holds a worker thread. What the bodies
being read or waiting for their request hold, in memory and on disk, is bounded across all
requests by one :class:`BodyBudget`, and reading has a deadline, so that a crowd of slow or
unfinished uploads can neither fill the disk nor hold memory for long.
"""

from __future__ import annotations

import asyncio
import io
import tempfile
import threading
from collections.abc import Iterator
from typing import IO, Protocol

from aiohttp import web

__all__ = [
    "EMPTY_INPUT",
    "BodyBudget",
    "BodyRefused",
    "InputStream",
    "NoRoom",
    "TooLarge",
    "TooSlow",
    "read_body",
]


class InputStream(Protocol):
    """What ``wsgi.input`` offers: the reading half of a binary file."""

    def read(self, size: int = -1, /) -> bytes: ...
    def readline(self, size: int = -1, /) -> bytes: ...
    def readlines(self, hint: int = -1, /) -> list[bytes]: ...
    def __iter__(self) -> Iterator[bytes]: ...
    def seekable(self) -> bool: ...
    def close(self) -> None: ...


class _EmptyInput:
    """``wsgi.input`` for a request without a body; stateless, so one instance serves all."""

    def read(self, size: int = -1, /) -> bytes:
        return b""

    def readline(self, size: int = -1, /) -> bytes:
        return b""

    def readlines(self, hint: int = -1, /) -> list[bytes]:
        return []

    def __iter__(self) -> Iterator[bytes]:
        return iter(())

    def seekable(self) -> bool:
        # Django's body reading asks this of its stream (6.1 does before measuring the body).
        return False

    def close(self) -> None:
        pass


EMPTY_INPUT: InputStream = _EmptyInput()


class BodyRefused(Exception):
    """The body is not read to its end; ``status`` and the message say why."""

    status = 400


class TooLarge(BodyRefused):
    status = 413

    def __init__(self) -> None:
        super().__init__("Request body too large\n")


class NoRoom(BodyRefused):
    status = 503

    def __init__(self) -> None:
        super().__init__("Server busy with other uploads, retry later\n")


class TooSlow(BodyRefused):
    status = 408

    def __init__(self) -> None:
        super().__init__("Request body not received in time\n")


class BodyBudget:
    """The request body bytes held at once by all requests, in memory and on disk.

    ``limit`` bounds the total; past it, a body being read is refused. ``memory_limit`` bounds
    the part held in memory; past it, bodies go to temporary files. Bytes are taken on the loop
    as they arrive and given back, from any thread, when the request's ``wsgi.input`` is closed.
    """

    def __init__(self, limit: int, memory_limit: int) -> None:
        self.limit = limit
        self.memory_limit = memory_limit
        self.held = 0
        self.in_memory = 0
        self._lock = threading.Lock()

    def room(self) -> int:
        """How many more bytes may be held."""
        return self.limit - self.held

    def take(self, size: int, in_memory: bool) -> bool:
        """Hold ``size`` more bytes (in memory or on disk); False if the limit forbids it."""
        with self._lock:
            if self.held + size > self.limit:
                return False
            self.held += size
            if in_memory:
                self.in_memory += size
            return True

    def memory_room(self) -> int:
        """How many more bytes may be held in memory."""
        return self.memory_limit - self.in_memory

    def to_disk(self, size: int) -> None:
        """``size`` bytes held in memory were moved to a temporary file."""
        with self._lock:
            self.in_memory -= size

    def give_back(self, size: int, in_memory: int) -> None:
        """Release ``size`` bytes, ``in_memory`` of them in memory."""
        with self._lock:
            self.held -= size
            self.in_memory -= in_memory


async def read_body(
    request: web.BaseRequest,
    inbuf_overflow: int,
    max_size: int,
    budget: BodyBudget,
    time_allowed: float,
    min_rate: int,
) -> tuple[InputStream, int, bool]:
    """Read the whole request body; return it as ``wsgi.input`` with its size, and whether it
    is in memory. The caller gives its bytes back to ``budget`` once it closes it.

    Bodies up to ``inbuf_overflow`` bytes stay in memory while the budget's memory limit
    allows; larger ones are spooled to an anonymous temporary file. Raises :class:`TooLarge`
    past ``max_size`` (announced by Content-Length or found in a chunked body),
    :class:`NoRoom` when the budget is spent, and :class:`TooSlow` when the body has not
    arrived ``time_allowed`` seconds after reading began, plus one second per ``min_rate`` bytes
    received (a pause or a trickle is cut; a steady upload of any size is not).
    aiohttp's own ``client_max_size`` is not involved: the stream is read here.
    """
    if not request.body_exists:
        return EMPTY_INPUT, 0, True
    announced = request.content_length
    if announced is not None and announced > max_size:
        raise TooLarge
    if announced is not None and announced > budget.room():
        raise NoRoom
    chunks: list[bytes] = []
    spool: IO[bytes] | None = None
    size = 0  # read so far, and taken from the budget
    loop = asyncio.get_running_loop()
    start = loop.time()
    try:
        try:
            async with asyncio.timeout_at(start + time_allowed) as deadline:
                async for chunk in request.content.iter_any():
                    if size + len(chunk) > max_size:
                        raise TooLarge
                    if spool is None and (
                        size + len(chunk) > inbuf_overflow or len(chunk) > budget.memory_room()
                    ):
                        spool = _spool(chunks)
                        budget.to_disk(size)
                    if not budget.take(len(chunk), spool is None):
                        raise NoRoom
                    size += len(chunk)
                    if spool is None:
                        chunks.append(chunk)
                    else:
                        spool.write(chunk)
                    if min_rate:
                        deadline.reschedule(start + time_allowed + size / min_rate)
        except TimeoutError:
            raise TooSlow from None
    except BaseException:
        if spool is not None:
            spool.close()
        budget.give_back(size, 0 if spool is not None else size)
        raise
    if spool is not None:
        spool.seek(0)
        return spool, size, False
    return io.BytesIO(b"".join(chunks)), size, True


def _spool(chunks: list[bytes]) -> IO[bytes]:
    """Move what ``chunks`` hold to a new anonymous temporary file."""
    spool = tempfile.TemporaryFile()  # noqa: SIM115 (closed after the request)
    spool.writelines(chunks)
    chunks.clear()
    return spool
