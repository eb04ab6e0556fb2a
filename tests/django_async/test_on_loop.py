"""Django's async views on the event loop, driven over real sockets in this process.

In-process, so that the view's cancellation, ``request_finished``, the threads, tasks,
connections and descriptors of the server can all be watched.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from django.core.signals import request_finished

from aiodjango import get_aio_application
from tests.support.measures import open_fds
from tests.support.servers import AiohttpClient
from tests.support.waiting import settle

from .project import views

URLCONF = "tests.django_async.project.urls"


@pytest.fixture(autouse=True)
def project_urls(settings: Any) -> None:
    settings.ROOT_URLCONF = URLCONF


@pytest.fixture
def finished() -> Iterator[list[object]]:
    """Every ``request_finished`` signal sent while the test runs."""
    sent: list[object] = []

    def record(sender: object, **kwargs: object) -> None:
        sent.append(sender)

    request_finished.connect(record, weak=False, dispatch_uid="tests.django_async.finished")
    yield sent
    request_finished.disconnect(dispatch_uid="tests.django_async.finished")


async def serve(
    aiohttp_client: AiohttpClient, **options: Any
) -> TestClient[web.Request, web.Application]:
    return await aiohttp_client(get_aio_application(urlconf=URLCONF, **options))


async def test_async_views_get_a_django_request_through_the_middleware(
    aiohttp_client: AiohttpClient,
) -> None:
    client = await serve(aiohttp_client)
    response = await client.get("/hello/", params={"q": "é x"})
    assert response.status == 200
    assert await response.json() == {"user": "AnonymousUser", "q": "é x"}
    assert response.headers["X-Content-Type-Options"] == "nosniff"  # SecurityMiddleware
    response = await client.post("/upload/", data=b"abc")
    assert await response.json() == {"size": 3, "sum": 294}
    assert response.headers["X-Request-Class"] == "ASGIRequest"
    # The sync view keeps the WSGI path.
    response = await client.get("/sync/", params={"q": "1"})
    assert await response.text() == "sync q=1"


@pytest.mark.parametrize("size", [0, 1000, 300_000])
async def test_bodies_are_read_before_django_in_memory_or_spooled(
    aiohttp_client: AiohttpClient, size: int
) -> None:
    client = await serve(aiohttp_client, inbuf_overflow=4096)
    assert (await client.post("/upload/", data=b"warm")).status == 200
    fds = open_fds()
    body = bytes(range(256)) * (size // 256) + b"x" * (size % 256)

    async def chunked() -> Any:
        for start in range(0, len(body), 7000):
            yield body[start : start + 7000]

    for data in (body, chunked()):
        response = await client.post("/upload/", data=data)
        assert response.status == 200
        assert await response.json() == {"size": size, "sum": sum(body) % 65521}
        assert response.headers["X-Request-Class"] == "ASGIRequest"
    assert await settle(lambda: open_fds() <= fds)  # spooled bodies are closed (and gone)


async def test_a_body_over_the_limit_gets_413_without_reaching_django(
    aiohttp_client: AiohttpClient, finished: list[object]
) -> None:
    client = await serve(aiohttp_client, max_request_body_size=1000)
    response = await client.post("/upload/", data=b"x" * 1000)
    assert response.status == 200
    before = len(finished)
    response = await client.post("/upload/", data=b"x" * 1001)
    assert response.status == 413

    async def chunked() -> Any:  # no Content-Length: the limit applies as it is read
        for _ in range(11):
            yield b"x" * 100

    response = await client.post("/upload/", data=chunked())
    assert response.status == 413
    assert len(finished) == before  # Django never saw them
    response = await client.post("/upload/", data=b"x" * 10)
    assert response.status == 200


async def test_streams_files_and_bodiless_answers(aiohttp_client: AiohttpClient) -> None:
    client = await serve(aiohttp_client)
    response = await client.get("/stream/async/")
    assert await response.text() == "".join(f"async part {n}\n" for n in range(5))
    response = await client.get("/stream/sync/")
    assert await response.text() == "".join(f"sync part {n}\n" for n in range(5))

    expected = views.DATA.read_bytes()
    response = await client.get("/download/")
    assert response.status == 200
    assert await response.read() == expected
    assert response.headers["Content-Length"] == str(len(expected))
    assert response.headers["Content-Disposition"] == 'attachment; filename="views.py"'

    for path in ("/download/", "/hello/", "/stream/sync/"):
        response = await client.head(path)
        assert response.status == 200, path
        assert await response.read() == b"", path
    response = await client.head("/download/")
    assert response.headers["Content-Length"] == str(len(expected))
    for path, status in (("/empty/", 204), ("/not-modified/", 304)):
        response = await client.get(path)
        assert response.status == status
        assert await response.read() == b""


async def test_many_awaiting_views_hold_no_thread(aiohttp_client: AiohttpClient) -> None:
    client = await serve(aiohttp_client, threads=2)
    loop = asyncio.get_running_loop()
    start = loop.time()
    responses = await asyncio.gather(*(client.get("/slow/", params={"s": "1"}) for _ in range(30)))
    assert [response.status for response in responses] == [200] * 30
    assert loop.time() - start < 3.0  # with 2 threads, a thread per await would take 15 s


@pytest.mark.parametrize("handler_cancellation", [False, True])
async def test_a_client_that_goes_away_cancels_the_view_and_leaves_nothing(
    finished: list[object], handler_cancellation: bool
) -> None:
    """Either aiohttp leaves the handler running (its default) or cancels it: both times
    Django cancels the view and finishes the request once."""
    runner = web.AppRunner(
        get_aio_application(urlconf=URLCONF), handler_cancellation=handler_cancellation
    )
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    server = runner.server
    assert server is not None
    try:
        await _go_away(port, server, finished, f"gone-{handler_cancellation}")
    finally:
        await runner.cleanup()


async def _get(port: int, path: str) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
    answer = await reader.read()
    writer.close()
    await writer.wait_closed()
    return answer


async def _go_away(port: int, server: web.Server, finished: list[object], label: str) -> None:
    assert (await _get(port, "/hello/")).startswith(b"HTTP/1.1 200")  # warm
    assert await settle(lambda: not server.connections)
    threads, fds, tasks = threading.active_count(), open_fds(), len(asyncio.all_tasks())
    before = len(finished)

    _, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET /hang/?label={label} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
    await writer.drain()
    assert await settle(lambda: f"started {label}" in views.EVENTS)
    assert len(server.connections) == 1
    writer.close()
    await writer.wait_closed()

    assert await settle(lambda: f"cancelled {label}" in views.EVENTS)
    assert await settle(lambda: len(finished) == before + 1), finished
    assert await settle(lambda: not server.connections)
    assert await settle(lambda: len(asyncio.all_tasks()) <= tasks)
    assert await settle(lambda: threading.active_count() <= threads)
    assert await settle(lambda: open_fds() <= fds)
    # The server still answers, and request_finished was sent once for the lost request.
    assert (await _get(port, "/hello/")).startswith(b"HTTP/1.1 200")
    assert await settle(lambda: len(finished) == before + 2)
    assert views.EVENTS.count(f"cancelled {label}") == 1


async def test_a_view_that_raises_gets_djangos_500_and_the_server_goes_on(
    aiohttp_client: AiohttpClient, finished: list[object]
) -> None:
    client = await serve(aiohttp_client)
    before = len(finished)
    response = await client.get("/boom/")
    assert response.status == 500
    assert "Server Error (500)" in await response.text()
    assert await settle(lambda: len(finished) == before + 1), finished
    response = await client.get("/boom/", params={"fail": "no"})
    assert await response.text() == "no boom"


async def test_under_a_mount_django_sees_its_script_name(
    aiohttp_client: AiohttpClient, settings: Any
) -> None:
    settings.FORCE_SCRIPT_NAME = "/mount/"
    client = await serve(aiohttp_client)
    response = await client.get("/mount/go/", allow_redirects=False)
    assert response.status == 302
    assert response.headers["Location"] == "/mount/pages/from-redirect/4/"
    response = await client.get("/mount/upload/", data=b"x")
    assert response.headers["X-Request-Class"] == "ASGIRequest"
    assert (await client.get("/go/")).status == 404  # outside the mount
