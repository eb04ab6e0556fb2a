"""The suite's in-process servers: aiohttp applications served on 127.0.0.1 in this process.

The fixtures (registered for the whole suite) are one family, each named for what it serves:

- ``serve_wsgi``: a WSGI application through :class:`WSGIHandler`, with pytest-aiohttp's test
  server (which cancels a handler when its client disconnects);
- ``serve_wsgi_plain``: the same with aiohttp's production defaults (no such cancelling);
- ``serve_lifted``: coroutine views each wrapped by ``protect_lifted_view``, as routing does;
- ``serve_urlconf``: a URLconf's lifted routes in front of a fallback.

:class:`LiveServer` serves an application from its own thread, for sync clients.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from aiodjango.lifted import protect_lifted_view
from aiodjango.wsgi import WSGIHandler, add_wsgi_route

from .routes import RICH, build_app

#: The type of pytest-aiohttp's ``aiohttp_client`` fixture, for annotations.
AiohttpClient = Callable[..., Awaitable[TestClient[web.Request, web.Application]]]


@dataclass
class Served:
    """A WSGI application being served: the test client and the adapter behind it."""

    client: TestClient[web.Request, web.Application]
    handler: WSGIHandler

    @property
    def address(self) -> tuple[str, int]:
        assert self.client.port is not None
        return self.client.host, self.client.port


#: The type of ``serve_wsgi``.
MakeServed = Callable[..., Awaitable[Served]]
#: The type of ``serve_wsgi_plain``: it returns the host, the port and the adapter.
MakePlainServed = Callable[..., Awaitable[tuple[str, int, WSGIHandler]]]
#: The type of ``serve_lifted``.
ServeLifted = Callable[..., Awaitable[TestClient[web.Request, web.Application]]]
#: The type of ``serve_urlconf``.
MakeClient = Callable[..., Awaitable[TestClient[web.Request, web.Application]]]


def shutdown_bounded(handler: WSGIHandler, timeout: float = 10.0) -> None:
    """Stop the adapter's pool; fail if a worker thread is still stuck after ``timeout``."""
    stopper = threading.Thread(target=handler.shutdown)
    stopper.start()
    stopper.join(timeout)
    assert not stopper.is_alive(), "a worker thread is still busy: it was leaked"


@pytest.fixture
async def serve_wsgi(aiohttp_client: AiohttpClient) -> AsyncIterator[MakeServed]:
    """Serve a WSGI application through WSGIHandler with pytest-aiohttp's test server."""
    handlers: list[WSGIHandler] = []

    async def make(
        application: Any,
        script_name: str = "",
        middlewares: tuple[Any, ...] = (),
        **handler_kwargs: Any,
    ) -> Served:
        handler = WSGIHandler(application, **handler_kwargs)
        handlers.append(handler)
        app = web.Application(middlewares=middlewares)
        add_wsgi_route(app.router, handler, script_name)
        return Served(await aiohttp_client(app), handler)

    yield make
    for handler in handlers:
        shutdown_bounded(handler)


@pytest.fixture
async def serve_wsgi_plain() -> AsyncIterator[MakePlainServed]:
    """Serve with aiohttp's production defaults (handlers are not cancelled on disconnect)."""
    runners: list[tuple[web.AppRunner, WSGIHandler]] = []

    async def make(application: Any, **handler_kwargs: Any) -> tuple[str, int, WSGIHandler]:
        handler = WSGIHandler(application, **handler_kwargs)
        app = web.Application()
        add_wsgi_route(app.router, handler)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        runners.append((runner, handler))
        host, port = runner.addresses[0][:2]
        return str(host), int(port), handler

    yield make
    for runner, handler in runners:
        await runner.cleanup()
        shutdown_bounded(handler)


@pytest.fixture
def serve_lifted(aiohttp_client: AiohttpClient) -> ServeLifted:
    """Serve views on a real socket, each wrapped by ``protect_lifted_view`` as routing does.

    Routes are ``path=view`` pairs for GET and POST; ``("METHOD", path, view)`` tuples for others.
    """

    async def serve(
        *routes: tuple[str, str, Callable[..., Awaitable[web.StreamResponse]]],
        **views: Callable[..., Awaitable[web.StreamResponse]],
    ) -> TestClient[web.Request, web.Application]:
        app = web.Application()
        for name, view in views.items():
            path = "/" + name.replace("_", "-") + "/"
            app.router.add_route("*", path, protect_lifted_view(view, view))
        for method, path, view in routes:
            app.router.add_route(method, path, protect_lifted_view(view, view))
        return await aiohttp_client(app)

    return serve


@pytest.fixture
def serve_urlconf(aiohttp_client: AiohttpClient) -> MakeClient:
    """Serve a URLconf's lifted routes in front of a fallback (see :func:`routes.build_app`)."""

    async def make(
        urlconf: str | ModuleType = RICH, **options: Any
    ) -> TestClient[web.Request, web.Application]:
        app, _ = build_app(urlconf, **options)
        return await aiohttp_client(app)

    return make


class LiveServer:
    """An aiohttp app served from its own thread, for tests driven by a sync client."""

    def __init__(self, app: web.Application) -> None:
        self._loop = asyncio.new_event_loop()
        self._runner = web.AppRunner(app)
        self._loop.run_until_complete(self._runner.setup())
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        self._loop.run_until_complete(site.start())
        self.port: int = self._runner.addresses[0][1]
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.run_until_complete(self._runner.cleanup())
        self._loop.close()
