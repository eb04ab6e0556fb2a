"""Fixtures of the integration tests: the example project, copied and served by runserver."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.support.example import prepare_example_project
from tests.support.processes import ServerProcess, StartServer, free_port


@pytest.fixture
def example_project(tmp_path: Path) -> Path:
    """A migrated copy of the example project with its demo users, so tests may edit its files."""
    return prepare_example_project(tmp_path / "example_project")


@pytest.fixture
async def example_server(start_server: StartServer, example_project: Path) -> ServerProcess:
    """The example project under aiodjango's runserver (no autoreloader), listening."""
    port = free_port()
    server = start_server(
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=example_project,
    )
    server.port = port
    await server.wait_for_port(port)
    return server
