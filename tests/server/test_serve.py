"""serve() in a subprocess: a signal while requests and websockets are open."""

from __future__ import annotations

import asyncio
import signal
import sys
import tempfile
from pathlib import Path

import aiohttp
import pytest

from tests.server.apps import FINISH_ENV, GATE_ENV, Gate
from tests.support.processes import StartServer
from tests.support.waiting import settle

pytestmark = pytest.mark.slow

SERVE = [sys.executable, "-m", "tests.server.apps"]


async def test_sigterm_finishes_requests_closes_websockets_and_runs_on_finish(
    tmp_path: Path, start_server: StartServer
) -> None:
    gate = Gate(tmp_path / "gate")
    finish = tmp_path / "finish.log"
    env = {GATE_ENV: str(gate.directory), FINISH_ENV: str(finish)}
    server = start_server([*SERVE, "--port", "0"], env=env)
    url = await server.address()
    async with aiohttp.ClientSession() as session:
        websockets = [await session.ws_connect(f"{url}/ws") for _ in range(2)]
        request = asyncio.ensure_future(session.get(f"{url}/slow"))
        assert await settle(gate.started.exists)

        server.signal(signal.SIGTERM)
        for ws in websockets:
            message = await ws.receive(timeout=30)
            assert message.type is aiohttp.WSMsgType.CLOSE
            assert message.data == aiohttp.WSCloseCode.GOING_AWAY
        assert not finish.exists()  # the request in flight is not finished yet

        gate.release()
        async with await request as response:
            assert response.status == 200
            assert await response.text() == "finished"
        for ws in websockets:
            await ws.close()
    assert await server.wait() == 0
    assert finish.read_text() == "on_finish\n"
    assert "Traceback" not in server.output


async def test_sigint_on_a_unix_socket_removes_it_and_runs_on_finish(
    tmp_path: Path, start_server: StartServer
) -> None:
    gate = Gate(tmp_path / "gate")
    finish = tmp_path / "finish.log"
    env = {GATE_ENV: str(gate.directory), FINISH_ENV: str(finish)}
    with tempfile.TemporaryDirectory(prefix="aiodj-") as directory:
        path = Path(directory) / "serve.sock"
        server = start_server([*SERVE, "--unix-socket", str(path)], env=env)
        assert await server.address() == f"unix:{path}"
        connector = aiohttp.UnixConnector(path=str(path))
        async with aiohttp.ClientSession(connector=connector) as session:
            request = asyncio.ensure_future(session.get("http://localhost/slow"))
            assert await settle(gate.started.exists)
            server.signal(signal.SIGINT)
            await server.wait_for_output("SIGINT: shutting down")
            gate.release()
            async with await request as response:
                assert await response.text() == "finished"
        assert await server.wait() == 0
        assert not path.exists()
    assert finish.read_text() == "on_finish\n"
