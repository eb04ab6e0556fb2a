"""The README's run command, as a newcomer types it."""

from __future__ import annotations

import signal
import sys

import aiohttp
import pytest

from tests.support.processes import ROOT, StartServer, free_port

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]


async def test_run_command_sets_up_and_serves_the_example(
    start_server: StartServer, tmp_path: object
) -> None:
    port = free_port()
    database = f"{tmp_path}/run-command.sqlite3"
    server = start_server(
        [sys.executable, ROOT / "dev.py", "run", f"127.0.0.1:{port}"],
        env={"EXAMPLE_DATABASE": database},
    )
    await server.wait_for_port(port, within=240)
    base = f"http://127.0.0.1:{port}"
    async with aiohttp.ClientSession() as client:
        async with client.get(f"{base}/") as response:
            assert response.status == 200
            assert "rendered by a normal Django view" in await response.text()
        async with client.get(f"{base}/api/clock/") as response:
            assert (await response.json())["served_by"].startswith("aiohttp ")
    # The run command migrated the database and created the demo users the README names.
    assert "Created demo user 'alice'" in server.stdout
    assert "Created demo user 'bob'" in server.stdout
    server.signal(signal.SIGINT)
    assert await server.wait(30) == 0
