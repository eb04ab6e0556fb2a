"""Closing an application's websockets with 1001 (going away) when it shuts down.

A websocket is remembered as it is prepared: through aiohttp's ``on_response_prepare`` signal
for any application, or, for ``get_aio_application()``'s lifted views, only for the requests
handed to :func:`watch_websocket`, so that other requests pay nothing. The same moment gives
it the application's defaults (:mod:`aiodjango.server.websocket_defaults`).
"""

from __future__ import annotations

import asyncio
import logging
import weakref

from aiohttp import WSCloseCode, hdrs, web

from .._compat import watch_prepare
from .websocket_defaults import apply_websocket_defaults

__all__ = [
    "WEBSOCKETS",
    "WEBSOCKET_CLOSE_TIMEOUT",
    "close_websockets_on_shutdown",
    "is_websocket_handshake",
    "watch_websocket",
]

logger = logging.getLogger("aiodjango.server")


def is_websocket_handshake(request: web.BaseRequest) -> bool:
    """Whether the request asks to open a websocket.

    Whatever its method: aiohttp opens a websocket for any request that asks, not only GET.
    """
    upgrade = request.headers.get(hdrs.UPGRADE)
    return upgrade is not None and "websocket" in upgrade.lower()


#: Every websocket the application has prepared, so a shutdown can close them with 1001.
#: Filled automatically (see :func:`close_websockets_on_shutdown` and :func:`watch_websocket`).
WEBSOCKETS = web.AppKey("aiodjango.websockets", weakref.WeakSet[web.WebSocketResponse])
#: How long closing the websockets may take at shutdown, when no Server sets its own bound.
WEBSOCKET_CLOSE_TIMEOUT = 10.0
_CLOSE_TIMEOUT = web.AppKey("aiodjango.websocket_close_timeout", float)


def close_websockets_on_shutdown(
    app: web.Application,
    timeout: float = WEBSOCKET_CLOSE_TIMEOUT,
    *,
    watch_responses: bool = True,
) -> None:
    """Close every websocket ``app`` serves with code 1001 (going away) when it shuts down.

    However the application is run (:class:`Server`, ``runserver``, gunicorn's aiohttp worker),
    its ``on_shutdown`` signal comes before requests in flight are waited for, so clients hear
    that the server is leaving instead of seeing their connection cut. Closing waits at most
    ``timeout`` seconds for the clients' replies. Calling this again only changes ``timeout``.

    With ``watch_responses`` every response the application prepares is looked at, through
    aiohttp's ``on_response_prepare`` signal, which costs each request a little (its websockets
    also get the application's defaults, :func:`~aiodjango.server.set_websocket_defaults`).
    Without it,
    only the requests given to :func:`watch_websocket` are: ``get_aio_application()`` does this
    for the websocket handshakes of lifted views, so its other requests pay nothing.
    """
    if WEBSOCKETS in app:
        app[_CLOSE_TIMEOUT] = timeout
        return
    websockets: weakref.WeakSet[web.WebSocketResponse] = weakref.WeakSet()
    app[WEBSOCKETS] = websockets
    app[_CLOSE_TIMEOUT] = timeout

    async def track(request: web.Request, response: web.StreamResponse) -> None:
        # Bound to this application's set: a websocket served by a sub-application is
        # announced here too, with request.app naming the sub-application.
        if isinstance(response, web.WebSocketResponse):
            apply_websocket_defaults(request, response)
            websockets.add(response)

    if watch_responses:
        app.on_response_prepare.append(track)
    app.on_shutdown.append(_close_websockets)


def watch_websocket(request: web.Request) -> None:
    """Have the websocket prepared in answer to ``request`` closed when the application stops.

    For handlers of an application set up with ``watch_responses=False`` (such as
    ``get_aio_application()``'s) that open websockets; call it before preparing the response.
    The nearest application with :func:`close_websockets_on_shutdown` set up closes it. The
    websocket also gets the application's defaults
    (:func:`~aiodjango.server.set_websocket_defaults`) for what its view did not set.
    """
    # aiohttp tells no one else that a response to one request is being prepared.
    watch_prepare(request, _remember_websocket)


def _remember_websocket(request: web.Request, response: web.StreamResponse) -> None:
    if isinstance(response, web.WebSocketResponse):
        apply_websocket_defaults(request, response)
        websockets = request.config_dict.get(WEBSOCKETS)
        if websockets is not None:
            websockets.add(response)


async def _close_websockets(app: web.Application) -> None:
    """Close every open websocket with 1001, all at once, waiting a bounded time for replies."""
    # A websocket still in its handshake is not prepared yet and cannot be closed; its handler
    # is cancelled with the other requests in flight once the shutdown timeout has passed.
    open_websockets = [ws for ws in app[WEBSOCKETS] if ws.prepared and not ws.closed]
    if not open_websockets:
        return
    logger.info("closing %d websocket(s)", len(open_websockets))
    closing = [
        asyncio.ensure_future(ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutdown"))
        for ws in open_websockets
    ]
    # close() waits for the client's reply; a client that never answers must not hold the
    # shutdown longer than the bound.
    _, pending = await asyncio.wait(closing, timeout=app[_CLOSE_TIMEOUT])
    for task in pending:
        task.cancel()
