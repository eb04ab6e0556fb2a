"""Lifted views and Django views under one rule: scheme, Host, cookies, security middleware.

Each test serves the same pages both ways from one ``get_aio_application()`` on a real socket
(``tests.auth.urls_security``), performs the attack of the audit on both, and expects the
secure answer Django gives from both.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from django.conf import settings as django_settings
from django.contrib.auth.models import User
from django.http import HttpRequest
from django.middleware.csrf import get_token
from pytest_django import Settings

from aiodjango import get_aio_application
from aiodjango.lifted import hosts
from aiodjango.lifted.middleware import login_required_middleware
from tests.support.lifted import login
from tests.support.servers import AiohttpClient

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parent.parent.parent

Client = TestClient[web.Request, web.Application]
Start = Callable[..., Awaitable[Client]]
SECURITY_HEADERS = (
    "X-Content-Type-Options",
    "Referrer-Policy",
    "Cross-Origin-Opener-Policy",
    "X-Frame-Options",
)


@pytest.fixture
def start(settings: Settings, aiohttp_client: AiohttpClient) -> Start:
    """Start the project's application (``get_aio_application(**options)``) on a real socket."""
    settings.ROOT_URLCONF = "tests.auth.urls_security"

    async def start(**options: Any) -> Client:
        return await aiohttp_client(get_aio_application(**options))

    return start


def csrf_pair() -> tuple[str, str]:
    """A CSRF cookie value and a token for it, as Django hands them to a page."""
    request = HttpRequest()
    token = get_token(request)
    return request.META["CSRF_COOKIE"], token


async def status(client: Client, method: str, path: str, **kwargs: Any) -> int:
    async with client.request(method, path, allow_redirects=False, **kwargs) as response:
        await response.read()
        return response.status


async def test_url_scheme_https_is_one_fact_for_both_paths(start: Start) -> None:
    """Behind a TLS proxy, a lifted csrf_protect view checks Referer like Django does."""
    cookie, token = csrf_pair()
    credentials: dict[str, Any] = {
        "cookies": {django_settings.CSRF_COOKIE_NAME: cookie},
        "data": {"csrfmiddlewaretoken": token},
    }
    client = await start(url_scheme="https")
    own = f"https://127.0.0.1:{client.port}/"
    for path in ("/django/page/", "/lifted/submit/"):
        evil = {"Referer": "https://evil.example/"}
        assert await status(client, "POST", path, headers=evil, **credentials) == 403, path
        assert await status(client, "POST", path, **credentials) == 403, path
        assert await status(client, "POST", path, headers={"Referer": own}, **credentials) == 200
        evil_origin = {"Origin": "https://evil.example"}
        assert await status(client, "POST", path, headers=evil_origin, **credentials) == 403
        own_origin = {"Origin": own.rstrip("/")}
        assert await status(client, "POST", path, headers=own_origin, **credentials) == 200
    # Over plain HTTP, Django does not check Referer: neither path does.
    client = await start()
    for path in ("/django/page/", "/lifted/submit/"):
        evil = {"Referer": "https://evil.example/"}
        assert await status(client, "POST", path, headers=evil, **credentials) == 200, path


async def test_host_is_checked_against_allowed_hosts(start: Start, settings: Settings) -> None:
    client = await start()
    for path in ("/django/page/", "/lifted/page/", "/lifted/stream/"):
        for host in ("evil.example", "127.0.0.1.evil.example", "localhost:80:80", "[::1"):
            assert await status(client, "GET", path, headers={"Host": host}) == 400, (path, host)
        assert await status(client, "GET", path, headers={"Host": "localhost:8000"}) == 200
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await client.ws_connect("/lifted/socket/", headers={"Host": "evil.example"})
    assert refused.value.status == 400

    settings.DEBUG = True
    settings.ALLOWED_HOSTS = []
    for path in ("/django/page/", "/lifted/page/"):
        assert await status(client, "GET", path, headers={"Host": "app.localhost"}) == 200
        assert await status(client, "GET", path, headers={"Host": "evil.example"}) == 400

    settings.DEBUG = False
    settings.ALLOWED_HOSTS = ["localhost"]
    settings.USE_X_FORWARDED_HOST = True
    for path in ("/django/page/", "/lifted/page/"):
        forwarded = {"Host": "localhost", "X-Forwarded-Host": "evil.example"}
        assert await status(client, "GET", path, headers=forwarded) == 400
        forwarded = {"Host": "evil.example", "X-Forwarded-Host": "localhost"}
        assert await status(client, "GET", path, headers=forwarded) == 200


async def test_host_verdicts_stay_bounded(start: Start) -> None:
    """A client inventing Host values gets 400 each time and cannot grow the server's memory."""
    client = await start()
    for number in range(hosts._VERDICTS_MAX + 100):
        headers = {"Host": f"h{number}.evil.example"}
        assert await status(client, "GET", "/lifted/page/", headers=headers) == 400
    assert len(hosts._verdicts) <= hosts._VERDICTS_MAX
    assert await status(client, "GET", "/lifted/page/") == 200


