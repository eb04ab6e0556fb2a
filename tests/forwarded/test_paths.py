"""Trusted forwarded headers on every path: Django's sync views, its async views, lifted views.

The project is served by ``get_aio_application()`` on 127.0.0.1 and ::1 with real sockets;
clients connect from 127.0.0.1 and ::1 (trusted by default) or from 127.0.0.2 (not trusted).
"""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest
from django.core.exceptions import ImproperlyConfigured
from pytest_django import Settings

from aiodjango import get_aio_application
from aiodjango.server.proxy import FORWARDED_HEADERS
from tests.support.peers import (
    TRUSTED,
    TRUSTED_V6,
    UNTRUSTED,
    Loopbacks,
    ServeOnLoopbacks,
    session_from,
)

VIEWS = ["/sync/", "/django-async/", "/lifted/"]
CLIENT = "203.0.113.7"
CSRF_SECRET = "forwardedtestsecret0123456789abc"  # 32 letters and digits: Django's format
SPOOFED = {"X-Forwarded-For": CLIENT, "X-Forwarded-Proto": "https"}


@pytest.fixture(autouse=True)
def forwarded_urls(settings: Settings) -> None:
    settings.ROOT_URLCONF = "tests.forwarded.urls"
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "example.com"]


@pytest.fixture
async def project(serve_on_loopbacks: ServeOnLoopbacks) -> Loopbacks:
    """The test project with the default trust: 127.0.0.1 and ::1."""
    return await serve_on_loopbacks(get_aio_application())


async def seen(
    loopbacks: Loopbacks, source: str, path: str, headers: dict[str, str]
) -> dict[str, Any]:
    """What the view at ``path`` saw of a GET from ``source`` with ``headers``."""
    async with (
        session_from(source) as session,
        session.get(loopbacks.url(source, path), headers=headers) as response,
    ):
        assert response.status == 200, await response.text()
        facts: dict[str, Any] = await response.json()
    # Each path is the one meant: Django's WSGI request, its ASGI request, aiohttp's.
    assert facts["request"] == {
        "/sync/": "WSGIRequest",
        "/django-async/": "ASGIRequest",
        "/lifted/": "Request",
    }.get(path, facts["request"])
    return facts


@pytest.mark.parametrize("path", VIEWS)
@pytest.mark.parametrize("source", [TRUSTED, TRUSTED_V6])
async def test_a_trusted_proxy_tells_the_client_and_the_scheme(
    project: Loopbacks, path: str, source: str
) -> None:
    facts = await seen(project, source, path, SPOOFED)
    assert facts["remote"] == CLIENT
    assert (facts["scheme"], facts["secure"]) == ("https", True)
    assert facts["host"] == project.authority(source)  # the host is not forwarded by default


@pytest.mark.parametrize("path", VIEWS)
async def test_an_untrusted_peers_headers_are_ignored(project: Loopbacks, path: str) -> None:
    facts = await seen(project, UNTRUSTED, path, SPOOFED)
    assert facts["remote"] == UNTRUSTED
    assert (facts["scheme"], facts["secure"]) == ("http", False)
    plain = await seen(project, TRUSTED, path, {})
    assert (plain["remote"], plain["scheme"]) == (TRUSTED, "http")


@pytest.mark.parametrize("path", VIEWS)
async def test_several_hops_the_first_untrusted_address_from_the_right_is_the_client(
    serve_on_loopbacks: ServeOnLoopbacks, settings: Settings, path: str
) -> None:
    settings.AIODJANGO_FORWARDED_ALLOW_IPS = "127.0.0.1, ::1, 10.0.0.0/8, 2001:db8::/32"
    project = await serve_on_loopbacks(get_aio_application())
    # The client sent a made-up X-Forwarded-For; two trusted proxies appended to it.
    chain = f"198.51.100.1, {CLIENT}, 10.1.2.3, 2001:db8::5"
    facts = await seen(project, TRUSTED, path, {"X-Forwarded-For": chain})
    assert facts["remote"] == CLIENT
    # One X-Forwarded-Proto per hop: the client's hop says how the client came.
    per_hop = {"X-Forwarded-For": f"{CLIENT}, 10.1.2.3", "X-Forwarded-Proto": "https, http"}
    facts = await seen(project, TRUSTED, path, per_hop)
    assert (facts["remote"], facts["scheme"]) == (CLIENT, "https")
    # Every hop trusted: the leftmost is the client.
    facts = await seen(project, TRUSTED, path, {"X-Forwarded-For": "10.9.9.9, 10.1.2.3"})
    assert facts["remote"] == "10.9.9.9"
    # Repeated headers are one list, as RFC 9110 says.
    async with session_from(TRUSTED) as session:
        repeated = [("X-Forwarded-For", "198.51.100.1"), ("X-Forwarded-For", "10.1.2.3")]
        async with session.get(project.url(TRUSTED, path), headers=repeated) as response:
            assert (await response.json())["remote"] == "198.51.100.1"


