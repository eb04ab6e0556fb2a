"""The event loop of the command line: ``--loop auto|asyncio|uvloop``, each serving a sync view,
a lifted view and a websocket; uvloop missing is one line naming the extra."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys

import aiohttp
import pytest

from aiodjango.server.loops import LoopUnavailable, loop_factory, loop_name, run_on_loop
from tests.support.processes import (
    COMMANDS,
    ServerProcess,
    StartServer,
    assert_one_line_error,
    environment,
    run_cli,
)

PROJECT = "tests.project.wsgi:app"
PROJECT_ENV = {"DJANGO_SETTINGS_MODULE": "tests.project.settings"}
#: The command line in an interpreter where importing uvloop fails, as where it is not installed.
WITHOUT_UVLOOP = [
    sys.executable,
    "-c",
    "import sys; sys.modules['uvloop'] = None\n"
    "from aiodjango.server.cli import main; sys.exit(main(prog='aiodjango-serve'))",
]
LOOP_CLASSES = {"uvloop": "uvloop.Loop", "asyncio": "asyncio.unix_events._UnixSelectorEventLoop"}


async def served_loop(server: ServerProcess) -> str:
    """Serve a sync view, a lifted view and a websocket; return the loop the lifted view ran on."""
    base = await server.address()
    async with aiohttp.ClientSession() as client:
        async with client.get(f"{base}/hello/") as response:
            assert response.status == 200
            assert (await response.text()).startswith("sync hello from pid")
        async with client.get(f"{base}/async/where/") as response:
            assert response.status == 200
            seen = await response.json()
        async with client.ws_connect(f"{base}/ws/echo/") as ws:
            await ws.send_str("loop")
            assert await ws.receive_str(timeout=10) == "echo: loop"
    assert seen["scheme"] == "http"
    return str(seen["loop"])


@pytest.mark.slow
@pytest.mark.parametrize(("choice", "loop"), [("auto", "uvloop"), *((n, n) for n in LOOP_CLASSES)])
async def test_the_command_line_serves_on_the_loop_chosen(
    start_server: StartServer, choice: str, loop: str
) -> None:
    """uvloop is installed with the test extra: ``auto`` takes it."""
    server = start_server(
        [*COMMANDS["aiodjango-serve"], PROJECT, "--port", "0", "--host", "127.0.0.1"]
        + ([] if choice == "auto" else ["--loop", choice]),
        env=PROJECT_ENV,
    )
    assert await served_loop(server) == LOOP_CLASSES[loop]
    assert f"event loop: {loop}" in server.stderr
    server.signal(signal.SIGTERM)
    assert await server.wait() == 0


@pytest.mark.slow
async def test_without_uvloop_auto_falls_back_to_asyncio(start_server: StartServer) -> None:
    server = start_server(
        [*WITHOUT_UVLOOP, PROJECT, "--port", "0", "--host", "127.0.0.1"], env=PROJECT_ENV
    )
    assert await served_loop(server) == LOOP_CLASSES["asyncio"]
    assert "event loop: asyncio" in server.stderr
    server.signal(signal.SIGTERM)
    assert await server.wait() == 0


def test_without_uvloop_asking_for_it_is_one_line_naming_the_extra() -> None:
    result = subprocess.run(
        [*WITHOUT_UVLOOP, "--loop", "uvloop", "--port", "0", PROJECT],
        capture_output=True,
        text=True,
        timeout=60,
        env=environment(**PROJECT_ENV),
    )
    assert_one_line_error(result, "uvloop is not installed", 'pip install "aiodjango[uvloop]"')


def test_an_unknown_loop_is_refused() -> None:
    assert_one_line_error(run_cli(PROJECT, "--loop", "trio"), "--loop", "'trio'")
    with pytest.raises(ValueError, match="loop must be one of auto, asyncio, uvloop"):
        loop_factory("trio")


def test_run_on_loop_sets_no_policy() -> None:
    """The loop comes from the factory alone: the policy's loop stays asyncio's."""

    async def name() -> str:
        return loop_name()

    policy = asyncio.get_event_loop_policy()
    assert run_on_loop(name(), loop_factory("uvloop")) == "uvloop"
    assert run_on_loop(name(), loop_factory("asyncio")) == "asyncio"
    assert asyncio.get_event_loop_policy() is policy
    assert issubclass(LoopUnavailable, ValueError)
