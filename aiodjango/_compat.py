"""Every use of a private aiohttp, Django or Python API, each with its assumption asserted.

aiodjango uses public APIs where one exists. The few things below have no public way; they
live here so that an upgrade that breaks one fails at import, naming the assumption, instead
of misbehaving at request time. CI runs the oldest and newest versions we support.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable

from aiohttp import web

__all__ = ["watch_prepare"]

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
