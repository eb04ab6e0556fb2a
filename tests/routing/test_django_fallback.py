"""Lifted routes in front of the real Django WSGI app: APPEND_SLASH, shadowing, script names."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from django.core.wsgi import get_wsgi_application

from aiodjango.routing import add_lifted_routes
from aiodjango.wsgi import WSGIHandler, add_wsgi_route
from tests.support.routes import RICH
from tests.support.servers import AiohttpClient

MakeClient = Callable[[str], Awaitable[TestClient[web.Request, web.Application]]]


@pytest.fixture
async def django_client(aiohttp_client: AiohttpClient, settings: Any) -> AsyncIterator[MakeClient]:
    settings.ROOT_URLCONF = RICH
    handlers: list[WSGIHandler] = []

    async def make(script_name: str = "") -> TestClient[web.Request, web.Application]:
        handler = WSGIHandler(get_wsgi_application())
        handlers.append(handler)
        app = web.Application()
        add_lifted_routes(app.router, handler, script_name=script_name)
        add_wsgi_route(app.router, handler, script_name)
        return await aiohttp_client(app)

    yield make
    for handler in handlers:
        handler.shutdown()


@pytest.mark.parametrize("script_name", ["", "/mount"])
async def test_a_lifted_url_without_its_slash_is_redirected(
    django_client: MakeClient, script_name: str
) -> None:
    client = await django_client(script_name)
    response = await client.get(script_name + "/shop/items/5", allow_redirects=False)
    assert response.status == 301
    assert response.headers["Location"] == script_name + "/shop/items/5/"
    response = await client.get(script_name + "/shop/items/5")
    assert await response.text() == "item|()|[('pk', 5)]"
    response = await client.get(script_name + "/sync")
    assert await response.text() == "django:plain_sync"


@pytest.mark.parametrize("script_name", ["", "/mount"])
async def test_django_answers_what_its_order_gives_it(
    django_client: MakeClient, script_name: str
) -> None:
    client = await django_client(script_name)
    for url, expected in [
        ("/blog/hello/", "django:blog_post"),
        ("/blog/hello%20world/", "blog_title|()|[('title', 'hello world')]"),
        ("/news/archive/", "news|()|[('slug', 'archive')]"),
        ("/numbers/x/", "django:not_a_number"),
        ("/shop/items/new/", "django:new_item"),
        ("/django-cbv/", "django:AsyncDjangoView"),
        ("/annotated/", "django:annotated"),
        ("/catch/me/", "django:catch_all"),
    ]:
        response = await client.get(script_name + url)
        assert await response.text() == expected, url
    response = await client.get(script_name + "/nowhere/")
    assert response.status == 404
