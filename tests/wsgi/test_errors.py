"""Faulty applications: a clear 500 (or a cut connection), a logged traceback, close() called,
and the same server goes on serving; overload gets 503 at once."""

from __future__ import annotations

import asyncio
import io
import logging
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs

import aiohttp
import pytest
from aiohttp import web
from aiohttp.typedefs import Handler

from tests.support.measures import open_fds
from tests.support.servers import MakeServed, shutdown_bounded
from tests.support.waiting import settle

from .apps import Closing, hello

OK = [("Content-Type", "text/plain")]
Body = Callable[[], Iterator[bytes]]


def _raises_at_once() -> Iterator[bytes]:
    raise RuntimeError("generator failed before its first block")
    yield b""  # pragma: no cover


def _raises_midway() -> Iterator[bytes]:
    yield b"first block"
    raise RuntimeError("generator failed mid-stream")


class _CloseFails(Closing):
    def close(self) -> None:
        super().close()
        raise RuntimeError("close() failed")


def _make_case(name: str, body: Closing) -> Callable[[dict[str, Any], Any], Any]:
    """A WSGI app misbehaving the way ``name`` says, returning ``body`` when it returns."""

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        if name == "app raises":
            raise RuntimeError("application failed")
        if name.startswith("start_response never called"):
            return body
        if name == "bad status":
            start_response("OK", OK)
        elif name == "status 100":
            start_response("100 Continue", OK)
        elif name == "status not str":
            start_response(200, OK)
        elif name == "reason with CR/LF":
            start_response("200 OK\r\nX-Injected: 1", OK)
        elif name == "header value with CR/LF":
            start_response("200 OK", [("X-Bad", "a\r\nSet-Cookie: stolen=1")])
        elif name == "header name with CR/LF":
            start_response("200 OK", [("X-Bad\r\nX-Injected", "1")])
        elif name == "header value not latin-1":
            start_response("200 OK", [("X-Bad", "\u20ac")])
        elif name == "header value not str":
            start_response("200 OK", [("X-Bad", 1)])
        elif name == "hop-by-hop header":
            start_response("200 OK", [("Connection", "close")])
        elif name == "transfer-encoding header":
            start_response("200 OK", [("Transfer-Encoding", "chunked")])
        elif name == "bad content-length":
            start_response("200 OK", [("Content-Length", "12x")])
        elif name == "start_response twice":
            start_response("200 OK", OK)
            start_response("200 OK", OK)
        elif name == "exc_info after headers sent":
            write = start_response("200 OK", OK)
            write(b"headers are out")
            try:
                raise KeyError("late failure")
            except KeyError:
                start_response("500 Oops", OK, sys.exc_info())
        else:
            start_response("200 OK", OK)
        return body

    return app


# case name -> (body blocks, outcome): "500" or "cut" (headers out: the connection is closed).
CASES: dict[str, tuple[Body, str]] = {
    "app raises": (lambda: iter([b"x"]), "500"),
    "generator raises before first block": (_raises_at_once, "500"),
    "generator raises mid-stream": (_raises_midway, "cut"),
    "start_response never called": (lambda: iter([b"x"]), "500"),
    "start_response never called, empty body": (lambda: iter([]), "500"),
    "body block is str": (lambda: iter(["text"]), "500"),  # type: ignore[list-item]
    "bad status": (lambda: iter([b"x"]), "500"),
    "status 100": (lambda: iter([b"x"]), "500"),
    "status not str": (lambda: iter([b"x"]), "500"),
    "reason with CR/LF": (lambda: iter([b"x"]), "500"),
    "header value with CR/LF": (lambda: iter([b"x"]), "500"),
    "header name with CR/LF": (lambda: iter([b"x"]), "500"),
    "header value not latin-1": (lambda: iter([b"x"]), "500"),
    "header value not str": (lambda: iter([b"x"]), "500"),
    "hop-by-hop header": (lambda: iter([b"x"]), "500"),
    "transfer-encoding header": (lambda: iter([b"x"]), "500"),
    "bad content-length": (lambda: iter([b"x"]), "500"),
    "start_response twice": (lambda: iter([b"x"]), "500"),
    "exc_info after headers sent": (lambda: iter([b"x"]), "cut"),
    "close raises": (lambda: iter([b"x"]), "500"),
}


