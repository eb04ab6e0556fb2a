"""The request body, read in full before the application runs (memory, then a temporary file).

Reading on the event loop means a slow client never holds a worker thread.
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Iterator
from typing import IO, Protocol

from aiohttp import web

__all__ = ["EMPTY_INPUT", "InputStream", "read_body"]


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


async def read_body(
    request: web.BaseRequest, inbuf_overflow: int, max_size: int
) -> tuple[InputStream, int] | None:
    """Read the whole request body; return it as ``wsgi.input`` with its size, or None if too large.

    Bodies up to ``inbuf_overflow`` bytes stay in memory; larger ones are spooled to an anonymous
    temporary file. The limit applies to the announced Content-Length and to what a chunked body
    turns out to hold. aiohttp's own ``client_max_size`` is not involved: the stream is read here.
    """
    if not request.body_exists:
        return EMPTY_INPUT, 0
    announced = request.content_length
    if announced is not None and announced > max_size:
        return None
    chunks: list[bytes] = []
    spool: IO[bytes] | None = None
    size = 0
    try:
        async for chunk in request.content.iter_any():
            size += len(chunk)
            if size > max_size:
                return None
            if spool is not None:
                spool.write(chunk)
            elif size > inbuf_overflow:
                spool = tempfile.TemporaryFile()  # noqa: SIM115 (closed after the request)
                spool.writelines(chunks)
                spool.write(chunk)
                chunks.clear()
            else:
                chunks.append(chunk)
    except BaseException:
        if spool is not None:
            spool.close()
        raise
    if spool is not None:
        spool.seek(0)
        return spool, size
    return io.BytesIO(b"".join(chunks)), size
