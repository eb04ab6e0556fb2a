"""Writing what a worker thread produced: a complete body, a file with sendfile, or a stream.

Each function runs on the event loop and reads one :class:`~aiodjango.wsgi.exchange.Exchange`.
"""

from __future__ import annotations

import asyncio
import logging
from typing import IO

from aiohttp import web

from .exchange import Exchange

__all__ = ["cut", "plain", "send_file", "sendfile", "stream"]

logger = logging.getLogger("aiodjango.wsgi")


def plain(status: int, text: str, **headers: str) -> web.Response:
    """A short text response of the adapter's own (an error, a refusal)."""
    return web.Response(status=status, text=text, headers=headers)


async def stream(request: web.Request, exchange: Exchange) -> web.StreamResponse:
    """Write the blocks the worker pushes, each as soon as it arrives, until it is done."""
    response = web.StreamResponse(
        status=exchange.status, reason=exchange.reason, headers=exchange.headers
    )
    try:
        await response.prepare(request)
        while (blocks := await exchange.take()) is not None:
            size = 0
            for block in blocks:
                await response.write(block)
                size += len(block)
            exchange.consumed(size)
        if exchange.failed or exchange.remaining:
            cut(request, response)  # an incomplete body must not look complete
        else:
            await response.write_eof()
    except ConnectionError:  # the client has gone
        exchange.abandon()
    return response


async def send_file(request: web.Request, exchange: Exchange) -> web.StreamResponse:
    """Send the regular file the worker handed over, from the loop; then close it."""
    body, exchange.file = exchange.file, None
    assert body is not None
    response = web.StreamResponse(
        status=exchange.status, reason=exchange.reason, headers=exchange.headers
    )
    with body.file:
        try:
            await response.prepare(request)
            if exchange.body_allowed and body.size:
                await sendfile(request, response, body.file, body.offset, body.size)
            if body.short:
                cut(request, response)
            else:
                await response.write_eof()
        except ConnectionError:
            pass  # the client has gone
        except OSError:
            logger.exception("Sending a wsgi.file_wrapper file failed")
            cut(request, response)
    return response


async def sendfile(
    request: web.Request, response: web.StreamResponse, file: IO[bytes], offset: int, size: int
) -> None:
    """Send ``size`` bytes of ``file`` from ``offset`` with the loop's sendfile (its own fallback
    covers TLS); read it block by block where the loop has no sendfile at all."""
    loop = asyncio.get_running_loop()
    transport = request.transport
    if transport is None:
        raise ConnectionResetError("connection lost")
    try:
        await loop.sendfile(transport, file, offset, size)
    except NotImplementedError:
        file.seek(offset)
        left = size
        while left > 0:
            block = await loop.run_in_executor(None, file.read, min(left, 1 << 16))
            if not block:
                break
            await response.write(block)
            left -= len(block)


def cut(request: web.Request, response: web.StreamResponse) -> None:
    """End the response by closing the connection: the client sees it is incomplete."""
    response.force_close()
    if request.transport is not None:
        request.transport.close()
