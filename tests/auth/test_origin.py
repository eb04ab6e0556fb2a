"""The websocket Origin check that protect_lifted_view applies to every lifted view."""

from __future__ import annotations

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from django.contrib.auth.models import User
from multidict import CIMultiDict
from pytest_django import Settings

from aiodjango.lifted import allow_any_origin, get_user, login_required, protect_lifted_view
from aiodjango.wsgi.environ import URL_SCHEME
from tests.support.lifted import cookie_header, login
from tests.support.servers import AiohttpClient, ServeLifted

from . import views


async def handshake(
    client: TestClient[web.Request, web.Application],
    path: str,
    origin: str | None,
    method: str = "GET",
    *,
    host: str | None = None,
    cookies: dict[str, str] | None = None,
) -> int:
    """The handshake's status: 101 when the socket opened, else the refusal's status.

    ``host`` replaces the Host header: the site the client believes it talks to.
    """
    headers = {} if origin is None else {"Origin": origin}
    if host is not None:
        headers["Host"] = host
    if cookies:
        headers.update(cookie_header(cookies))
    try:
        socket = await client.ws_connect(path, headers=headers, method=method)
    except aiohttp.WSServerHandshakeError as refused:
        return refused.status
    await socket.send_str("ping")
    assert await socket.receive_str(timeout=5) == "echo: ping"
    await socket.close()
    return 101


async def test_only_the_sites_own_origin_is_accepted(serve_lifted: ServeLifted) -> None:
    """Django's CSRF origin rule: the request's own scheme://host[:port], nothing less."""
    client = await serve_lifted(echo=views.echo_socket)
    assert await handshake(client, "/echo/", f"http://127.0.0.1:{client.port}") == 101
    # Same host, another port or scheme: another origin (127.0.0.1 is in ALLOWED_HOSTS).
    assert await handshake(client, "/echo/", "http://127.0.0.1:9999") == 403
    assert await handshake(client, "/echo/", "http://127.0.0.1") == 403
    assert await handshake(client, "/echo/", "https://127.0.0.1") == 403
    assert await handshake(client, "/echo/", f"https://127.0.0.1:{client.port}") == 403
    # Another allowed host is another site too.
    assert await handshake(client, "/echo/", "http://localhost:3000") == 403
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


async def test_several_origin_headers_are_refused(serve_lifted: ServeLifted) -> None:
    client = await serve_lifted(echo=views.echo_socket)
    own = f"http://127.0.0.1:{client.port}"
    for origins in ([own, own], [own, "http://evil.example"], ["http://evil.example", own]):
        headers = CIMultiDict(("Origin", origin) for origin in origins)
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await client.ws_connect("/echo/", headers=headers)
        assert refused.value.status == 403


async def test_any_allowed_host_is_no_licence_for_any_origin(
    serve_lifted: ServeLifted, settings: Settings
) -> None:
    """With ALLOWED_HOSTS = ["*"] the origin must still be the host the request names."""
    settings.ALLOWED_HOSTS = ["*"]
    client = await serve_lifted(echo=views.echo_socket)
    assert await handshake(client, "/echo/", "https://evil.example") == 403
    assert await handshake(client, "/echo/", "http://anything.example") == 403
    assert await handshake(client, "/echo/", f"http://127.0.0.1:{client.port}") == 101
    # A page of the site as reached under another name opens sockets on that name.
    assert await handshake(client, "/echo/", "http://chat.example", host="chat.example") == 101


async def test_the_host_must_pass_allowed_hosts(
    serve_lifted: ServeLifted, settings: Settings
) -> None:
    settings.ALLOWED_HOSTS = [".example.com"]
    client = await serve_lifted(echo=views.echo_socket)
    own = "http://chat.EXAMPLE.com:8443"
    assert await handshake(client, "/echo/", own, host="chat.EXAMPLE.com:8443") == 101
    assert await handshake(client, "/echo/", "http://example.com", host="chat.example.com") == 403
    # A refused host gets Django's 400 before any Origin rule applies.
    assert await handshake(client, "/echo/", "http://evil.example", host="evil.example") == 400


async def test_debug_with_empty_allowed_hosts_allows_local_hosts(
    serve_lifted: ServeLifted, settings: Settings
) -> None:
    settings.DEBUG = True
    settings.ALLOWED_HOSTS = []
    client = await serve_lifted(echo=views.echo_socket)
    local = "localhost:8000"
    assert await handshake(client, "/echo/", "http://localhost:8000", host=local) == 101
    assert await handshake(client, "/echo/", "http://app.localhost", host="app.localhost") == 101
    assert await handshake(client, "/echo/", "http://[::1]:8000", host="[::1]:8000") == 101
    assert await handshake(client, "/echo/", "http://localhost:3000", host=local) == 403
    settings.DEBUG = False
    assert await handshake(client, "/echo/", "http://localhost:8000", host=local) == 400


async def test_the_scheme_is_the_applications(
    serve_lifted: ServeLifted, settings: Settings, aiohttp_client: AiohttpClient
) -> None:
    """Behind a TLS proxy the site's origin is https://, as url_scheme or the proxy header say."""
    app = web.Application()
    app[URL_SCHEME] = "https"  # what get_aio_application(url_scheme="https") sets
    app.router.add_get("/echo/", protect_lifted_view(views.echo_socket, views.echo_socket))
    client = await aiohttp_client(app)
    own = f"127.0.0.1:{client.port}"
    assert await handshake(client, "/echo/", f"https://{own}") == 101
    assert await handshake(client, "/echo/", f"http://{own}") == 403
    client = await serve_lifted(echo=views.echo_socket)
    own = f"127.0.0.1:{client.port}"
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    assert await handshake(client, "/echo/", f"https://{own}") == 403
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await client.ws_connect(
            "/echo/", headers={"Origin": f"http://{own}", "X-Forwarded-Proto": "https"}
        )
    assert refused.value.status == 403
    async with client.ws_connect(
        "/echo/", headers={"Origin": f"https://{own}", "X-Forwarded-Proto": "https"}
    ) as socket:
        await socket.send_str("hi")
        assert await socket.receive_str(timeout=5) == "echo: hi"


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


@pytest.mark.django_db(transaction=True)
async def test_allow_any_origin_is_not_inherited(serve_lifted: ServeLifted, alice: User) -> None:
    """A login_required subclass of a marked class keeps the Origin check for its sockets."""

    @allow_any_origin
    class Public(web.View):
        async def get(self) -> web.WebSocketResponse:
            return await views.echo_socket(self.request)

    class Private(Public):
        @login_required
        async def get(self) -> web.WebSocketResponse:
            assert (await get_user(self.request)).is_authenticated
            return await views.echo_socket(self.request)

    client = await serve_lifted(("GET", "/public/", Public), ("GET", "/private/", Private))
    cookies = await login(alice)
    own = f"http://127.0.0.1:{client.port}"
    assert await handshake(client, "/public/", "http://evil.example", cookies=cookies) == 101
    assert await handshake(client, "/private/", "http://evil.example", cookies=cookies) == 403
    assert await handshake(client, "/private/", own, cookies=cookies) == 101


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
