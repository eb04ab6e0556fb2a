"""Real servers as subprocesses: start them, wait for them, signal and stop them, read output.

The ``start_server`` fixture (registered for the whole suite) starts :class:`ServerProcess`
objects and kills every one of them at the end of the test, whatever happened.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Awaitable, Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from .waiting import settle

ROOT = Path(__file__).resolve().parents[2]
#: The console script pip installed next to this interpreter.
CONSOLE_SCRIPT = str(Path(sys.executable).with_name("aiodjango-serve"))
#: The two ways to start the command line.
COMMANDS = {
    "python -m aiodjango": [sys.executable, "-m", "aiodjango"],
    "aiodjango-serve": [CONSOLE_SCRIPT],
}
#: What the command line logs once it listens.
SERVING = re.compile(r"serving on (https?://\S+|unix:\S+)")


def environment(**extra: str) -> dict[str, str]:
    """This process's environment for a subprocess: the repository importable, output
    unbuffered, and without the suite's DJANGO_SETTINGS_MODULE (a server names its own)."""
    inherited = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    return {**inherited, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1", **extra}


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def run_cli(*args: str, command: str = "python -m aiodjango", **kwargs: Any) -> Any:
    """Run the command line to completion (it is expected to exit by itself)."""
    kwargs.setdefault("cwd", ROOT)
    kwargs.setdefault("env", environment())
    return subprocess.run(
        [*COMMANDS[command], *args], capture_output=True, text=True, timeout=60, **kwargs
    )


def assert_one_line_error(result: Any, *fragments: str) -> None:
    """The command line refused to start: status 2, one line on stderr holding ``fragments``,
    no traceback."""
    status, stderr = result.returncode, result.stderr
    assert status == 2, stderr
    assert "Traceback" not in stderr
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith(("aiodjango-serve: error: ", "python -m aiodjango: error: "))
    for fragment in fragments:
        assert fragment in lines[0]


class ServerProcess:
    """A server started as a subprocess, its output kept in files for the test to read."""

    #: The TCP port the server was asked to listen on, where the test knows it.
    port: int

    def __init__(
        self, args: Sequence[str | Path], *, cwd: Path, env: dict[str, str], logs: Path
    ) -> None:
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

    @property
    def output(self) -> str:
        """Everything printed so far, stdout then stderr."""
        return self.stdout + self.stderr

    async def wait_for_port(self, port: int, within: float = 30.0) -> None:
        """Wait until the server accepts connections, failing early if it exits."""
        await self._wait_for_listening(lambda: asyncio.open_connection("127.0.0.1", port), within)

    async def wait_for_unix_socket(self, path: Path, within: float = 30.0) -> None:
        """Wait until the server accepts connections on its unix socket ``path``."""
        await self._wait_for_listening(lambda: asyncio.open_unix_connection(str(path)), within)

    async def _wait_for_listening(
        self,
        connect: Callable[[], Awaitable[tuple[asyncio.StreamReader, asyncio.StreamWriter]]],
        within: float,
    ) -> None:
        async def listening_or_exited() -> bool:
            if self.process.poll() is not None:
                return True
            try:
                _, writer = await connect()
            except OSError:
                return False
            writer.close()
            await writer.wait_closed()
            return True

        if not await settle(listening_or_exited, within):
            pytest.fail(f"nothing listened within {within}s\n{self.stderr}")
        if self.process.poll() is not None:
            pytest.fail(
                f"server exited with {self.process.returncode} before listening\n"
                f"stdout:\n{self.stdout}\nstderr:\n{self.stderr}"
            )

    async def wait_for_output(
        self, pattern: str | re.Pattern[str], within: float = 30.0, *, times: int = 1
    ) -> re.Match[str]:
        """Wait until ``pattern`` (text, or a regex) has been printed ``times`` times (stdout
        and stderr together) and return its last match; fail if the process ends first."""
        regex = re.compile(re.escape(pattern)) if isinstance(pattern, str) else pattern
        found: list[re.Match[str]] = []

        def printed() -> bool:
            exited = self.process.poll() is not None  # read before the output: none is lost
            found[:] = list(regex.finditer(self.output))
            return len(found) >= times or exited

        if not await settle(printed, within) or len(found) < times:
            pytest.fail(
                f"{pattern!r} not printed {times} time(s) within {within}s, or the "
                f"process ended\n{self.stdout}\n{self.stderr}"
            )
        return found[times - 1]

    async def address(self) -> str:
        """The address the command line says it serves on."""
        return (await self.wait_for_output(SERVING)).group(1)

    async def wait(self, within: float = 60.0) -> int:
        """The exit status, once the process has ended (within ``within`` seconds)."""
        if not await settle(lambda: self.process.poll() is not None, within):
            pytest.fail(f"process still running after {within}s\n{self.stderr}")
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
    """A factory for ServerProcess; every process it starts is killed at the end of the test.

    ``env`` adds to (or, with "", clears a variable of) :func:`environment`.
    """
    started: list[ServerProcess] = []

    def start(
        args: Sequence[str | Path], *, cwd: Path = ROOT, env: dict[str, str] | None = None
    ) -> ServerProcess:
        logs = tmp_path / f"server-{len(started)}"
        logs.mkdir()
        server = ServerProcess(args, cwd=cwd, env=environment(**(env or {})), logs=logs)
        started.append(server)
        return server

    yield start
    for server in started:
        server.kill()
