"""Django's async views get the WSGI path's protections: bodies are read within the adapter's
shared budget and deadline, a stream its client stops reading is cut after ``send_timeout``,
and latin-1 header values go out as latin-1. Over real sockets, in this process."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from aiodjango import get_aio_application
from tests.support.rawhttp import raw_request
from tests.support.routes import urlconf
from tests.support.servers import AiohttpClient
from tests.support.waiting import settle

HOST = b"Host: 127.0.0.1\r\n"


async def serve(
    aiohttp_client: AiohttpClient, settings: Any, *patterns: Any, **options: Any
) -> TestClient[web.Request, web.Application]:
    """The project's application for a URLconf of ``patterns`` (Django's resolver, on both
    paths, reads ROOT_URLCONF), with the adapter's ``options``."""
    urls = urlconf(*patterns)
    settings.ROOT_URLCONF = urls
    return await aiohttp_client(get_aio_application(urlconf=urls, **options))


def address(client: TestClient[web.Request, web.Application]) -> tuple[str, int]:
    assert client.port is not None
    return client.host, client.port


async def test_async_and_sync_views_share_one_body_budget(
    aiohttp_client: AiohttpClient, settings: Any
) -> None:
    """A body an async view holds counts against the budget of every request, on both paths;
    a body that does not fit gets 503 without reaching Django, and the budget comes back."""
    release = asyncio.Event()
    seen: list[str] = []

    async def held(request: HttpRequest) -> HttpResponse:
        seen.append(f"held {len(request.body)}")
        await release.wait()
        return HttpResponse(f"held {len(request.body)}")

    def sync_upload(request: HttpRequest) -> HttpResponse:
        seen.append(f"sync {len(request.body)}")
        return HttpResponse(f"sync {len(request.body)}")

    held.csrf_exempt = True  # type: ignore[attr-defined]
    client = await serve(
        aiohttp_client,
        settings,
        path("held/", held),
        path("sync/", csrf_exempt(sync_upload)),
        max_request_bodies_size=1000,
        inbuf_overflow=300,
    )
    holding = asyncio.ensure_future(client.post("/held/", data=b"h" * 800))
    assert await settle(lambda: seen == ["held 800"])

    for url in ("/held/", "/sync/"):  # announced by Content-Length, on each path
        refused = await client.post(url, data=b"x" * 400)
        assert refused.status == 503, url
        assert refused.headers["Retry-After"] == "1"
    assert seen == ["held 800"]  # Django saw neither

    release.set()
    response = await holding
    assert (response.status, await response.text()) == (200, "held 800")
    for url in ("/held/", "/sync/"):  # given back: a body nearly as large as the budget fits
        response = await client.post(url, data=b"y" * 900)
        assert response.status == 200, url
    assert seen == ["held 800", "held 900", "sync 900"]


async def test_a_dribbled_body_to_an_async_view_gets_408(
    aiohttp_client: AiohttpClient, settings: Any
) -> None:
    seen: list[int] = []

    async def upload(request: HttpRequest) -> HttpResponse:
        seen.append(len(request.body))
        return HttpResponse("read")

    upload.csrf_exempt = True  # type: ignore[attr-defined]
    client = await serve(
        aiohttp_client, settings, path("upload/", upload), body_timeout=0.5, body_min_rate=0
    )
    reader, writer = await asyncio.open_connection(*address(client))
    try:
        writer.write(b"POST /upload/ HTTP/1.1\r\n" + HOST + b"Content-Length: 100\r\n\r\n")
        writer.write(b"x" * 10)  # and nothing more
        answer = await asyncio.wait_for(reader.read(), 30)
    finally:
        writer.close()
    assert answer.startswith(b"HTTP/1.1 408 "), answer[:100]
    assert seen == []
    response = await client.post("/upload/", data=b"x" * 100)
    assert (response.status, seen) == (200, [100])


async def test_a_stream_nobody_reads_is_cut_after_send_timeout(
    aiohttp_client: AiohttpClient, settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """The client reads the head and stops: the connection is aborted once a write has made
    no progress for ``send_timeout``, and Django closes the view's iterator."""
    caplog.set_level(logging.INFO, logger="aiodjango.django_async")
    events: list[str] = []

    def endless() -> Iterator[bytes]:
        try:
            while True:
                yield b"z" * 65536
        finally:
            events.append("closed")

    async def stream(request: HttpRequest) -> StreamingHttpResponse:
        return StreamingHttpResponse(endless(), content_type="application/octet-stream")

    async def hello(request: HttpRequest) -> HttpResponse:
        return HttpResponse("hello")

    client = await serve(
        aiohttp_client, settings, path("stream/", stream), path("hello/", hello), send_timeout=0.5
    )
    reader, writer = await asyncio.open_connection(*address(client))
    try:
        writer.write(b"GET /stream/ HTTP/1.1\r\n" + HOST + b"\r\n")
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
        assert head.startswith(b"HTTP/1.1 200 ")
        assert await settle(lambda: events == ["closed"])  # while the client holds on
    finally:
        writer.close()
    assert "the client took nothing for 0.5 s; response cut" in caplog.text
    response = await client.get("/hello/")
    assert (response.status, await response.text()) == (200, "hello")


async def test_latin1_header_values_of_async_views_go_out_as_latin1(
    aiohttp_client: AiohttpClient, settings: Any
) -> None:
    async def named(request: HttpRequest) -> JsonResponse:
        response = JsonResponse({"ok": True})
        response["X-Name"] = "café"  # latin-1 text, as Django and PEP 3333 allow
        return response

    async def streamed(request: HttpRequest) -> StreamingHttpResponse:
        response = StreamingHttpResponse(iter([b"a", b"b"]), content_type="text/plain")
        response["X-Name"] = "café"
        return response

    client = await serve(
        aiohttp_client, settings, path("named/", named), path("streamed/", streamed)
    )
    for url, body in ((b"/named/", b'{"ok": true}'), (b"/streamed/", b"ab")):
        answer = await raw_request(
            address(client), b"GET " + url + b" HTTP/1.1\r\n" + HOST + b"Connection: close\r\n\r\n"
        )
        assert answer.status == 200, url
        # http.client reads header bytes as latin-1: "café" only if the server sent b"caf\xe9".
        assert answer.headers["X-Name"] == "café", url
        assert answer.body == body, url