@pytest.mark.parametrize("fast", [True, False], ids=["list-body", "iterable-body"])
async def test_every_error_is_contained_and_the_server_goes_on(
    serve_wsgi: MakeServed, caplog: pytest.LogCaptureFixture, fast: bool
) -> None:
    bodies: dict[str, Closing] = {}
    errors = io.StringIO()

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        name = parse_qs(environ["QUERY_STRING"]).get("q", [""])[0]
        if not name:
            return hello(environ, start_response)
        make_blocks, _ = CASES[name]
        # A list-like body is joined in one go (the fast path), unless it must fail lazily.
        complete = fast and "generator" not in name
        body_class = _CloseFails if name == "close raises" else Closing
        body = body_class(make_blocks(), complete=complete)
        result = _make_case(name, body)(environ, start_response)
        bodies[name] = body  # returned: the adapter owes it one close()
        return result

    served = await serve_wsgi(app, stderr=errors, threads=2)
    client = served.client
    assert (await client.get("/")).status == 200
    baseline_fds = open_fds()
    baseline_threads = _other_threads()

    for name, (_, outcome) in CASES.items():
        if name == "close raises" and not fast:
            outcome = "cut"  # the streamed block (and so the headers) went out before close()
        caplog.clear()
        response = await client.get("/", params={"q": name}, allow_redirects=False)
        if outcome == "500":
            assert response.status == 500, name
            assert await response.text() == "Internal Server Error\n"
        else:
            assert response.status == 200, name
            with pytest.raises(aiohttp.ClientPayloadError):
                await response.read()
        failures = [r for r in caplog.records if r.name == "aiodjango.wsgi" and r.exc_info]
        assert failures, f"{name}: no traceback logged"
        if name in bodies:
            body = bodies[name]
            assert await settle(body.closed.is_set), f"{name}: close() not called"
            assert body.close_calls == 1, name
        follow_up = await client.get("/")
        assert follow_up.status == 200 and await follow_up.read() == b"hello", name

    assert "Traceback" in errors.getvalue()  # the tracebacks also went to wsgi.errors
    assert await settle(lambda: open_fds() == baseline_fds), (open_fds(), baseline_fds)
    assert _other_threads() == baseline_threads
    assert len(_pool_threads()) <= 2  # threads=2
    shutdown_bounded(served.handler)
    assert not _pool_threads()


def _pool_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("aiodjango-wsgi")]


def _other_threads() -> int:
    return threading.active_count() - len(_pool_threads())


async def test_full_queue_gets_503_with_retry_after(serve_wsgi: MakeServed) -> None:
    release = threading.Event()
    started = threading.Event()
    arrived: dict[str, asyncio.Event] = {}

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        if environ["PATH_INFO"] == "/block":
            started.set()
            release.wait(20)
        return hello(environ, start_response)

    @web.middleware
    async def announce(request: web.Request, handler: Handler) -> web.StreamResponse:
        # Set once the adapter has queued the request (it does so before its first await).
        asyncio.get_running_loop().call_soon(arrived.setdefault(request.path, asyncio.Event()).set)
        return await handler(request)

    served = await serve_wsgi(app, threads=1, max_queued=1, middlewares=(announce,))
    client = served.client
    try:
        running = asyncio.ensure_future(client.get("/block"))
        assert await asyncio.to_thread(started.wait, 10)
        arrived["/queued"] = asyncio.Event()
        queued = asyncio.ensure_future(client.get("/queued"))
        await asyncio.wait_for(arrived["/queued"].wait(), 10)
        refused = await asyncio.wait_for(client.get("/refused"), 10)
        assert refused.status == 503
        assert refused.headers["Retry-After"] == "1"
    finally:
        release.set()
    assert (await running).status == 200
    assert (await queued).status == 200
    assert (await client.get("/after")).status == 200


async def test_fault_in_close_is_logged(
    serve_wsgi: MakeServed, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, "aiodjango.wsgi")
    body = _CloseFails([b"x"], complete=True)

    def app(environ: dict[str, Any], start_response: Any) -> Closing:
        start_response("200 OK", OK)
        return body

    served = await serve_wsgi(app)
    assert (await served.client.get("/")).status == 500
    assert "close() failed" in caplog.text
