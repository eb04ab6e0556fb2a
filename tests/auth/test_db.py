"""Database connections of lifted views: looked after per request, no hop for views without DB.

Lifted views run their ORM work in asgiref's thread-sensitive thread; these tests look into that
thread's connections with ``sync_to_async`` (which runs there too) and count, across the process,
the open SQLite connections, the file descriptors on the database file and the threads.
"""

from __future__ import annotations

import asyncio
import gc
import os
import sqlite3
import threading
from collections.abc import AsyncIterator, Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp import web
from asgiref.sync import SyncToAsync, sync_to_async
from django.contrib.auth.models import Permission, User
from django.db import connections
from pytest_django import Settings

from tests.support.lifted import close_thread_connections, in_orm_thread, login
from tests.support.servers import ServeLifted
from tests.support.waiting import settle

from . import views

pytestmark = pytest.mark.django_db(transaction=True)


@dataclass(frozen=True)
class Figures:
    open_sqlite_connections: int
    database_file_descriptors: int
    live_connections_in_orm_thread: int
    threads: int


def open_sqlite_connections() -> int:
    """sqlite3 connections in the process that are still open."""
    count = 0
    for obj in gc.get_objects():
        if isinstance(obj, sqlite3.Connection):
            try:
                obj.total_changes  # noqa: B018 (raises once the connection is closed)
            except sqlite3.ProgrammingError:
                continue
            count += 1
    return count


def database_file_descriptors() -> int:
    database = os.path.realpath(connections["default"].settings_dict["NAME"])
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{fd}") == database:
                count += 1
        except OSError:
            continue
    return count


def live_connections() -> int:
    """Django connections of the current thread that hold a database connection."""
    return sum(c.connection is not None for c in connections.all(initialized_only=True))


async def measure() -> Figures:
    gc.collect()
    return Figures(
        open_sqlite_connections=open_sqlite_connections(),
        database_file_descriptors=database_file_descriptors(),
        live_connections_in_orm_thread=await sync_to_async(live_connections)(),
        threads=threading.active_count(),
    )


@pytest.fixture
def conn_max_age(monkeypatch: pytest.MonkeyPatch) -> Callable[[float | None], None]:
    """Set CONN_MAX_AGE of the default database for connections opened from now on."""

    def set_max_age(seconds: float | None) -> None:
        monkeypatch.setitem(connections.settings["default"], "CONN_MAX_AGE", seconds)

    return set_max_age


class CountingExecutor(ThreadPoolExecutor):
    """A one-thread executor that counts the calls submitted to it."""

    def __init__(self) -> None:
        super().__init__(max_workers=1, thread_name_prefix="counted")
        self.calls = 0

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        self.calls += 1
        return super().submit(fn, *args, **kwargs)


@pytest.fixture
async def executors() -> AsyncIterator[dict[str, CountingExecutor]]:
    """Count every call into asgiref's thread-sensitive thread and the loop's default executor."""
    counted = {"thread-sensitive": CountingExecutor(), "default": CountingExecutor()}
    original = SyncToAsync.single_thread_executor
    SyncToAsync.single_thread_executor = counted["thread-sensitive"]
    asyncio.get_running_loop().set_default_executor(counted["default"])
    try:
        yield counted
        await sync_to_async(close_thread_connections)()
    finally:
        SyncToAsync.single_thread_executor = original
        for executor in counted.values():
            executor.shutdown(wait=True)


