"""serve() in a subprocess: a signal while requests and websockets are open."""

from __future__ import annotations

import asyncio
import signal
import sys
import tempfile
from pathlib import Path

import aiohttp

from tests.server.apps import FINISH_ENV, GATE_ENV, Gate
from tests.server.running import ServerProcess, environment, wait_until

SERVE = [sys.executable, "-m", "tests.server.apps"]


async def test_sigterm_finishes_requests_closes_websockets_and_runs_on_finish(
    tmp_path: Path,
) -> None:
    gate = Gate(tmp_path / "gate")
    finish = tmp_path / "finish.log"
    env = environment(**{GATE_ENV: str(gate.directory), FINISH_ENV: str(finish)})
    async with ServerProcess(*SERVE, "--port", "0", env=env) as server:
        url = await server.address()
        async with aiohttp.ClientSession() as session:
            websockets = [await session.ws_connect(f"{url}/ws") for _ in range(2)]
            request = asyncio.ensure_future(session.get(f"{url}/slow"))
            await wait_until(gate.started.exists)

            server.send_signal(signal.SIGTERM)
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
        assert await server.exit_status() == 0
    assert finish.read_text() == "on_finish\n"
    assert "Traceback" not in server.output


async def test_sigint_on_a_unix_socket_removes_it_and_runs_on_finish(tmp_path: Path) -> None:
    gate = Gate(tmp_path / "gate")
    finish = tmp_path / "finish.log"
    env = environment(**{GATE_ENV: str(gate.directory), FINISH_ENV: str(finish)})
    with tempfile.TemporaryDirectory(prefix="aiodj-") as directory:
        path = Path(directory) / "serve.sock"
        async with ServerProcess(*SERVE, "--unix-socket", str(path), env=env) as server:
            assert await server.address() == f"unix:{path}"
            connector = aiohttp.UnixConnector(path=str(path))
            async with aiohttp.ClientSession(connector=connector) as session:
                request = asyncio.ensure_future(session.get("http://localhost/slow"))
                await wait_until(gate.started.exists)
                server.send_signal(signal.SIGINT)
                await server.wait_for("SIGINT: shutting down")
                gate.release()
                async with await request as response:
                    assert await response.text() == "finished"
            assert await server.exit_status() == 0
        assert not path.exists()
    assert finish.read_text() == "on_finish\n"