@pytest.mark.parametrize("path", VIEWS)
async def test_the_forwarded_header_of_rfc_7239(project: Loopbacks, path: str) -> None:
    header = {"Forwarded": 'for="[2001:db8::1]:4711";proto=https, for=127.0.0.1'}
    facts = await seen(project, TRUSTED_V6, path, header)
    assert (facts["remote"], facts["scheme"]) == ("2001:db8::1", "https")
    facts = await seen(project, TRUSTED, path, {"Forwarded": "for=192.0.2.60:4711;proto=http"})
    assert (facts["remote"], facts["scheme"]) == ("192.0.2.60", "http")
    # X-Forwarded-* decide what they carry; Forwarded fills in the rest.
    both = {"Forwarded": "for=192.0.2.60;proto=https", "X-Forwarded-For": CLIENT}
    facts = await seen(project, TRUSTED, path, both)
    assert (facts["remote"], facts["scheme"]) == (CLIENT, "https")
    facts = await seen(project, UNTRUSTED, path, both)
    assert (facts["remote"], facts["scheme"]) == (UNTRUSTED, "http")


@pytest.mark.parametrize("path", VIEWS)
async def test_malformed_headers_from_a_trusted_peer_are_ignored(
    project: Loopbacks, path: str
) -> None:
    for headers in (
        {"X-Forwarded-For": "not-an-address", "X-Forwarded-Proto": "gopher"},
        {"X-Forwarded-For": "300.1.1.1, 127.0.0.1", "X-Forwarded-Proto": "https, http"},
        {"Forwarded": "for=unknown;proto=ftp", "X-Forwarded-Host": "evil.example"},
        {"Forwarded": 'for="[2001:db8::1", for=_hidden'},
    ):
        facts = await seen(project, TRUSTED, path, headers)
        assert (facts["remote"], facts["scheme"]) == (TRUSTED, "http"), headers
        assert facts["host"] == project.authority(TRUSTED)


@pytest.mark.parametrize("path", VIEWS)
async def test_the_forwarded_host_when_enabled(
    serve_on_loopbacks: ServeOnLoopbacks, path: str
) -> None:
    project = await serve_on_loopbacks(get_aio_application(forwarded_host=True))
    headers = {"X-Forwarded-Host": "example.com:8443", "X-Forwarded-Proto": "https"}
    facts = await seen(project, TRUSTED, path, headers)
    assert facts["host"] == "example.com:8443"
    if path != "/lifted/":
        assert facts["server"] == ["example.com", "8443"]
    facts = await seen(project, TRUSTED, path, {"Forwarded": "host=example.com;proto=https"})
    assert facts["host"] == "example.com"
    if path != "/lifted/":
        assert facts["server"] == ["example.com", "443"]
    facts = await seen(project, UNTRUSTED, path, headers)
    assert facts["host"] == project.authority(UNTRUSTED)


async def post(loopbacks: Loopbacks, source: str, path: str, origin: str, **headers: str) -> int:
    """The status of a POST with a valid CSRF token, ``Origin`` and more ``headers``."""
    async with (
        session_from(source) as session,
        session.post(
            loopbacks.url(source, path),
            data=b"x",
            headers={
                "Origin": origin,
                "X-CSRFToken": CSRF_SECRET,
                "Cookie": f"csrftoken={CSRF_SECRET}",
                **headers,
            },
        ) as response,
    ):
        return response.status


@pytest.mark.parametrize("path", ["/sync-post/", "/lifted-post/"])
async def test_the_csrf_origin_check_follows_the_forwarded_scheme(
    project: Loopbacks, path: str
) -> None:
    https = f"https://{project.authority(TRUSTED)}"
    http = f"http://{project.authority(TRUSTED)}"
    proto = {"X-Forwarded-Proto": "https"}
    assert await post(project, TRUSTED, path, https, **proto) == 200
    assert await post(project, TRUSTED, path, http, **proto) == 403
    assert await post(project, TRUSTED, path, http) == 200
    # From an untrusted peer the request is plain http: an https Origin is foreign.
    https = f"https://{project.authority(UNTRUSTED)}"
    assert await post(project, UNTRUSTED, path, https, **proto) == 403


async def handshake(loopbacks: Loopbacks, source: str, origin: str, **headers: str) -> int:
    """101 when the lifted websocket opened (and echoed), else the refusal's status."""
    async with session_from(source) as session:
        try:
            socket = await session.ws_connect(
                loopbacks.url(source, "/socket/"), headers={"Origin": origin, **headers}
            )
        except aiohttp.WSServerHandshakeError as refused:
            return refused.status
        await socket.send_str("ping")
        assert await socket.receive_str(timeout=5) == "echo: ping"
        await socket.close()
        return 101


