"""Every use of a private aiohttp, Django or Python API, each with its assumption asserted.

aiodjango uses public APIs where one exists. The few things below have no public way; they
live here so that an upgrade that breaks one fails at import, naming the assumption, instead
of misbehaving at request time. CI runs the oldest and newest versions we support.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from aiohttp import web, web_response

__all__ = [
    "Latin1Response",
    "Latin1StreamResponse",
    "set_default_server_header",
    "watch_prepare",
]

# aiohttp: a request is told when a response to it is prepared, through the coroutine method
# ``Request._prepare_hook(response)`` (it sends ``on_response_prepare``). There is no public
# per-request hook; the app-wide signal costs every response of the app.
assert inspect.iscoroutinefunction(getattr(web.Request, "_prepare_hook", None)), (
    "aiohttp.web.Request._prepare_hook(response) is gone: aiodjango.server.websockets needs a "
    "new way to see websockets being prepared"
)

PrepareCallback = Callable[[web.Request, web.StreamResponse], None]

_watched_classes: dict[PrepareCallback, type[web.Request]] = {}


def watch_prepare(request: web.Request, callback: PrepareCallback) -> None:
    """Call ``callback(request, response)`` as a response to ``request`` is prepared.

    Only this request pays for it: its class becomes a subclass of ``web.Request`` (same
    layout, one method more), set with ``object.__setattr__`` because aiohttp's debug mode
    warns about attributes set on requests.
    """
    if type(request) is not web.Request:
        return
    watched = _watched_classes.get(callback)
    if watched is None:
        watched = _watched_classes[callback] = _watching_class(callback)
    object.__setattr__(request, "__class__", watched)


def _watching_class(callback: PrepareCallback) -> type[web.Request]:
    class WatchedRequest(web.Request):
        __slots__ = ()

        async def _prepare_hook(self, response: web.StreamResponse) -> None:
            callback(self, response)
            await super()._prepare_hook(response)

    return WatchedRequest


# aiohttp: a response's status line and headers are written by the coroutine method
# ``StreamResponse._write_headers()``, called once from ``prepare()`` after the headers are
# final; it serializes them as UTF-8. PEP 3333 header values and reasons are latin-1, and
# aiohttp has no public way to send the bytes 0x80-0xff in a head.
assert inspect.iscoroutinefunction(getattr(web.StreamResponse, "_write_headers", None)), (
    "aiohttp.web.StreamResponse._write_headers() is gone: aiodjango.wsgi needs a new way to "
    "send latin-1 header values"
)


class _Latin1Head:
    """Writes the head as latin-1 bytes straight to the transport, instead of UTF-8."""

    latin1_request: web.BaseRequest

    async def _write_headers(self) -> None:
        response: web.StreamResponse = self  # type: ignore[assignment]
        request = self.latin1_request
        major, minor = request.version
        lines = [f"HTTP/{major}.{minor} {response.status} {response.reason}"]
        lines += [f"{name}: {value}" for name, value in response.headers.items()]
        transport = request.transport
        if transport is None:
            raise ConnectionResetError("Connection lost")
        transport.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))


class Latin1StreamResponse(_Latin1Head, web.StreamResponse):
    """A ``StreamResponse`` for ``request`` whose reason and header values go out as latin-1."""

    def __init__(self, request: web.BaseRequest, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.latin1_request = request


class Latin1Response(_Latin1Head, web.Response):
    """A ``Response`` for ``request`` whose reason and header values go out as latin-1."""

    def __init__(self, request: web.BaseRequest, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.latin1_request = request


# aiohttp: a response without a Server header gets the module global
# ``aiohttp.web_response.SERVER_SOFTWARE`` (``Python/3.x aiohttp/3.y``), read when its headers
# are prepared, for every response including the parser's own 400s. There is no option for it,
# and a per-response hook would cost every response.
assert "SERVER_SOFTWARE" in web.StreamResponse._prepare_headers.__code__.co_names and isinstance(
    getattr(web_response, "SERVER_SOFTWARE", None), str
), (
    "aiohttp.web_response.SERVER_SOFTWARE no longer sets the default Server header: "
    "aiodjango.server.identity needs a new way to set it"
)


def set_default_server_header(value: str) -> None:
    """The ``Server`` header of every response of this process that sets none."""
    web_response.SERVER_SOFTWARE = value  # type: ignore[attr-defined]
