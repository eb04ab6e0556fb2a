"""Fixtures of the integration tests: the example project, copied and served by runserver."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.processes import ROOT, ServerProcess, StartServer, environment, free_port


@pytest.fixture
def example_project(tmp_path: Path) -> Path:
    """A migrated copy of the example project with its demo users, so tests may edit its files."""
    copy = tmp_path / "example_project"
    shutil.copytree(
        ROOT / "example_project",
        copy,
        ignore=shutil.ignore_patterns("db.sqlite3", "staticfiles", "__pycache__"),
    )
    for command in (["migrate", "--noinput", "-v", "0"], ["create_demo_users"]):
        subprocess.run(
            [sys.executable, "manage.py", *command],
            cwd=copy,
            env=environment(),
            check=True,
            timeout=120,
            stdout=subprocess.DEVNULL,
        )
    return copy


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