async def test_the_websocket_origin_check_follows_the_forwarded_scheme_and_host(
    serve_on_loopbacks: ServeOnLoopbacks,
) -> None:
    project = await serve_on_loopbacks(get_aio_application(forwarded_host=True))
    own = project.authority(TRUSTED)
    proto = {"X-Forwarded-Proto": "wss"}
    assert await handshake(project, TRUSTED, f"https://{own}", **proto) == 101
    assert await handshake(project, TRUSTED, f"http://{own}", **proto) == 403
    assert (
        await handshake(project, UNTRUSTED, f"https://{project.authority(UNTRUSTED)}", **proto)
        == 403
    )
    site = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "example.com"}
    assert await handshake(project, TRUSTED, "https://example.com", **site) == 101
    assert await handshake(project, TRUSTED_V6, "https://example.com", **site) == 101
    assert await handshake(project, UNTRUSTED, "https://example.com", **site) == 403


async def test_the_settings_choose_whom_to_trust(
    serve_on_loopbacks: ServeOnLoopbacks, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.AIODJANGO_FORWARDED_ALLOW_IPS = ""  # nobody
    project = await serve_on_loopbacks(get_aio_application())
    assert (await seen(project, TRUSTED, "/sync/", SPOOFED))["remote"] == TRUSTED
    settings.AIODJANGO_FORWARDED_ALLOW_IPS = ["*"]  # everyone, as a list
    project = await serve_on_loopbacks(get_aio_application())
    assert (await seen(project, UNTRUSTED, "/lifted/", SPOOFED))["remote"] == CLIENT
    # The argument wins over the setting; without either, $FORWARDED_ALLOW_IPS decides.
    project = await serve_on_loopbacks(get_aio_application(forwarded_allow_ips="127.0.0.2"))
    assert (await seen(project, TRUSTED, "/django-async/", SPOOFED))["remote"] == TRUSTED
    assert (await seen(project, UNTRUSTED, "/django-async/", SPOOFED))["remote"] == CLIENT
    del settings.AIODJANGO_FORWARDED_ALLOW_IPS
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", "127.0.0.0/8")
    project = await serve_on_loopbacks(get_aio_application())
    assert (await seen(project, UNTRUSTED, "/sync/", SPOOFED))["remote"] == CLIENT


def test_bad_settings_and_arguments_name_themselves(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.AIODJANGO_FORWARDED_ALLOW_IPS = "127.0.0.1,300.1.1.1"
    with pytest.raises(ImproperlyConfigured, match=r"AIODJANGO_FORWARDED_ALLOW_IPS.*'300.1.1.1'"):
        get_aio_application()
    settings.AIODJANGO_FORWARDED_ALLOW_IPS = 8
    with pytest.raises(ImproperlyConfigured, match=r"AIODJANGO_FORWARDED_ALLOW_IPS.*8"):
        get_aio_application()
    del settings.AIODJANGO_FORWARDED_ALLOW_IPS
    settings.AIODJANGO_FORWARDED_HOST = "yes"
    with pytest.raises(ImproperlyConfigured, match=r"AIODJANGO_FORWARDED_HOST.*'yes'"):
        get_aio_application()
    with pytest.raises(ValueError, match=r"forwarded_allow_ips: '10.0.0.1/8'.*host bits"):
        get_aio_application(forwarded_allow_ips=["10.0.0.1/8"])
    del settings.AIODJANGO_FORWARDED_HOST
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", "localhost")
    with pytest.raises(ImproperlyConfigured, match=r"\$FORWARDED_ALLOW_IPS: 'localhost'"):
        get_aio_application()


async def test_djangos_secure_proxy_ssl_header_keeps_its_own_rule(
    project: Loopbacks, settings: Settings
) -> None:
    """Django believes SECURE_PROXY_SSL_HEADER from any peer: that is its documented rule."""
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    facts = await seen(project, UNTRUSTED, "/sync/", SPOOFED)
    assert (facts["remote"], facts["secure"]) == (UNTRUSTED, True)
    facts = await seen(project, TRUSTED, "/django-async/", {"X-Forwarded-Proto": "http"})
    assert facts["secure"] is False


def test_the_middleware_comes_first() -> None:
    """Every other middleware and handler sees the forwarded client."""
    app = get_aio_application(forwarded_allow_ips="10.0.0.0/8")
    assert app.middlewares[0] is app[FORWARDED_HEADERS]
    assert app[FORWARDED_HEADERS].trusted.text == "10.0.0.0/8"


@pytest.mark.parametrize("path", VIEWS)
async def test_the_https_redirect_follows_the_forwarded_scheme(
    serve_on_loopbacks: ServeOnLoopbacks, settings: Settings, path: str
) -> None:
    settings.SECURE_SSL_REDIRECT = True  # before Django's middleware is loaded
    project = await serve_on_loopbacks(get_aio_application())
    for source, status in ((TRUSTED, 200), (UNTRUSTED, 301)):
        async with (
            session_from(source) as session,
            session.get(
                project.url(source, path), headers=SPOOFED, allow_redirects=False
            ) as response,
        ):
            assert response.status == status, source
