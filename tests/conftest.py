"""Fixtures shared by the whole suite."""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from asgiref.sync import sync_to_async
from django.db.backends.signals import connection_created

#: The type of pytest-aiohttp's ``aiohttp_client`` fixture, for annotations.
AiohttpClient = Callable[..., Awaitable[TestClient[web.Request, web.Application]]]


async def in_orm_thread(function: Callable[[], Any]) -> Any:
    """Run ``function`` in asgiref's thread-sensitive thread, where lifted views' ORM work runs."""
    return await sync_to_async(function)()


@pytest.fixture
def connects() -> Iterator[list[str]]:
    """The aliases of the database connections opened outside the main thread, in order."""
    opened: list[str] = []
    main = threading.get_ident()

    def record(sender: object, connection: Any, **kwargs: object) -> None:
        if threading.get_ident() != main:
            opened.append(connection.alias)

    connection_created.connect(record, weak=False, dispatch_uid="tests.connects")
    yield opened
    connection_created.disconnect(dispatch_uid="tests.connects")


def open_fds(pid: int | str = "self") -> int:
    """The number of file descriptors ``pid`` has open."""
    return len(os.listdir(f"/proc/{pid}/fd"))


async def settle(check: Callable[[], bool], within: float = 10.0) -> bool:
    """Wait (bounded) until ``check()`` holds, for effects that land asynchronously."""
    loop = asyncio.get_running_loop()
    end = loop.time() + within
    while not check():
        if loop.time() > end:
            return False
        await asyncio.sleep(0.02)
    return True
