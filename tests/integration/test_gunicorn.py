"""gunicorn with aiohttp's worker serving ``get_aio_application()``, as in production."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

import aiohttp
import pytest

from tests.support.processes import ServerProcess, StartServer, free_port
from tests.support.waiting import settle

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]
GUNICORN = Path(sys.executable).parent / "gunicorn"


def gunicorn(start_server: StartServer, port: int, *args: str) -> ServerProcess:
    return start_server(
        [
            GUNICORN,
            "tests.project.wsgi:app",
            "--worker-class",
            "aiohttp.worker.GunicornWebWorker",
            "--bind",
            f"127.0.0.1:{port}",
            "--graceful-timeout",
            "20",
            *args,
        ],
        env={"DJANGO_SETTINGS_MODULE": "tests.project.settings"},
    )


async def test_two_workers_serve_sync_async_and_websocket(start_server: StartServer) -> None:
    port = free_port()
    server = gunicorn(start_server, port, "--workers", "2")
    await server.wait_for_port(port)
    base = f"http://127.0.0.1:{port}"
    pids: dict[str, set[str]] = {"/hello/": set(), "/async/hello/": set()}

    async def fetch(client: aiohttp.ClientSession, path: str) -> None:
        async with client.get(base + path) as response:
            assert response.status == 200
            pids[path].add((await response.text()).rsplit(" ", 1)[1])

    # The port answers once the first worker is up; the second may still be loading Django.
    await server.wait_for_output("Booting worker", times=2)
    # New connections for every request, many at once, so that both workers accept some,
    # for as long as it takes the second worker to be ready (bounded).
    connector = aiohttp.TCPConnector(force_close=True)
    async with aiohttp.ClientSession(connector=connector) as client:

        async def both_workers_answered() -> bool:
            await asyncio.gather(*(fetch(client, path) for path in pids for _ in range(20)))
            return all(len(seen) == 2 for seen in pids.values())

        await settle(both_workers_answered, 30.0)
        async with client.ws_connect(f"{base}/ws/echo/") as socket_:
            await socket_.send_str("hi")
            assert await socket_.receive_str(timeout=10) == "echo: hi"
    assert server.stderr.count("Booting worker") == 2
    assert len(pids["/hello/"]) == 2, pids
    assert len(pids["/async/hello/"]) == 2, pids


async def test_sigterm_lets_in_flight_requests_finish(start_server: StartServer) -> None:
    port = free_port()
    server = gunicorn(start_server, port, "--workers", "1")
    await server.wait_for_port(port)
    base = f"http://127.0.0.1:{port}"
    async with aiohttp.ClientSession() as client:
        sync_request = asyncio.ensure_future(client.get(f"{base}/slow/2/"))
        async_request = asyncio.ensure_future(client.get(f"{base}/async/slow/2/"))
        await server.wait_for_output("slow view started (2.0s)")
        await server.wait_for_output("async slow view started (2.0s)")
        server.signal(signal.SIGTERM)
        sync_response, async_response = await asyncio.gather(sync_request, async_request)
        assert sync_response.status == 200
        assert await sync_response.text() == "slept 2.0"
        assert async_response.status == 200
        assert await async_response.text() == "async slept 2.0"
    assert await server.wait(30) == 0
