"""The websocket Origin check that protect_lifted_view applies to every lifted view."""

from __future__ import annotations

import aiohttp
from aiohttp import web
from pytest_django import Settings

from aiodjango.lifted import allow_any_origin, protect_lifted_view
from tests.support.servers import ServeLifted

from . import views


async def handshake(client: object, path: str, origin: str | None, method: str = "GET") -> int:
    """The handshake's status: 101 when the socket opened, else the refusal's status."""
    headers = {} if origin is None else {"Origin": origin}
    try:
        socket = await client.ws_connect(path, headers=headers, method=method)  # type: ignore[attr-defined]
    except aiohttp.WSServerHandshakeError as refused:
        return refused.status
    await socket.send_str("ping")
    assert await socket.receive_str(timeout=5) == "echo: ping"
    await socket.close()
    return 101


async def test_same_origin_accepted_cross_origin_refused(serve_lifted: ServeLifted) -> None:
    client = await serve_lifted(echo=views.echo_socket)
    assert await handshake(client, "/echo/", f"http://127.0.0.1:{client.port}") == 101
    assert await handshake(client, "/echo/", "http://localhost:3000") == 101  # in ALLOWED_HOSTS
    assert await handshake(client, "/echo/", "http://evil.example") == 403
    assert await handshake(client, "/echo/", "http://127.0.0.1.evil.example") == 403
    assert await handshake(client, "/echo/", "null") == 403
    assert await handshake(client, "/echo/", "http://[::1") == 403  # malformed


async def test_a_handshake_with_another_method_is_checked_too(serve_lifted: ServeLifted) -> None:
    """aiohttp opens a websocket whatever the request's method: the Origin check must not care."""
    client = await serve_lifted(echo=views.echo_socket)
    assert await handshake(client, "/echo/", "http://evil.example", method="POST") == 403
    assert (
        await handshake(client, "/echo/", f"http://127.0.0.1:{client.port}", method="POST") == 101
    )


async def test_absent_origin_is_accepted(serve_lifted: ServeLifted) -> None:
    """Clients that are not browsers send no Origin and carry no ambient cookies to abuse."""
    client = await serve_lifted(echo=views.echo_socket)
    assert await handshake(client, "/echo/", None) == 101


async def test_allowed_hosts_patterns(serve_lifted: ServeLifted, settings: Settings) -> None:
    settings.ALLOWED_HOSTS = [".example.com", "127.0.0.1"]
    client = await serve_lifted(echo=views.echo_socket)
    assert await handshake(client, "/echo/", "https://example.com") == 101
    assert await handshake(client, "/echo/", "https://chat.EXAMPLE.com:8443") == 101
    assert await handshake(client, "/echo/", "https://example.com.evil.example") == 403
    assert await handshake(client, "/echo/", "http://localhost") == 403
    settings.ALLOWED_HOSTS = ["*"]
    assert await handshake(client, "/echo/", "http://anything.example") == 101


async def test_debug_with_empty_allowed_hosts_allows_local_origins(
    serve_lifted: ServeLifted, settings: Settings
) -> None:
    settings.DEBUG = True
    settings.ALLOWED_HOSTS = []
    client = await serve_lifted(echo=views.echo_socket)
    assert await handshake(client, "/echo/", "http://localhost:8000") == 101
    assert await handshake(client, "/echo/", "http://app.localhost:8000") == 101
    assert await handshake(client, "/echo/", "http://[::1]:8000") == 101
    assert await handshake(client, "/echo/", "http://example.com") == 403
    settings.DEBUG = False
    assert await handshake(client, "/echo/", "http://localhost:8000") == 403


async def test_csrf_trusted_origins_are_accepted(
    serve_lifted: ServeLifted, settings: Settings
) -> None:
    settings.CSRF_TRUSTED_ORIGINS = ["https://app.example.net", "https://*.example.org"]
    client = await serve_lifted(echo=views.echo_socket)
    assert await handshake(client, "/echo/", "https://app.example.net") == 101
    assert await handshake(client, "/echo/", "http://app.example.net") == 403
    assert await handshake(client, "/echo/", "https://other.example.net") == 403
    assert await handshake(client, "/echo/", "https://chat.example.org") == 101
    assert await handshake(client, "/echo/", "https://example.org") == 101
    assert await handshake(client, "/echo/", "http://chat.example.org") == 403


async def test_allow_any_origin_opts_out(serve_lifted: ServeLifted) -> None:
    client = await serve_lifted(public=views.public_socket)
    socket = await client.ws_connect("/public/", headers={"Origin": "http://evil.example"})
    assert await socket.receive_str(timeout=5) == "public"
    await socket.close()


async def test_allow_any_origin_on_a_class_based_view(serve_lifted: ServeLifted) -> None:
    @allow_any_origin
    class Public(web.View):
        async def get(self) -> web.WebSocketResponse:
            return await views.echo_socket(self.request)

    client = await serve_lifted(("GET", "/public/", Public))
    assert await handshake(client, "/public/", "http://evil.example") == 101


async def test_plain_http_requests_are_not_checked(serve_lifted: ServeLifted) -> None:
    client = await serve_lifted(plain=views.plain)
    response = await client.get("/plain/", headers={"Origin": "http://evil.example"})
    assert (response.status, await response.text()) == (200, "plain")


async def test_refused_handshake_never_reaches_the_view(aiohttp_client: object) -> None:
    calls: list[str] = []

    async def view(request: web.Request) -> web.StreamResponse:
        calls.append(request.path)
        return await views.echo_socket(request)

    app = web.Application()
    app.router.add_get("/echo/", protect_lifted_view(view, view))
    client = await aiohttp_client(app)  # type: ignore[operator]
    assert await handshake(client, "/echo/", "http://evil.example") == 403
    assert calls == []
    assert await handshake(client, "/echo/", None) == 101
    assert calls == ["/echo/"]
