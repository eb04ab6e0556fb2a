"""Faults: failing applications, vanishing clients, a stuck worker, a database that goes away.

Single faults, one after another, are covered by ``tests/wsgi``; here they come all at once, a
few hundred concurrent requests of every kind against four worker threads, and the server must
come out as it went in: every iterable closed exactly once, no thread or descriptor left over,
and still serving.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
import types
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from django.contrib.auth.models import User
from django.core.wsgi import get_wsgi_application
from django.db import connections
from django.urls import path

from aiodjango import get_aio_application
from aiodjango.server import Server, configure_server
from tests.support.lifted import in_orm_thread
from tests.support.measures import Figures, open_fds, pool_threads
from tests.support.waiting import settle

pytestmark = [pytest.mark.slow, pytest.mark.timeout(90)]

THREADS = 4
EACH = 30  # requests of each kind in the storm
BLOCK = b"x" * 65536
OK = [("Content-Type", "text/plain")]


class Body:
    """A response iterable that counts its close() calls; ``close_fails`` makes close() raise."""

    def __init__(self, blocks: Iterator[bytes], close_fails: bool = False) -> None:
        self.blocks = blocks
        self.close_fails = close_fails
        self.close_calls = 0

    def __iter__(self) -> Iterator[bytes]:
        return self.blocks

    def close(self) -> None:
        self.close_calls += 1
        if self.close_fails:
            raise RuntimeError("close() failed")


class FaultyApp:
    """A WSGI application failing in the way its path names; it keeps every iterable it returns."""

    def __init__(self) -> None:
        self.bodies: list[Body] = []
        self.calls: Counter[str] = Counter()
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Body:
        kind = environ["PATH_INFO"].strip("/")
        with self._lock:
            self.calls[kind] += 1
        if kind == "raise-before-start":
            raise RuntimeError("the application failed before start_response")
        start_response("200 OK", OK)
        body = Body(self._blocks(kind), close_fails=kind.startswith("close-raises"))
        with self._lock:
            self.bodies.append(body)
        return body

    @staticmethod
    def _blocks(kind: str) -> Iterator[bytes]:
        if kind == "raise-before-first-block":
            raise RuntimeError("the body failed before its first block")
        if kind in ("ok", "close-raises", "upload"):
            yield b"ok"
            return
        if kind in ("raise-mid-stream", "close-raises-mid-stream"):
            yield b"first block"
            if kind == "raise-mid-stream":
                raise RuntimeError("the body failed mid-stream")
            yield b"second block"
            return
        if kind == "download":
            for _ in range(400):  # 25 MiB: far more than the client reads
                yield BLOCK
            return
        raise AssertionError(f"unknown kind {kind!r}")


@pytest.fixture
async def faulty() -> AsyncIterator[tuple[Server, FaultyApp]]:
    app = FaultyApp()
    server = configure_server(
        app,
        host="127.0.0.1",
        port=0,
        threads=THREADS,
        max_queued=1000,
        outbuf_overflow=256 * 1024,
        shutdown_timeout=5,
    )
    await server.start()
    yield server, app
    await server.stop()


def other_threads() -> int:
    """Threads of this process besides the WSGI adapter's pool (which grows on demand)."""
    return threading.active_count() - len(pool_threads())


async def vanish_mid_upload(port: int) -> str:
    _, writer = await asyncio.open_connection("127.0.0.1", port)
    head = b"POST /upload/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000000\r\n\r\n"
    writer.write(head + b"u" * 50_000)
    await writer.drain()
    writer.transport.abort()
    return "vanished"


async def vanish_mid_download(port: int) -> str:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET /download/ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    await asyncio.wait_for(reader.readexactly(300_000), 10)
    writer.transport.abort()
    return "vanished"


async def test_fault_storm(faulty: tuple[Server, FaultyApp], figures: Figures) -> None:
    server, app = faulty
    port = server.port
    assert port is not None
    base = f"http://127.0.0.1:{port}"
    async with aiohttp.ClientSession() as session:

        async def fetch(kind: str) -> str:
            try:
                async with session.get(f"{base}/{kind}/") as response:
                    body = await response.read()
                    return f"{response.status} {body.decode()}"
            except aiohttp.ClientPayloadError:
                return "cut"

        assert await fetch("ok") == "200 ok"  # the pool's threads exist from here on
        fds_before, threads_before = open_fds(), other_threads()

        kinds = {
            "ok": "200 ok",
            "raise-before-start": "500 Internal Server Error\n",
            "raise-before-first-block": "500 Internal Server Error\n",
            "raise-mid-stream": "cut",
            "close-raises": "cut",  # the block went out before close() raised
            "close-raises-mid-stream": "cut",
        }
        jobs: list[tuple[str, Any]] = []
        for _ in range(EACH):
            jobs += [(kind, fetch(kind)) for kind in kinds]
            jobs.append(("vanish mid-upload", vanish_mid_upload(port)))
            jobs.append(("vanish mid-download", vanish_mid_download(port)))
        outcomes = await asyncio.gather(*(job for _, job in jobs))
        after_storm = await fetch("ok")

    closed = await settle(lambda: all(body.close_calls >= 1 for body in app.bodies))
    close_counts = Counter(body.close_calls for body in app.bodies)
    fds_back = await settle(lambda: open_fds() <= fds_before)
    threads_back = await settle(lambda: other_threads() <= threads_before)

    wrong = [
        (kind, outcome)
        for (kind, _), outcome in zip(jobs, outcomes, strict=True)
        if outcome != kinds.get(kind, "vanished")
    ]
    figures["requests in the storm"] = len(jobs)
    figures["worker threads"] = THREADS
    figures["iterables returned / closed once"] = f"{len(app.bodies)} / {close_counts[1]}"
    figures["uploads that reached the application"] = app.calls["upload"]
    figures["fds before / after"] = f"{fds_before} / {open_fds()}"
    figures["threads besides the pool before / after"] = f"{threads_before} / {other_threads()}"
    figures["pool threads after"] = len(pool_threads())

    assert wrong == []
    assert after_storm == "200 ok"
    assert app.calls["upload"] == 0
    assert app.calls["download"] == EACH
    assert closed and close_counts == {1: len(app.bodies)}, close_counts
    # Every kind returns a body but raise-before-start; the downloads do; and the two lone "ok".
    assert len(app.bodies) == EACH * (len(kinds) - 1 + 1) + 2
    assert fds_back, (open_fds(), fds_before)
    assert threads_back and len(pool_threads()) <= THREADS


