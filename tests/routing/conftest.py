"""Fixtures for the routing tests: aiohttp apps with lifted routes in front of a fallback."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Iterator
from types import ModuleType
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from django.urls import Resolver404, resolve

from aiodjango.routing import LiftedRoute, ViewWrapper, add_lifted_routes

from ..conftest import AiohttpClient
from .views import EXPECT_LIFTED, REQUEST_ONLY, echo

RICH = "tests.routing.urls_rich"
FALLBACK = "fallback"


async def fallback(request: web.Request) -> web.Response:
    """Stands for the WSGI app: answers whatever the lifted routes leave."""
    return web.Response(text=FALLBACK)


def build_app(
    urlconf: str | ModuleType = RICH,
    *,
    script_name: str = "",
    wrap_view: ViewWrapper | None = None,
) -> tuple[web.Application, list[LiftedRoute]]:
    app = web.Application()
    routes = add_lifted_routes(
        app.router, fallback, urlconf=urlconf, script_name=script_name, wrap_view=wrap_view
    )
    # "(?s:" so that paths with a newline reach the fallback too.
    app.router.add_route("*", "/{tail:(?s:.*)}", fallback)
    return app, routes


MakeClient = Callable[..., Awaitable[TestClient[web.Request, web.Application]]]


@pytest.fixture
def make_client(aiohttp_client: AiohttpClient) -> MakeClient:
    async def make(
        urlconf: str | ModuleType = RICH, **options: Any
    ) -> TestClient[web.Request, web.Application]:
        app, _ = build_app(urlconf, **options)
        return await aiohttp_client(app)

    return make


def django_answer(path: str, urlconf: str | ModuleType = RICH) -> tuple[str, bool]:
    """What the response to ``path`` must be, per Django's ``resolve()``.

    Returns the expected body and whether it is only the start of it (views that take the
    request alone show aiohttp's ``match_info``, which Django has no word on).
    """
    try:
        match = resolve(path, urlconf)
    except Resolver404:
        return FALLBACK, False
    label = getattr(match.func, "__name__", "")
    if label not in EXPECT_LIFTED or hasattr(match.func, "view_class"):
        return FALLBACK, False
    if label in REQUEST_ONLY:
        return f"{label}|match_info|", True
    return echo(label, match.args, match.kwargs), False


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


@pytest.fixture(scope="module")
def live_rich() -> Iterator[LiveServer]:
    app, _ = build_app(RICH)
    server = LiveServer(app)
    yield server
    server.close()