async def test_views_without_database_work_get_no_thread_hop(
    serve_lifted: ServeLifted, executors: dict[str, CountingExecutor], settings: Settings
) -> None:
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"
    from django.contrib.sessions.backends.signed_cookies import SessionStore

    session = SessionStore()
    session["theme"] = "dark"
    session.save()
    cookie = {settings.SESSION_COOKIE_NAME: str(session.session_key)}
    client = await serve_lifted(
        plain=views.plain,
        whoami=views.whoami,
        thread=views.thread_of_view,
        echo=views.echo_socket,
        user_count=views.user_count,
    )
    for _ in range(100):
        assert (await client.get("/plain/")).status == 200
    # Anonymous sessions, with or without a (signed) cookie, are read on the event loop.
    assert (await (await client.get("/whoami/")).json())["username"] is None
    assert (await (await client.get("/whoami/", cookies=cookie)).json())["keys"] == ["theme"]
    assert await (await client.get("/thread/")).text() == str(threading.get_ident())
    async with client.ws_connect("/echo/") as socket:
        await socket.send_str("hi")
        assert await socket.receive_str(timeout=5) == "echo: hi"
    calls = {name: executor.calls for name, executor in executors.items()}
    print(f"\ncalls into executors after 104 requests without database work: {calls}")
    assert calls == {
        "thread-sensitive": 0,
        "default": 0,
    }
    # The counting works: a view with one query hops for it and for the connection care.
    assert await (await client.get("/user-count/")).text() == "0"
    assert executors["thread-sensitive"].calls == 2


@pytest.mark.parametrize("max_age", [0, None], ids=["CONN_MAX_AGE=0", "CONN_MAX_AGE=None"])
async def test_thousand_requests_leak_no_connections(
    serve_lifted: ServeLifted,
    conn_max_age: Callable[[float | None], None],
    connects: list[str],
    max_age: float | None,
) -> None:
    conn_max_age(max_age)
    client = await serve_lifted(user_count=views.user_count)
    assert await (await client.get("/user-count/")).text() == "0"  # starts asgiref's thread
    before = await measure()
    connects.clear()

    async def one() -> None:
        response = await client.get("/user-count/")
        assert (response.status, await response.text()) == (200, "0")

    for _ in range(20):  # 1,000 requests, 50 at a time
        await asyncio.gather(*(one() for _ in range(50)))
    after = await measure()
    print(f"\n{max_age=}: before {before}\n{max_age=}: after  {after}")
    print(f"{max_age=}: connections opened during 1,000 requests: {len(connects)}")
    assert after == before
    if max_age is None:
        assert after.live_connections_in_orm_thread == 1
        assert connects == []  # the persistent connection served every request
    else:
        assert after.live_connections_in_orm_thread == 0
        assert 20 <= len(connects) <= 1000  # at least one per batch: closed when a batch ends


async def test_conn_max_age_zero_closes_after_each_request(
    serve_lifted: ServeLifted, conn_max_age: Callable[[float | None], None], connects: list[str]
) -> None:
    conn_max_age(0)
    client = await serve_lifted(user_count=views.user_count)
    for done in range(1, 4):
        assert (await client.get("/user-count/")).status == 200
        assert await in_orm_thread(lambda: connections["default"].connection) is None
        assert connects == ["default"] * done


async def test_persistent_connections_are_reused(
    serve_lifted: ServeLifted, conn_max_age: Callable[[float | None], None], connects: list[str]
) -> None:
    conn_max_age(None)
    client = await serve_lifted(user_count=views.user_count)
    raw = set()
    for _ in range(3):
        assert (await client.get("/user-count/")).status == 200
        raw.add(id(await in_orm_thread(lambda: connections["default"].connection)))
    assert len(raw) == 1
    assert connects == ["default"]


async def test_expired_idle_connections_are_closed(
    serve_lifted: ServeLifted, conn_max_age: Callable[[float | None], None]
) -> None:
    conn_max_age(0.2)
    client = await serve_lifted(user_count=views.user_count)
    assert (await client.get("/user-count/")).status == 200
    assert await in_orm_thread(lambda: connections["default"].connection) is not None

    async def closed() -> bool:
        return await in_orm_thread(lambda: connections["default"].connection) is None

    await settle(closed, within=10)  # no request comes: the expiry timer closes it
    assert await in_orm_thread(lambda: connections["default"].connection) is None


