"""Request bodies: read in full before the app runs, spooled past inbuf_overflow, capped."""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import os
import threading
from collections.abc import AsyncIterator
from typing import Any

from tests.support.servers import MakeServed
from tests.support.waiting import settle

from .apps import hello


def digest(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """Report how the body arrived: its size, hash and what kind of wsgi.input held it."""
    stream = environ["wsgi.input"]
    data = stream.read()
    try:
        on_disk = os.fstat(stream.fileno()).st_nlink >= 0
    except (OSError, ValueError, AttributeError):
        on_disk = False
    report = {
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "content_length": environ.get("CONTENT_LENGTH"),
        "input_type": type(stream).__name__,
        "on_disk": on_disk,
    }
    start_response("200 OK", [("Content-Type", "application/json")])
    return [json.dumps(report).encode()]


async def chunks(data: bytes, size: int) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


async def test_chunked_body_reaches_app_with_its_length(serve_wsgi: MakeServed) -> None:
    served = await serve_wsgi(digest)
    data = os.urandom(300_000)
    response = await served.client.post("/", data=chunks(data, 7_000))
    assert response.request_info.headers.get("Transfer-Encoding") == "chunked"
    report = await response.json()
    assert report["size"] == len(data)
    assert report["sha256"] == hashlib.sha256(data).hexdigest()
    assert report["content_length"] == str(len(data))  # known once read, for Django and co.
    assert report["input_type"] == "BytesIO" and not report["on_disk"]


async def test_body_over_inbuf_overflow_is_spooled_to_disk(serve_wsgi: MakeServed) -> None:
    served = await serve_wsgi(digest, inbuf_overflow=64 * 1024)
    data = os.urandom(1_000_000)
    for body in (data, chunks(data, 50_000)):
        report = await (await served.client.post("/", data=body)).json()
        assert report["size"] == len(data)
        assert report["sha256"] == hashlib.sha256(data).hexdigest()
        assert report["on_disk"] and report["input_type"] != "BytesIO"


async def test_body_at_limit_passes_and_over_limit_gets_413(serve_wsgi: MakeServed) -> None:
    calls: list[str] = []

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        calls.append(environ["PATH_INFO"])
        return digest(environ, start_response)

    served = await serve_wsgi(app, max_request_body_size=1000, inbuf_overflow=100)
    assert (await served.client.post("/exact", data=b"x" * 1000)).status == 200
    # Announced by Content-Length: refused without reading the body.
    response = await served.client.post("/announced", data=b"x" * 1001)
    assert response.status == 413
    # Discovered while reading a chunked body.
    response = await served.client.post("/chunked", data=chunks(b"x" * 5000, 300))
    assert response.status == 413
    assert calls == ["/exact"]
    assert (await served.client.get("/after")).status == 200


async def test_expect_continue_over_limit_is_refused_before_the_body(
    serve_wsgi: MakeServed,
) -> None:
    served = await serve_wsgi(hello, max_request_body_size=10)
    data = (
        b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1000000\r\n"
        b"Expect: 100-continue\r\nConnection: close\r\n\r\n"
    )
    reader, writer = await asyncio.open_connection(*served.address)
    try:
        writer.write(data)  # no body is ever sent
        refusal = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
        assert refusal.startswith(b"HTTP/1.1 413")
    finally:
        writer.close()

    ok = b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n"
    reader, writer = await asyncio.open_connection(*served.address)
    try:
        writer.write(ok)
        interim = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
        assert interim.startswith(b"HTTP/1.1 100 Continue")
        writer.write(b"12345")
        final = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
        assert final.startswith(b"HTTP/1.1 200")
    finally:
        writer.close()


async def test_client_vanishing_mid_upload_never_reaches_the_app(serve_wsgi: MakeServed) -> None:
    calls: list[str] = []

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        calls.append(environ["PATH_INFO"])
        return hello(environ, start_response)

    served = await serve_wsgi(app)
    _, writer = await asyncio.open_connection(*served.address)
    writer.write(b"POST /upload HTTP/1.1\r\nHost: h\r\nContent-Length: 100000\r\n\r\npartial")
    await writer.drain()
    writer.close()
    await writer.wait_closed()
    response = await served.client.get("/next")
    assert response.status == 200
    assert calls == ["/next"]


async def test_bodies_share_one_budget_and_give_it_back(serve_wsgi: MakeServed) -> None:
    """Bodies held at once count against one budget: a body that does not fit gets 503 with
    Retry-After, announced (with or without Expect: 100-continue) or found while reading;
    once the requests are done the budget is whole again."""
    release = threading.Event()

    def held(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        release.wait(10)  # the body stays held while the application runs
        return digest(environ, start_response)

    served = await serve_wsgi(held, max_request_bodies_size=1000, inbuf_overflow=300)
    budget = served.handler._budget
    first = asyncio.ensure_future(served.client.post("/a", data=b"a" * 600))
    assert await settle(lambda: budget.held == 600)
    assert budget.in_memory == 0  # past inbuf_overflow: on disk
    announced = await served.client.post("/b", data=b"b" * 500)
    assert announced.status == 503 and announced.headers["Retry-After"] == "1"
    found = await served.client.post("/c", data=chunks(b"c" * 500, 100))
    assert found.status == 503
    reader, writer = await asyncio.open_connection(*served.address)
    try:
        writer.write(
            b"POST /d HTTP/1.1\r\nHost: h\r\nContent-Length: 500\r\n"
            b"Expect: 100-continue\r\nConnection: close\r\n\r\n"
        )
        refusal = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
        assert refusal.startswith(b"HTTP/1.1 503")
    finally:
        writer.close()
    assert budget.held == 600
    release.set()
    assert (await first).status == 200
    assert await settle(lambda: budget.held == 0 and budget.in_memory == 0)
    fits = await served.client.post("/e", data=b"e" * 1000)
    assert fits.status == 200 and (await fits.json())["size"] == 1000


async def test_bodies_past_the_memory_limit_go_to_disk(serve_wsgi: MakeServed) -> None:
    release = threading.Event()
    seen: list[bool] = []

    def held(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        stream = environ["wsgi.input"]
        seen.append(isinstance(stream, io.BytesIO))
        release.wait(10)
        return digest(environ, start_response)

    served = await serve_wsgi(held, max_request_bodies_in_memory=150, inbuf_overflow=1000)
    budget = served.handler._budget
    first = asyncio.ensure_future(served.client.post("/a", data=b"a" * 100))
    assert await settle(lambda: budget.in_memory == 100)
    second = asyncio.ensure_future(served.client.post("/b", data=b"b" * 100))  # 200 > 150
    assert await settle(lambda: budget.held == 200)
    assert budget.in_memory == 100
    release.set()
    assert [(await first).status, (await second).status] == [200, 200]
    assert seen == [True, False]
    assert await settle(lambda: budget.held == 0 and budget.in_memory == 0)
