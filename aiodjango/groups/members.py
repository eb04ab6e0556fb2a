"""``join``: a websocket or event stream in groups for as long as it is open.

Each member has a bounded queue and one task writing it to the client, so that a group message
is handed to every local member at once, without waiting for any of them. A member whose queue
is full (its client stopped reading) is disconnected: its connection is aborted, its handler
sees the socket closed, and nothing it missed is kept. Browsers' ``EventSource`` reconnects by
itself; a websocket client reconnects and reloads what it missed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import Any

from aiohttp import web

from .identity import identity_groups
from .relay import GroupRelays, LayerMessage, relays_for_this_loop

__all__ = ["CLOSE", "DEFAULT_MAX_QUEUED", "Membership", "Render", "join"]

logger = logging.getLogger("aiodjango.groups")

#: The ``type`` of a group message that closes its members' sockets (see ``close_group``).
CLOSE = "aiodjango.close"
#: Messages a member may have waiting before it counts as too slow and is disconnected.
DEFAULT_MAX_QUEUED = 100
#: How often an idle event stream gets a comment line, so that a gone client is noticed.
DEFAULT_HEARTBEAT = 15.0

#: Turns a group message into what the client gets: text, bytes, or None to skip it.
Render = Callable[[LayerMessage], "str | bytes | None"]


def to_json(message: LayerMessage) -> str:
    """The default rendering: the whole message as JSON, ``type`` included."""
    return json.dumps(message)


class Membership:
    """A prepared websocket or event stream, a member of groups while the ``async with`` lasts.

    Use :func:`join` to make one. The socket also joins its session's and its user's groups,
    so that logging out, a password change, deactivation or deletion closes it.
    """

    def __init__(
        self,
        request: web.Request,
        response: web.StreamResponse,
        groups: Iterable[str],
        *,
        render: Render,
        max_queued: int,
        heartbeat: float | None,
    ) -> None:
        if max_queued < 1:
            raise ValueError(f"max_queued must be at least 1, not {max_queued!r}")
        self.request = request
        self.response = response
        self.groups = list(dict.fromkeys(groups))
        self.render = render
        self.max_queued = max_queued
        self.heartbeat = heartbeat
        self._queue: asyncio.Queue[LayerMessage] = asyncio.Queue(max_queued)
        self._closed = asyncio.Event()
        self._writer: asyncio.Task[None] | None = None
        self._closing: asyncio.Task[bool] | None = None
        self._relays: GroupRelays | None = None
        self._joined: list[str] = []

    @property
    def is_websocket(self) -> bool:
        return isinstance(self.response, web.WebSocketResponse)

    @property
    def closed(self) -> bool:
        """True once the socket was closed through its groups, found gone, or too slow."""
        return self._closed.is_set()

    @property
    def queued(self) -> int:
        """Messages waiting to be written to the client (never more than ``max_queued``)."""
        return self._queue.qsize()

    async def wait_closed(self) -> None:
        """Wait until :attr:`closed` (an event-stream view's body is usually just this)."""
        await self._closed.wait()

    async def __aenter__(self) -> Membership:
        if not self.response.prepared:
            raise RuntimeError("join() needs a prepared response: await prepare() first")
        self._relays = relays_for_this_loop()
        self._writer = asyncio.ensure_future(self._write())
        try:
            for group in [*self.groups, *await identity_groups(self.request)]:
                self._joined.append(group)
                await self._relays.add(group, self)
        except BaseException as error:
            # Not entered, so not exited either: leave what was joined now.
            await self.__aexit__(type(error), error, error.__traceback__)
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._closed.set()
        if self._writer is not None:
            self._writer.cancel()
        assert self._relays is not None
        leaving = [self._relays.discard(group, self) for group in self._joined]
        pending: list[asyncio.Future[Any]] = [task for task in leaving if task is not None]
        if self._closing is not None:
            pending.append(self._closing)
        if pending:
            # Leave the layer's groups before the handler ends, even when it is cancelled, so
            # that a stopping server leaves no membership behind (each leave is time-bounded).
            await asyncio.shield(asyncio.gather(*pending, return_exceptions=True))

    def send(self, message: LayerMessage) -> None:
        """Queue a message for this socket only, by the same rules as group messages."""
        self.offer(message)

    def offer(self, message: LayerMessage) -> None:
        """Take a group message without waiting: queue it, or close a socket that lags."""
        if self._closed.is_set():
            return
        if message.get("type") == CLOSE:
            code = message.get("code", 1008)
            reason = message.get("reason", "")
            self._close(code if isinstance(code, int) else 1008, str(reason))
            return
        try:
            self._queue.put_nowait(message)
        except asyncio.QueueFull:
            logger.warning(
                "%s %s: %d messages waiting, disconnecting a client that does not read",
                self.request.method,
                self.request.path,
                self.max_queued,
            )
            self._abort()

    def _close(self, code: int, reason: str) -> None:
        """Close the socket as the server's decision (a websocket gets a close frame)."""
        self._closed.set()
        if self._writer is not None:
            self._writer.cancel()
        if isinstance(self.response, web.WebSocketResponse) and not self.response.closed:
            socket = self.response
            self._closing = asyncio.ensure_future(
                socket.close(code=code, message=reason.encode()[:120])
            )

    def _abort(self) -> None:
        """Drop the connection: a client that does not read takes no close frame either."""
        self._closed.set()
        if self._writer is not None:
            self._writer.cancel()
        with contextlib.suppress(asyncio.QueueEmpty):
            while True:
                self._queue.get_nowait()
        transport = self.request.transport
        if transport is not None:
            transport.abort()

    async def _write(self) -> None:
        try:
            while True:
                message = await self._next()
                if message is None:
                    await self.response.write(b":\n\n")  # an event-stream comment
                    continue
                data = self.render(message)
                if data is None:
                    continue
                if isinstance(self.response, web.WebSocketResponse):
                    if isinstance(data, bytes):
                        await self.response.send_bytes(data)
                    else:
                        await self.response.send_str(data)
                else:
                    await self.response.write(event_stream_bytes(data))
        except asyncio.CancelledError:
            raise
        except (ConnectionError, RuntimeError) as error:
            # The client went away (aiohttp raises ConnectionResetError, or RuntimeError for
            # a response already finished): this member is done.
            logger.debug("%s: stopped writing (%s)", self.request.path, error)
            self._closed.set()
        except Exception:
            # A message that render() cannot handle: say so, and close rather than go quiet.
            logger.exception("%s: a group message could not be sent", self.request.path)
            self._close(1011, "internal error")

    async def _next(self) -> LayerMessage | None:
        """The next queued message; None when an event stream has been idle for a heartbeat."""
        if self.heartbeat is None or self.is_websocket:
            return await self._queue.get()
        try:
            return await asyncio.wait_for(self._queue.get(), self.heartbeat)
        except TimeoutError:
            return None


def event_stream_bytes(data: str | bytes) -> bytes:
    """Text as one server-sent event (each line a ``data:`` field); bytes are sent as they are."""
    if isinstance(data, bytes):
        return data
    lines = data.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "".join(f"data: {line}\n" for line in lines).encode() + b"\n"


def join(
    request: web.Request,
    response: web.StreamResponse,
    *groups: str,
    render: Render = to_json,
    max_queued: int = DEFAULT_MAX_QUEUED,
    heartbeat: float | None = DEFAULT_HEARTBEAT,
) -> Membership:
    """Make a prepared websocket or event stream a member of ``groups`` in an ``async with``.

    Every message sent to one of the groups (``group_send``, from any process when the channel
    layer is Redis) is written to the client as ``render(message)``: by default the message as
    JSON, over a websocket as a text frame, over an event stream as one event. A client that
    falls ``max_queued`` messages behind is disconnected. Leaving the block leaves the groups.
    ``heartbeat`` is the idle interval after which an event stream gets a comment line.
    """
    return Membership(
        request, response, groups, render=render, max_queued=max_queued, heartbeat=heartbeat
    )
