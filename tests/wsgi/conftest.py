"""Fixtures for the WSGI adapter tests: a real server on 127.0.0.1 and raw HTTP helpers."""

from __future__ import annotations

import asyncio
import http.client
import io
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from aiodjango.wsgi import WSGIHandler, add_wsgi_route
from tests.conftest import AiohttpClient


@dataclass
class Served:
    """A WSGI application being served: the test client and the adapter behind it."""

    client: TestClient[web.Request, web.Application]
    handler: WSGIHandler

    @property
    def address(self) -> tuple[str, int]:
        assert self.client.port is not None
        return self.client.host, self.client.port


MakeServed = Callable[..., Awaitable[Served]]


def shutdown_bounded(handler: WSGIHandler, timeout: float = 10.0) -> None:
    """Stop the adapter's pool; fail if a worker thread is still stuck after ``timeout``."""
    stopper = threading.Thread(target=handler.shutdown)
    stopper.start()
    stopper.join(timeout)
    assert not stopper.is_alive(), "a worker thread is still busy: it was leaked"


@pytest.fixture
async def serve(aiohttp_client: AiohttpClient) -> AsyncIterator[MakeServed]:
    """Serve a WSGI application through WSGIHandler with pytest-aiohttp's test server."""
    handlers: list[WSGIHandler] = []

    async def make(
        application: Any,
        script_name: str = "",
        middlewares: tuple[Any, ...] = (),
        **handler_kwargs: Any,
    ) -> Served:
        handler = WSGIHandler(application, **handler_kwargs)
        handlers.append(handler)
        app = web.Application(middlewares=middlewares)
        add_wsgi_route(app.router, handler, script_name)
        return Served(await aiohttp_client(app), handler)

    yield make
    for handler in handlers:
        shutdown_bounded(handler)


@pytest.fixture
async def serve_plain() -> AsyncIterator[Callable[..., Awaitable[tuple[str, int, WSGIHandler]]]]:
    """Serve with aiohttp's production defaults (handlers are not cancelled on disconnect)."""
    runners: list[tuple[web.AppRunner, WSGIHandler]] = []

    async def make(application: Any, **handler_kwargs: Any) -> tuple[str, int, WSGIHandler]:
        handler = WSGIHandler(application, **handler_kwargs)
        app = web.Application()
        add_wsgi_route(app.router, handler)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        runners.append((runner, handler))
        assert site._server is not None
        port = site._server.sockets[0].getsockname()[1]
        return "127.0.0.1", port, handler

    yield make
    for runner, handler in runners:
        await runner.cleanup()
        shutdown_bounded(handler)


class _Replay:
    def __init__(self, data: bytes) -> None:
        self._file = io.BytesIO(data)

    def makefile(self, *args: Any, **kwargs: Any) -> io.BytesIO:
        return self._file


@dataclass
class RawResponse:
    status: int
    headers: http.client.HTTPMessage
    body: bytes


def parse_response(raw: bytes, method: str = "GET") -> RawResponse:
    """Parse one HTTP/1.1 response (chunked or not) from the bytes a server sent."""
    response = http.client.HTTPResponse(_Replay(raw), method=method)  # type: ignore[arg-type]
    response.begin()
    return RawResponse(response.status, response.headers, response.read())


async def raw_request(address: tuple[str, int], data: bytes, method: str = "GET") -> RawResponse:
    """Send raw request bytes (which should ask for Connection: close) and parse the answer."""
    reader, writer = await asyncio.open_connection(*address)
    try:
        writer.write(data)
        raw = await asyncio.wait_for(reader.read(), 30)
    finally:
        writer.close()
    return parse_response(raw, method)