async def test_database_sessions_and_sync_to_async_count_as_database_work(
    serve_lifted: ServeLifted, conn_max_age: Callable[[float | None], None], alice: User
) -> None:
    conn_max_age(0)

    async def raw_query(request: web.Request) -> web.Response:
        def query() -> int:
            with connections["default"].cursor() as cursor:
                cursor.execute("SELECT COUNT(*) FROM auth_user")
                return int(cursor.fetchone()[0])

        return web.Response(text=str(await sync_to_async(query)()))

    client = await serve_lifted(raw=raw_query, whoami=views.whoami)
    assert await (await client.get("/raw/")).text() == "1"
    assert await in_orm_thread(lambda: connections["default"].connection) is None
    cookie = await login(alice)
    assert (await (await client.get("/whoami/", cookies=cookie)).json())["username"] == "alice"
    assert await in_orm_thread(lambda: connections["default"].connection) is None


@pytest.fixture
async def pinging() -> AsyncIterator[None]:
    """In the ORM thread, a persistent default connection whose backend notices breakage.

    SQLite's own backend believes every connection usable; network backends (PostgreSQL,
    MySQL) ask the server, as :mod:`tests.auth.pinging_sqlite` does.
    """

    def install() -> None:
        from .pinging_sqlite.base import DatabaseWrapper

        connections["default"].close()
        settings_dict = {**connections.settings["default"], "CONN_MAX_AGE": None}
        connections["default"] = DatabaseWrapper(settings_dict, "default")

    def remove() -> None:
        connections["default"].close()
        del connections["default"]

    await in_orm_thread(install)
    yield
    await in_orm_thread(remove)


@pytest.mark.usefixtures("pinging")
async def test_broken_connection_is_dropped_and_the_next_request_reconnects(
    serve_lifted: ServeLifted, connects: list[str]
) -> None:
    client = await serve_lifted(user_count=views.user_count)
    assert await (await client.get("/user-count/")).text() == "0"
    first = await in_orm_thread(lambda: connections["default"].connection)
    assert first is not None
    # The connection stops answering queries, as when the database server restarts.
    await in_orm_thread(
        lambda: connections["default"].connection.set_authorizer(lambda *_: sqlite3.SQLITE_DENY)
    )
    assert (await client.get("/user-count/")).status == 500
    assert await in_orm_thread(lambda: connections["default"].connection) is None
    assert await (await client.get("/user-count/")).text() == "0"
    assert await in_orm_thread(lambda: connections["default"].connection) not in (None, first)
    assert connects == ["default", "default"]


async def test_a_request_in_progress_keeps_its_connection(
    serve_lifted: ServeLifted, conn_max_age: Callable[[float | None], None]
) -> None:
    """Another request's end must not close the connection under a chunked ``aiterator()``."""
    conn_max_age(0)
    halfway = asyncio.Event()
    resume = asyncio.Event()

    async def iterate(request: web.Request) -> web.Response:
        names = []
        async for permission in Permission.objects.order_by("pk").aiterator(chunk_size=2):
            names.append(permission.codename)
            if len(names) == 3:
                halfway.set()
                await resume.wait()
        return web.Response(text=str(len(names)))

    total = await sync_to_async(Permission.objects.count)()
    await sync_to_async(close_thread_connections)()
    client = await serve_lifted(iterate=iterate, user_count=views.user_count)
    slow = asyncio.ensure_future(client.get("/iterate/"))
    await asyncio.wait_for(halfway.wait(), 10)
    for _ in range(3):
        assert (await client.get("/user-count/")).status == 200
    assert await in_orm_thread(lambda: connections["default"].connection) is not None
    resume.set()
    response = await asyncio.wait_for(slow, 10)
    assert (response.status, await response.text()) == (200, str(total))
    assert await in_orm_thread(lambda: connections["default"].connection) is None
