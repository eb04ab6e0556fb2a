"""Writing what a worker thread produced: a complete body, a file with sendfile, or a stream.

Each function runs on the event loop and reads one :class:`~aiodjango.wsgi.exchange.Exchange`;
:func:`respond` is the one place that turns its state into a kind of response.
"""

from __future__ import annotations

import asyncio
import logging
from typing import IO

from aiohttp import web

from .._compat import Latin1Response, Latin1StreamResponse
from .exchange import BROKEN, COMPLETE, FILE, STREAMING, Exchange

__all__ = ["SendDeadline", "cut", "plain", "respond", "send_file", "sendfile", "stream"]

logger = logging.getLogger("aiodjango.wsgi")


def plain(status: int, text: str, **headers: str) -> web.Response:
    """A short text response of the adapter's own (an error, a refusal)."""
    return web.Response(status=status, text=text, headers=headers)


async def respond(
    request: web.Request, exchange: Exchange, send_timeout: float
) -> web.StreamResponse:
    """The response for an exchange the loop has news of: its state says which kind."""
    state = exchange.state
    if state is COMPLETE:
        if exchange.latin1:
            response: web.Response = Latin1Response(
                request,
                body=exchange.body,
                status=exchange.status,
                reason=exchange.reason,
                headers=exchange.headers,
            )
        else:
            response = web.Response(
                body=exchange.body,
                status=exchange.status,
                reason=exchange.reason,
                headers=exchange.headers,
            )
        if exchange.cut_short:
            response.force_close()  # shorter than declared: the client must see the end
        return response
    if state is STREAMING or state is BROKEN:  # BROKEN: failed after its first block
        return await stream(request, exchange, send_timeout)
    if state is FILE:
        return await send_file(request, exchange)
    # FAILED, or a worker that finished without a response (it cannot, but never hang).
    exchange.drop_file()
    return plain(500, "Internal Server Error\n")


def _head(request: web.Request, exchange: Exchange) -> web.StreamResponse:
    if exchange.latin1:
        return Latin1StreamResponse(
            request, status=exchange.status, reason=exchange.reason, headers=exchange.headers
        )
    return web.StreamResponse(
        status=exchange.status, reason=exchange.reason, headers=exchange.headers
    )


async def stream(
    request: web.Request, exchange: Exchange, send_timeout: float
) -> web.StreamResponse:
    """Write the blocks the worker pushes, each as soon as it arrives, until it is done.

    A write that makes no progress for ``send_timeout`` seconds (a client that stopped
    reading) ends the response: the connection is aborted and the worker stops at its next
    block, so a slow reader holds a worker thread for a bounded time.
    """
    response = _head(request, exchange)
    deadline = SendDeadline(request, send_timeout)
    try:
        await response.prepare(request)
        while (blocks := await exchange.take()) is not None:
            size = 0
            for block in blocks:
                deadline.writing()  # each write gets its own send_timeout
                await response.write(block)
                size += len(block)
            deadline.idle()  # waiting for the application is not the client's fault
            exchange.consumed(size)
        if exchange.cut_short:
            cut(request, response)  # an incomplete body must not look complete
        else:
            await response.write_eof()
    except ConnectionError:  # the client has gone, or the deadline cut it off
        exchange.abandon()
    finally:
        deadline.cancel()
        if deadline.expired:  # also when aiohttp cancels the handler of the lost connection
            logger.info(
                "%s %s: the client took nothing for %g s; response cut",
                request.method,
                request.path,
                send_timeout,
            )
    return response


class SendDeadline:
    """Aborts the connection when a write has made no progress for ``timeout`` seconds.

    One timer per response, armed at the first write and re-armed only when it fires early,
    rather than one per block: the streaming path stays cheap. Aborting (not closing, which
    would wait for the unread buffer to drain) makes the pending write raise ConnectionError.
    Call :meth:`writing` before each write, :meth:`idle` while waiting for the application (not
    the client's fault), :meth:`cancel` once the response is over; ``expired`` tells whether it
    cut the connection.
    """

    __slots__ = ("_handle", "_loop", "_request", "_since", "_timeout", "expired")

    def __init__(self, request: web.Request, timeout: float) -> None:
        self._request = request
        self._timeout = timeout
        self._loop = asyncio.get_running_loop()
        self._since: float | None = None  # when the pending writes began
        self._handle: asyncio.TimerHandle | None = None
        self.expired = False

    def writing(self) -> None:
        self._since = now = self._loop.time()
        if self._handle is None:
            self._handle = self._loop.call_at(now + self._timeout, self._check)

    def idle(self) -> None:
        self._since = None

    def cancel(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def _check(self) -> None:
        since = self._since
        now = self._loop.time()
        if since is not None and now - since >= self._timeout:
            self._handle = None
            self.expired = True
            transport = self._request.transport
            if transport is not None:
                transport.abort()
            return
        self._handle = self._loop.call_at(
            (now if since is None else since) + self._timeout, self._check
        )


async def send_file(request: web.Request, exchange: Exchange) -> web.StreamResponse:
    """Send the regular file the worker handed over, from the loop; then close it."""
    body = exchange.hand_over_file()
    response = _head(request, exchange)
    with body.file:
        try:
            await response.prepare(request)
            if body.body_allowed and body.size:
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
