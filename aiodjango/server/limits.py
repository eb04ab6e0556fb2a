"""Caps on what an application serves on the event loop: requests in flight, open websockets.

The WSGI adapter bounds Django's sync views with its threads and queue. Requests served on the
loop (lifted aiohttp views, Django's async views, any aiohttp handler) hold no thread, but
each holds memory and a descriptor, and shares the loop's time with all the others. Past a
cap, a new request gets ``503`` with ``Retry-After`` at once, as from the WSGI queue, before
its view runs; a websocket handshake is refused before it completes. Everything else (the
requests under the cap, the sync views) is served as usual.

There are two caps because the two kinds of load differ. A request on the loop is short or,
for an event stream or a long poll, one of a few; a websocket lives for minutes or hours and
a busy site holds thousands. A websocket handshake counts only against ``max_websockets``,
for as long as its view runs; every other request against ``max_async_requests``, shared by
lifted views and Django's async views, which compete for the same loop.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Awaitable, Callable
from typing import Final

from aiohttp import web

from ..wsgi.handler import RETRY_AFTER
from ..wsgi.sending import plain
from .websockets import is_websocket_handshake

__all__ = [
    "DEFAULT_MAX_ASYNC_REQUESTS",
    "DEFAULT_MAX_WEBSOCKETS",
    "LOOP_LIMITS",
    "LoopLimits",
    "limit_application",
]

DEFAULT_MAX_ASYNC_REQUESTS: Final = 1000
"""Requests (not websockets) served on the loop at once; past it, 503 with Retry-After."""
DEFAULT_MAX_WEBSOCKETS: Final = 10_000
"""Websockets open at once; past it, handshakes get 503 with Retry-After."""

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class LoopLimits:
    """The two caps of one application and what is in flight under each.

    ``None`` means no cap. The caps may be changed until the application serves (the command
    line does, for its options).
    """

    __slots__ = ("_request_cap", "_websocket_cap", "requests", "websockets")

    def __init__(
        self,
        max_async_requests: int | None = DEFAULT_MAX_ASYNC_REQUESTS,
        max_websockets: int | None = DEFAULT_MAX_WEBSOCKETS,
    ) -> None:
        #: Requests being served under the cap now.
        self.requests = 0
        #: Websocket handshakes and open websockets whose view is running now.
        self.websockets = 0
        self.max_async_requests = max_async_requests
        self.max_websockets = max_websockets

    @property
    def max_async_requests(self) -> int | None:
        return None if self._request_cap == sys.maxsize else self._request_cap

    @max_async_requests.setter
    def max_async_requests(self, value: int | None) -> None:
        self._request_cap = _cap("max_async_requests", value)

    @property
    def max_websockets(self) -> int | None:
        return None if self._websocket_cap == sys.maxsize else self._websocket_cap

    @max_websockets.setter
    def max_websockets(self, value: int | None) -> None:
        self._websocket_cap = _cap("max_websockets", value)

    def limit(self, handler: Handler) -> Handler:
        """``handler`` under both caps: websocket handshakes under ``max_websockets``, other
        requests under ``max_async_requests``."""

        # A partial, not a coroutine around _serve: one frame less per request.
        limited = functools.partial(self._serve, handler)
        return functools.update_wrapper(limited, handler, updated=())

    def limit_requests(self, handler: Handler) -> Handler:
        """``handler`` under ``max_async_requests`` alone (it opens no websockets)."""

        async def limited(request: web.Request) -> web.StreamResponse:
            if self.requests >= self._request_cap:
                return busy()
            self.requests += 1
            try:
                return await handler(request)
            finally:
                self.requests -= 1

        return functools.update_wrapper(limited, handler, updated=())

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Both caps as an aiohttp middleware, for an application aiodjango did not build."""
        return await self._serve(handler, request)

    async def _serve(self, handler: Handler, request: web.Request) -> web.StreamResponse:
        """Serve ``request`` with ``handler`` under the cap it counts against."""
        if is_websocket_handshake(request):
            if self.websockets >= self._websocket_cap:
                return busy()
            self.websockets += 1
            try:
                return await handler(request)
            finally:
                self.websockets -= 1
        if self.requests >= self._request_cap:
            return busy()
        self.requests += 1
        try:
            return await handler(request)
        finally:
            self.requests -= 1


#: The caps of an application: ``get_aio_application()`` sets them; the command line changes
#: them (or adds them, with a middleware, to an application it did not build).
LOOP_LIMITS = web.AppKey("aiodjango.loop_limits", LoopLimits)


def busy() -> web.Response:
    """The refusal past a cap: the WSGI queue's, ``503`` with the same ``Retry-After``."""
    return plain(503, "Server busy, retry later\n", **{"Retry-After": RETRY_AFTER})


def limit_application(
    app: web.Application,
    *,
    max_async_requests: int | None = None,
    max_websockets: int | None = None,
) -> LoopLimits:
    """Set the caps of ``app`` (None: leave that cap as it is).

    An application from ``get_aio_application()`` has its caps changed. Any other aiohttp
    application serves every request on the loop: it gets the caps given, and no others, as
    its outermost middleware. Call it before the application starts serving.
    """
    limits = app.get(LOOP_LIMITS)
    if limits is None:
        limits = app[LOOP_LIMITS] = LoopLimits(None, None)
        app.middlewares.insert(0, limits.middleware)
    if max_async_requests is not None:
        limits.max_async_requests = max_async_requests
    if max_websockets is not None:
        limits.max_websockets = max_websockets
    return limits


def _cap(name: str, value: int | None) -> int:
    if value is None:
        return sys.maxsize
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    return value
