"""Real servers as subprocesses: start them, wait for their port, stop them, read their output."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
BIN = Path(sys.executable).parent


def project_env(**extra: str) -> dict[str, str]:
    """This process's environment for a subprocess, without the suite's DJANGO_SETTINGS_MODULE."""
    inherited = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    return {**inherited, "PYTHONUNBUFFERED": "1", **extra}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class ServerProcess:
    """A server started as a subprocess, its output kept in files for the test to read."""

    #: The TCP port the server was asked to listen on, where the test knows it.
    port: int

    def __init__(self, args: Sequence[str | Path], *, cwd: Path, env: dict[str, str], logs: Path):
        self.stdout_path = logs / "stdout.txt"
        self.stderr_path = logs / "stderr.txt"
        with self.stdout_path.open("wb") as out, self.stderr_path.open("wb") as err:
            self.process = subprocess.Popen(
                [str(a) for a in args],
                cwd=cwd,
                env=env,
                stdout=out,
                stderr=err,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )

    @property
    def stdout(self) -> str:
        return self.stdout_path.read_text(errors="replace")

    @property
    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    async def wait_for_port(self, port: int, within: float = 30.0) -> None:
        """Wait until the server accepts connections, failing early if it exits."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(
                    f"server exited with {self.process.returncode} before listening\n"
                    f"stdout:\n{self.stdout}\nstderr:\n{self.stderr}"
                )
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", port)
            except OSError:
                await asyncio.sleep(0.1)
                continue
            writer.close()
            await writer.wait_closed()
            return
        pytest.fail(f"nothing listened on port {port} within {within}s\n{self.stderr}")

    async def wait_for_output(self, text: str, within: float = 30.0, *, times: int = 1) -> None:
        """Wait until ``text`` has been printed ``times`` times (stdout and stderr together)."""
        deadline = time.monotonic() + within
        while (self.stdout + self.stderr).count(text) < times:
            if time.monotonic() > deadline:
                pytest.fail(f"{text!r} not printed within {within}s\n{self.stdout}\n{self.stderr}")
            await asyncio.sleep(0.1)

    async def wait(self, within: float) -> int:
        """The exit status, once the process has ended (within ``within`` seconds)."""
        deadline = time.monotonic() + within
        while self.process.poll() is None:
            if time.monotonic() > deadline:
                pytest.fail(f"process still running after {within}s\n{self.stderr}")
            await asyncio.sleep(0.05)
        return self.process.returncode

    def signal(self, signum: int) -> None:
        self.process.send_signal(signum)

    def kill(self) -> None:
        """Kill the whole process group (autoreloader children, gunicorn workers)."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)


StartServer = Callable[..., ServerProcess]


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[StartServer]:
    """A factory for ServerProcess; every process it starts is killed at the end of the test."""
    started: list[ServerProcess] = []

    def start(
        args: Sequence[str | Path], *, cwd: Path = ROOT, env: dict[str, str] | None = None
    ) -> ServerProcess:
        logs = tmp_path / f"server-{len(started)}"
        logs.mkdir()
        server = ServerProcess(args, cwd=cwd, env=project_env(**(env or {})), logs=logs)
        started.append(server)
        return server

    yield start
    for server in started:
        server.kill()


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
            env=project_env(),
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
