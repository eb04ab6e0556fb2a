"""Run a server in a subprocess and follow what it logs."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
#: The console script pip installed next to this interpreter.
CONSOLE_SCRIPT = str(Path(sys.executable).with_name("aiodjango-serve"))
#: The two ways to start the command line.
COMMANDS = {
    "python -m aiodjango": [sys.executable, "-m", "aiodjango"],
    "aiodjango-serve": [CONSOLE_SCRIPT],
}
SERVING = re.compile(r"serving on (http://\S+|unix:\S+)")


def environment(**extra: str) -> dict[str, str]:
    """This environment, with the project importable and output unbuffered."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1")
    env.update(extra)
    return env


def run_cli(*args: str, command: str = "python -m aiodjango", **kwargs: Any) -> Any:
    """Run the command line to completion (it is expected to exit by itself)."""
    kwargs.setdefault("cwd", ROOT)
    kwargs.setdefault("env", environment())
    return subprocess.run(
        [*COMMANDS[command], *args], capture_output=True, text=True, timeout=60, **kwargs
    )


class ServerProcess:
    """A server subprocess whose stderr is read line by line, kept in :attr:`lines`."""

    def __init__(self, *args: str, cwd: Path = ROOT, env: dict[str, str] | None = None) -> None:
        self.args = args
        self.cwd = cwd
        self.env = env or environment()
        self.lines: list[str] = []
        self.process: asyncio.subprocess.Process | None = None

    async def __aenter__(self) -> ServerProcess:
        self.process = await asyncio.create_subprocess_exec(
            *self.args,
            cwd=self.cwd,
            env=self.env,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self.process is not None
        if self.process.returncode is None:
            self.process.kill()
            await self.process.wait()

    async def wait_for(self, pattern: str | re.Pattern[str], limit: float = 30.0) -> re.Match[str]:
        """Read stderr until a line matches ``pattern``; fail if the process ends first."""
        assert self.process is not None and self.process.stderr is not None
        async with asyncio.timeout(limit):
            while True:
                raw = await self.process.stderr.readline()
                if not raw:
                    raise AssertionError(f"exited before logging {pattern!r}:\n{self.output}")
                line = raw.decode(errors="replace")
                self.lines.append(line)
                found = re.search(pattern, line)
                if found:
                    return found

    async def address(self) -> str:
        """The address the server says it serves on."""
        return (await self.wait_for(SERVING)).group(1)

    def send_signal(self, signum: signal.Signals) -> None:
        assert self.process is not None
        self.process.send_signal(signum)

    async def exit_status(self, limit: float = 60.0) -> int:
        """Wait for the process to end (reading the rest of stderr) and return its status."""
        assert self.process is not None and self.process.stderr is not None
        async with asyncio.timeout(limit):
            rest = await self.process.stderr.read()
            self.lines.append(rest.decode(errors="replace"))
            return await self.process.wait()

    @property
    def output(self) -> str:
        return "".join(self.lines)


async def wait_until(condition: Callable[[], bool], limit: float = 30.0) -> None:
    """Poll ``condition`` until it holds (it may watch another process); fail if it never does."""
    async with asyncio.timeout(limit):
        while not condition():  # noqa: ASYNC110 - nothing in this process could set an Event
            await asyncio.sleep(0.01)
