"""Fixtures for the routing tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.routes import RICH, build_app
from tests.support.servers import LiveServer


@pytest.fixture(scope="module")
def live_rich() -> Iterator[LiveServer]:
    """The rich URLconf's lifted routes in front of a fallback, served from a thread."""
    app, _ = build_app(RICH)
    server = LiveServer(app)
    yield server
    server.close()
