"""``get_aio_application``: lifted views, static files and the Django WSGI app in one aiohttp app."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aiohttp import WSCloseCode, WSMsgType, web
from aiohttp.test_utils import TestClient
from django.core.exceptions import ImproperlyConfigured
from django.core.wsgi import get_wsgi_application
from django.test import override_settings

from aiodjango import get_aio_application
from aiodjango.application import get_internal_aio_application
from aiodjango.server import (
    DEFAULT_MAX_ASYNC_REQUESTS,
    DEFAULT_MAX_WEBSOCKETS,
    LOOP_LIMITS,
    WEBSOCKET_DEFAULTS,
    WEBSOCKETS,
    WebSocketDefaults,
    watch_websocket,
)
from tests.support.servers import AiohttpClient

URLCONF = "tests.project.urls"


@pytest.fixture(autouse=True)
def project_urls(settings: Any) -> None:
    """The Django app and the lifting both use the test project's URLconf."""
    settings.ROOT_URLCONF = URLCONF


async def test_urlconf_argument_chooses_what_is_lifted(
    aiohttp_client: AiohttpClient, settings: Any
) -> None:
    settings.ROOT_URLCONF = "tests.urls"
    client = await aiohttp_client(get_aio_application(urlconf=URLCONF))
    assert (await (await client.get("/async/hello/")).text()).startswith("async hello")
    # The Django app still uses ROOT_URLCONF.
    assert await (await client.get("/hello/")).text() == "hello from django"


@pytest.fixture
async def client(aiohttp_client: AiohttpClient) -> TestClient[web.Request, web.Application]:
    return await aiohttp_client(get_aio_application())


async def test_coroutine_views_are_served_by_aiohttp(
    client: TestClient[web.Request, web.Application],
) -> None:
    response = await client.get("/async/hello/")
    assert response.status == 200
    assert (await response.text()).startswith("async hello from pid")


async def test_other_views_go_to_django(client: TestClient[web.Request, web.Application]) -> None:
    response = await client.get("/hello/")
    assert response.status == 200
    assert (await response.text()).startswith("sync hello from pid")
    response = await client.get("/nowhere/")
    assert response.status == 404
    assert "text/html" in response.headers["Content-Type"]


async def test_lifted_views_get_converted_arguments(
    client: TestClient[web.Request, web.Application],
) -> None:
    response = await client.get("/async/slow/0.01/")
    assert await response.text() == "async slept 0.01"


async def test_websocket_through_a_lifted_view(
    client: TestClient[web.Request, web.Application],
) -> None:
    async with client.ws_connect("/ws/echo/") as socket:
        await socket.send_str("hello")
        assert await socket.receive_str(timeout=5) == "echo: hello"


async def test_lifted_websockets_are_closed_with_1001_when_the_app_stops(
    aiohttp_client: AiohttpClient,
) -> None:
    app = get_aio_application()

    async def own_socket(request: web.Request) -> web.WebSocketResponse:
        """A handler added by hand: it asks for its websocket to be watched."""
        watch_websocket(request)
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        async for _ in ws:
            pass
        return ws

    app.router.add_get("/own-socket/", own_socket)
    client = await aiohttp_client(app)
    lifted = await client.ws_connect("/ws/echo/")
    own = await client.ws_connect("/own-socket/")
    await lifted.send_str("hello")
    assert await lifted.receive_str(timeout=5) == "echo: hello"
    assert len(app[WEBSOCKETS]) == 2

    await client.server.close()  # runs on_shutdown before waiting for handlers
    for ws in (lifted, own):
        message = await ws.receive(timeout=5)
        assert message.type is WSMsgType.CLOSE
        assert message.data == WSCloseCode.GOING_AWAY


async def test_plain_responses_are_not_watched(
    client: TestClient[web.Request, web.Application],
) -> None:
    """Only websocket handshakes pay for the shutdown's bookkeeping: no per-response hook."""
    app = client.app
    assert app is not None
    assert list(app.on_response_prepare) == []
    assert (await client.get("/async/hello/")).status == 200
    assert len(app[WEBSOCKETS]) == 0


async def test_handler_options_reach_the_wsgi_adapter(aiohttp_client: AiohttpClient) -> None:
    client = await aiohttp_client(get_aio_application(max_request_body_size=10))
    response = await client.post("/hello/", data=b"x" * 11)
    assert response.status == 413


def test_unknown_handler_option_is_a_clear_error() -> None:
    with pytest.raises(TypeError, match="colour"):
        get_aio_application(colour="blue")


async def test_script_name_mounts_both_halves(aiohttp_client: AiohttpClient) -> None:
    client = await aiohttp_client(get_aio_application(script_name="/site"))
    assert (await (await client.get("/site/async/hello/")).text()).startswith("async hello")
    assert (await (await client.get("/site/hello/")).text()).startswith("sync hello")
    assert (await client.get("/async/hello/")).status == 404


@override_settings(FORCE_SCRIPT_NAME="/forced/")
async def test_force_script_name_is_the_default_prefix(aiohttp_client: AiohttpClient) -> None:
    client = await aiohttp_client(get_aio_application())
    assert (await (await client.get("/forced/async/hello/")).text()).startswith("async hello")
    assert (await (await client.get("/forced/hello/")).text()).startswith("sync hello")