async def raw_get(port: int, path: str, headers: list[tuple[str, str]]) -> tuple[int, bytes]:
    """GET over a plain socket, so that repeated headers go out exactly as written."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        lines = [f"GET {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Connection: close"]
        lines += [f"{name}: {value}" for name, value in headers]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        answer = await asyncio.wait_for(reader.read(), timeout=10)
    finally:
        writer.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


async def test_several_cookie_headers_are_read_as_django_reads_them(
    start: Start, alice: User
) -> None:
    """HTTP/2 proxies split cookies over several headers: both paths see every one."""
    client = await start()
    session_cookie = "; ".join(f"{k}={v}" for k, v in (await login(alice)).items())
    headers = [("Cookie", "first=1"), ("Cookie", "second=2; third=3"), ("Cookie", session_cookie)]
    answers = {}
    assert client.port is not None
    for path in ("/django/echo/", "/lifted/echo/"):
        code, body = await raw_get(client.port, path, headers)
        assert code == 200
        answers[path] = json.loads(body)
    expected = {"first": "1", "second": "2", "third": "3", **dict([session_cookie.split("=", 1)])}
    assert answers["/django/echo/"]["cookies"] == expected
    assert answers["/lifted/echo/"]["cookies"] == expected
    # The session in the third header is the one the lifted view loads.
    name, key = session_cookie.split("=", 1)
    assert name == django_settings.SESSION_COOKIE_NAME
    assert answers["/lifted/echo/"]["session_key"] == key


async def test_security_middleware_headers_reach_lifted_responses(
    start: Start, settings: Settings
) -> None:
    settings.MIDDLEWARE = [
        *settings.MIDDLEWARE,
        "django.middleware.clickjacking.XFrameOptionsMiddleware",
    ]
    client = await start()
    async with client.get("/django/page/") as response:
        expected = {name: response.headers.get(name) for name in SECURITY_HEADERS}
    assert None not in expected.values()
    assert "Strict-Transport-Security" not in response.headers  # not over plain HTTP
    for path in ("/lifted/page/", "/lifted/stream/", "/lifted/nowhere/"):
        async with client.get(path) as response:
            got = {name: response.headers.get(name) for name in SECURITY_HEADERS}
            assert "Strict-Transport-Security" not in response.headers
        if path != "/lifted/nowhere/":  # answered by Django: its own headers anyway
            assert got == expected, path
    async with client.get("/lifted/page/", headers={"Host": "evil.example"}) as response:
        assert response.status == 400
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    async with client.get("/lifted/framed/") as response:
        assert response.headers["X-Frame-Options"] == "SAMEORIGIN"


async def test_hsts_over_https_only(start: Start, settings: Settings) -> None:
    settings.SECURE_HSTS_SECONDS = 3600
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    secure = await start(url_scheme="https")
    plain = await start()
    for path in ("/django/page/", "/lifted/page/", "/lifted/stream/"):
        async with secure.get(path) as response:
            assert response.headers["Strict-Transport-Security"] == (
                "max-age=3600; includeSubDomains"
            )
        async with plain.get(path) as response:
            assert "Strict-Transport-Security" not in response.headers


async def test_ssl_redirect(start: Start, settings: Settings) -> None:
    settings.SECURE_SSL_REDIRECT = True
    client = await start()
    locations = []
    for path in ("/django/page/?q=1", "/lifted/page/?q=1"):
        async with client.get(path, allow_redirects=False) as response:
            assert response.status == 301
            locations.append(response.headers["Location"])
    assert locations == [
        f"https://127.0.0.1:{client.port}/django/page/?q=1",
        f"https://127.0.0.1:{client.port}/lifted/page/?q=1",
    ]
    secure = await start(url_scheme="https")
    assert await status(secure, "GET", "/lifted/page/") == 200


@pytest.mark.skipif(
    login_required_middleware() is None, reason="LoginRequiredMiddleware: Django 5.1+"
)
async def test_login_required_middleware_covers_lifted_views(
    start: Start, settings: Settings, alice: User
) -> None:
    settings.MIDDLEWARE = [
        *settings.MIDDLEWARE,
        "django.contrib.auth.middleware.LoginRequiredMiddleware",
    ]
    client = await start()
    for path in ("/django/page/", "/lifted/page/", "/lifted/stream/"):
        async with client.get(path + "?x=1", allow_redirects=False) as response:
            assert response.status == 302, path
            assert response.headers["Location"] == f"/accounts/login/?next={path}%3Fx%3D1"
    for path in ("/django/open/", "/lifted/open/"):
        assert await status(client, "GET", path) == 200
    own = {"Origin": f"http://127.0.0.1:{client.port}"}
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await client.ws_connect("/lifted/socket/", headers=own)
    assert refused.value.status == 403

    cookies = await login(alice)
    for path in ("/django/page/", "/lifted/page/", "/lifted/stream/"):
        assert await status(client, "GET", path, cookies=cookies) == 200
    cookie = {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())}
    async with client.ws_connect("/lifted/socket/", headers={**own, **cookie}) as socket:
        await socket.send_str("hi")
        assert await socket.receive_str(timeout=5) == "echo: hi"


def test_the_application_imports_before_django_is_set_up() -> None:
    """``project/wsgi.py`` may import aiodjango before ``get_wsgi_application()``."""
    code = "import aiodjango.application, aiodjango.lifted.protection"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT
    )
    assert result.returncode == 0, result.stderr


async def test_cookie_headers_that_are_not_utf8_get_400(start: Start) -> None:
    """Joining several Cookie headers must not fail on bytes aiohttp could not decode."""
    client = await start()
    reader, writer = await asyncio.open_connection("127.0.0.1", client.port)
    try:
        writer.write(
            b"GET /lifted/echo/ HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
            b"Cookie: a=\xe9\xff\r\nCookie: b=2\r\n\r\n"
        )
        answer = await asyncio.wait_for(reader.read(), timeout=10)
    finally:
        writer.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.split(b" ", 2)[1] == b"400"  # not a 500 from joining them
    assert body == b"400 Bad Request: malformed headers\n"
    assert await status(client, "GET", "/lifted/page/") == 200
