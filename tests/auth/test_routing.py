"""The protection reaches lifted views through aiodjango's routing, as the application wires it."""

from __future__ import annotations

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from django.conf import settings
from django.contrib.auth.models import User
from django.http import HttpRequest
from django.middleware.csrf import get_token

from aiodjango.lifted import protect_lifted_view
from aiodjango.routing import add_lifted_routes
from tests.support.lifted import login
from tests.support.servers import AiohttpClient

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
async def client(aiohttp_client: AiohttpClient) -> TestClient[web.Request, web.Application]:
    async def not_lifted(request: web.Request) -> web.Response:
        return web.Response(status=404, text="not lifted")

    app = web.Application()
    add_lifted_routes(
        app.router, not_lifted, urlconf="tests.auth.urls", wrap_view=protect_lifted_view
    )
    return await aiohttp_client(app)


async def test_decorated_views_with_arguments(
    client: TestClient[web.Request, web.Application], alice: User
) -> None:
    response = await client.get("/articles/2024/lifted/", allow_redirects=False)
    assert response.headers["Location"] == "/accounts/login/?next=/articles/2024/lifted/"
    response = await client.get("/articles/2024/lifted/", cookies=await login(alice))
    assert await response.text() == "alice reads 2024/lifted"
    assert (await client.post("/comments/2024/")).status == 403
    secret_holder = HttpRequest()
    token = get_token(secret_holder)
    response = await client.post(
        "/comments/2024/",
        cookies={settings.CSRF_COOKIE_NAME: secret_holder.META["CSRF_COOKIE"]},
        headers={"X-CSRFToken": token},
    )
    assert await response.text() == "comment on 2024"


async def test_origin_check_and_opt_out(client: TestClient[web.Request, web.Application]) -> None:
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await client.ws_connect("/echo/", headers={"Origin": "http://evil.example"})
    assert refused.value.status == 403
    origin = f"http://127.0.0.1:{client.port}"
    async with client.ws_connect("/echo/", headers={"Origin": origin}) as socket:
        await socket.send_str("hi")
        assert await socket.receive_str(timeout=5) == "echo: hi"
    async with client.ws_connect("/public/", headers={"Origin": "http://evil.example"}) as socket:
        assert await socket.receive_str(timeout=5) == "public"


async def test_session_saved(client: TestClient[web.Request, web.Application]) -> None:
    assert [(await (await client.get("/count/")).json())["count"] for _ in range(2)] == [1, 2]