async def test_include_static_serves_static_root(
    aiohttp_client: AiohttpClient, tmp_path: Path
) -> None:
    (tmp_path / "css").mkdir()
    (tmp_path / "css" / "site.css").write_text("body { color: teal; }")
    with override_settings(STATIC_ROOT=tmp_path, STATIC_URL="/assets/"):
        app = get_aio_application(include_static=True)
    client = await aiohttp_client(app)
    response = await client.get("/assets/css/site.css")
    assert response.status == 200
    assert await response.text() == "body { color: teal; }"
    assert (await client.get("/assets/css/missing.css")).status == 404
    assert (await client.get("/assets/../settings.py")).status in (403, 404)


@override_settings(STATIC_ROOT=None)
def test_include_static_without_static_root_names_the_setting() -> None:
    with pytest.raises(ImproperlyConfigured, match="STATIC_ROOT"):
        get_aio_application(include_static=True)


@override_settings(STATIC_URL="https://cdn.example.com/static/", STATIC_ROOT="/tmp")
def test_include_static_refuses_a_remote_static_url() -> None:
    with pytest.raises(ImproperlyConfigured, match=r"cdn\.example\.com"):
        get_aio_application(include_static=True)


def test_wsgi_argument_is_what_serves_django_views() -> None:
    wsgi = get_wsgi_application()
    app = get_aio_application(wsgi)
    from aiodjango.application import WSGI_HANDLER_KEY

    assert app[WSGI_HANDLER_KEY].application is wsgi


@override_settings(WSGI_APPLICATION="tests.project.wsgi.application")
def test_internal_application_is_the_app_beside_wsgi_application() -> None:
    from tests.project import wsgi

    assert get_internal_aio_application() is wsgi.app


@override_settings(AIODJANGO_APPLICATION="tests.project.wsgi.app")
def test_internal_application_from_the_setting() -> None:
    from tests.project import wsgi

    assert get_internal_aio_application() is wsgi.app


@override_settings(WSGI_APPLICATION="tests.test_application.PLAIN_WSGI")
def test_internal_application_is_built_when_there_is_no_app() -> None:
    app = get_internal_aio_application()
    assert isinstance(app, web.Application)


@override_settings(AIODJANGO_APPLICATION="tests.project.wsgi.nothing_here")
def test_internal_application_setting_that_does_not_import() -> None:
    with pytest.raises(
        ImproperlyConfigured, match=r"AIODJANGO_APPLICATION 'tests.project.wsgi.nothing_here'"
    ):
        get_internal_aio_application()


@override_settings(AIODJANGO_APPLICATION="tests.project.wsgi.application")
def test_internal_application_setting_naming_a_wsgi_app() -> None:
    with pytest.raises(ImproperlyConfigured, match="not an aiohttp Application"):
        get_internal_aio_application()


def PLAIN_WSGI(environ: dict[str, object], start_response: object) -> list[bytes]:
    return [b""]


def test_caps_and_websocket_defaults_from_keywords_settings_or_defaults(settings: Any) -> None:
    app = get_aio_application()
    assert (app[LOOP_LIMITS].max_async_requests, app[LOOP_LIMITS].max_websockets) == (
        DEFAULT_MAX_ASYNC_REQUESTS,
        DEFAULT_MAX_WEBSOCKETS,
    )
    assert app[WEBSOCKET_DEFAULTS] == WebSocketDefaults()
    settings.AIODJANGO_MAX_ASYNC_REQUESTS = 7
    settings.AIODJANGO_MAX_WEBSOCKETS = 9
    settings.AIODJANGO_WEBSOCKET_HEARTBEAT = 0
    settings.AIODJANGO_WEBSOCKET_MAX_MSG_SIZE = 2048
    app = get_aio_application()
    assert (app[LOOP_LIMITS].max_async_requests, app[LOOP_LIMITS].max_websockets) == (7, 9)
    assert app[WEBSOCKET_DEFAULTS] == WebSocketDefaults(heartbeat=0, max_msg_size=2048)
    app = get_aio_application(max_websockets=3, websocket_max_msg_size=10)
    assert (app[LOOP_LIMITS].max_async_requests, app[LOOP_LIMITS].max_websockets) == (7, 3)
    assert app[WEBSOCKET_DEFAULTS] == WebSocketDefaults(heartbeat=0, max_msg_size=10)


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("AIODJANGO_MAX_ASYNC_REQUESTS", 0),
        ("AIODJANGO_MAX_WEBSOCKETS", "many"),
        ("AIODJANGO_WEBSOCKET_HEARTBEAT", -5),
        ("AIODJANGO_WEBSOCKET_MAX_MSG_SIZE", 1.5),
    ],
)
def test_a_bad_setting_is_named(settings: Any, setting: str, value: object) -> None:
    setattr(settings, setting, value)
    with pytest.raises(ImproperlyConfigured, match=f"^{setting}: "):
        get_aio_application()


def test_a_bad_keyword_is_named() -> None:
    with pytest.raises(ValueError, match="max_websockets must be an integer >= 1"):
        get_aio_application(max_websockets=0)
