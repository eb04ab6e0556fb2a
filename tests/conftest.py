"""Fixtures shared by the whole suite; the helpers themselves live in ``tests.support``."""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db.backends.signals import connection_created

# Fixtures for every directory: real servers as subprocesses, in-process servers, a real
# redis-server, headless Chromium, a real nginx.
pytest_plugins = [
    "tests.support.processes",
    "tests.support.servers",
    "tests.support.peers",
    "tests.support.redis",
    "tests.support.browser",
    "tests.support.nginx",
]


@pytest.hookimpl(tryfirst=True)  # before -m selects by marker
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test that starts a real server as a subprocess belongs to the slow tier."""
    for item in items:
        if "start_server" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)


@pytest.fixture
def short_tmp() -> Iterator[Path]:
    """A directory with a short path: unix socket paths are limited to about 100 bytes."""
    with tempfile.TemporaryDirectory(prefix="aiodj-") as directory:
        yield Path(directory)


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