async def test_stuck_worker(figures: Figures) -> None:
    """One request never ends: the other thread serves everyone else, and a stop still
    completes after ``shutdown_timeout``, running ``on_finish`` once."""
    stuck_entered, release = threading.Event(), threading.Event()
    finished: list[str] = []

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        if environ["PATH_INFO"] == "/stuck":
            stuck_entered.set()
            release.wait(60)  # "forever", as far as this test is concerned
        start_response("200 OK", OK)
        return [b"ok"]

    server = configure_server(
        app,
        host="127.0.0.1",
        port=0,
        threads=2,
        shutdown_timeout=1.0,
        on_finish=[lambda: finished.append("on_finish")],
    )
    await server.start()
    try:
        base = f"http://127.0.0.1:{server.port}"
        async with aiohttp.ClientSession() as session:
            stuck = asyncio.ensure_future(session.get(f"{base}/stuck"))
            assert await asyncio.to_thread(stuck_entered.wait, 10)

            async def fetch() -> int:
                async with session.get(f"{base}/other") as response:
                    await response.read()
                    return response.status

            served = await asyncio.gather(*(fetch() for _ in range(50)))
            started = time.monotonic()
            await asyncio.wait_for(server.stop(), 15)
            stop_seconds = time.monotonic() - started
            with pytest.raises(aiohttp.ClientError):
                await stuck
    finally:
        release.set()
    figures["served while one worker was stuck"] = served.count(200)
    figures["seconds to stop (shutdown_timeout 1)"] = f"{stop_seconds:.2f}"
    assert served == [200] * 50
    assert finished == ["on_finish"]
    assert await settle(lambda: not pool_threads())  # once released, the thread ends


# The database going away between requests of a lifted view.


@pytest.fixture(params=[True, False], ids=["health-checks", "no-health-checks"])
async def persistent_database(request: pytest.FixtureRequest) -> AsyncIterator[bool]:
    """A persistent connection in the ORM thread, with a backend that notices when it broke
    (as PostgreSQL's and MySQL's do; SQLite's own believes every connection usable)."""
    health_checks: bool = request.param

    def install() -> None:
        from tests.auth.pinging_sqlite.base import DatabaseWrapper

        connections["default"].close()
        settings_dict = {
            **connections.settings["default"],
            "CONN_MAX_AGE": None,
            "CONN_HEALTH_CHECKS": health_checks,
        }
        connections["default"] = DatabaseWrapper(settings_dict, "default")

    def remove() -> None:
        connections["default"].close()
        del connections["default"]

    await in_orm_thread(install)
    yield health_checks
    await in_orm_thread(remove)


async def count_users(request: web.Request) -> web.Response:
    return web.Response(text=str(await User.objects.acount()))


def queries_fail() -> None:
    """The database stops answering: every statement on the open connection fails, as after
    a database server restart (PostgreSQL, MySQL)."""
    connection = connections["default"].connection
    assert isinstance(connection, sqlite3.Connection)
    connection.set_authorizer(lambda *_: sqlite3.SQLITE_DENY)


def connection_closed() -> None:
    """The client library's connection is closed under Django: even a cursor cannot be made."""
    connection = connections["default"].connection
    assert isinstance(connection, sqlite3.Connection)
    connection.close()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "fault",
    [
        pytest.param(queries_fail, id="queries-fail"),
        pytest.param(connection_closed, id="connection-closed"),
    ],
)
async def test_database_going_away_between_requests(
    aiohttp_client: Any,
    persistent_database: bool,
    connects: list[str],
    figures: Figures,
    fault: Callable[[], None],
) -> None:
    urlconf = types.ModuleType("database_urls")
    urlconf.urlpatterns = [path("count/", count_users)]  # type: ignore[attr-defined]
    client = await aiohttp_client(get_aio_application(get_wsgi_application(), urlconf=urlconf))

    first = await client.get("/count/")
    assert (first.status, await first.text()) == (200, "0")
    assert connects == ["default"]
    await in_orm_thread(fault)

    statuses = []
    for _ in range(3):
        response = await client.get("/count/")
        statuses.append(response.status)

    figures["CONN_HEALTH_CHECKS"] = persistent_database
    figures["requests after the database went away"] = statuses
    figures["connections opened"] = len(connects)
    # With health checks Django notices before the first query; without, the request that
    # meets the broken connection fails and the connection is dropped at its end, as in
    # Django's own handlers.
    assert statuses == ([200, 200, 200] if persistent_database else [500, 200, 200])
    assert connects == ["default", "default"]
