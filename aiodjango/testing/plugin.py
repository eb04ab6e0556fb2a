"""The pytest plugin: fixtures for projects served by aiodjango, registered as ``aiodjango``.

Installing aiodjango registers it (the ``pytest11`` entry point); it defines fixtures only and
touches no Django setting until a test asks for one of them:

``aio_app``
    A new application for each test: ``get_aio_application()`` around ``WSGI_APPLICATION``.
    Override it in a ``conftest.py`` to test another one.
``aio_client``
    An :class:`~aiodjango.testing.AioClient` serving ``aio_app`` (async tests; needs
    pytest-asyncio, which pytest-aiohttp brings).
``aio_live_server``
    A :class:`~aiodjango.testing.LiveServer` serving ``aio_app`` from a thread, for browsers.
``aio_sync_client``
    A :class:`~aiodjango.testing.SyncClient` of ``aio_live_server`` (sync tests).

With pytest-django, a test using one of the last three gets ``transactional_db`` (unless it
has a ``django_db`` mark of its own), as pytest-django's ``live_server`` does: views run in
other threads, on other database connections, and only see what the test committed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    # Imported by the fixtures that need them: a pytest run that uses none of them (any
    # project in an environment where aiodjango is installed) imports no Django module.
    from aiohttp import web

    from .client import AioClient
    from .live import LiveServer, SyncClient

try:
    import pytest_asyncio
except ImportError:  # pragma: no cover - aio_client then needs pytest-asyncio installed
    HAVE_PYTEST_ASYNCIO = False
else:
    HAVE_PYTEST_ASYNCIO = True


#: The fixtures whose views run in other threads, on other database connections.
SERVING_FIXTURES = frozenset({"aio_client", "aio_live_server", "aio_sync_client"})


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """With pytest-django, give a test that uses a serving fixture ``transactional_db``.

    A ``django_db`` mark the test already has is left as it is.
    """
    if not config.pluginmanager.hasplugin("django"):
        return
    for item in items:
        names = getattr(item, "fixturenames", ())
        if SERVING_FIXTURES.intersection(names) and item.get_closest_marker("django_db") is None:
            item.add_marker(pytest.mark.django_db(transaction=True))


@pytest.fixture
def aio_app() -> web.Application:
    """The project's aiohttp application, built anew: a served application can't be reused."""
    from django.core.servers.basehttp import get_internal_wsgi_application

    from ..application import get_aio_application

    return get_aio_application(get_internal_wsgi_application())


@pytest.fixture
def aio_live_server(request: pytest.FixtureRequest) -> Iterator[LiveServer]:
    """``aio_app`` served on 127.0.0.1 from a thread; ``aio_live_server.url`` is its root."""
    from .live import LiveServer

    app: web.Application = request.getfixturevalue("aio_app")
    server = LiveServer(lambda: app)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def aio_sync_client(aio_live_server: LiveServer) -> Iterator[SyncClient]:
    """A synchronous client of ``aio_live_server``."""
    client = aio_live_server.client()
    yield client
    client.close()


if HAVE_PYTEST_ASYNCIO:

    @pytest_asyncio.fixture
    async def aio_client(request: pytest.FixtureRequest) -> AsyncIterator[AioClient]:
        """An :class:`~aiodjango.testing.AioClient` serving ``aio_app`` in the test's loop."""
        from .client import AioClient

        app: web.Application = request.getfixturevalue("aio_app")
        async with AioClient(app) as client:
            yield client
