"""Graceful shutdown under load, every way the project can be run.

Each server (``serve()``, the command line, ``runserver --noreload``, gunicorn with aiohttp's
worker) gets SIGTERM while 100 websockets are open and 100 requests (sync views through WSGI
and lifted coroutine views) are held in flight at a gate. Then, in this order: every
websocket is closed with 1001 while the requests are still held; new connections are refused;
the gate opens; every request completes with its full response; the process exits with status
0 within ``shutdown_timeout``; cleanup (``on_finish``) ran once; a unix socket file is gone.
"""

from __future__ import annotations

import asyncio
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from aiodjango.server import Server
from tests.reliability.project.environment import FINISH_ENV, THREADS_ENV
from tests.reliability.project.views import ENTERED, GATE_ENV
from tests.support.measures import Figures, refuses_connections
from tests.support.processes import ROOT, ServerProcess, StartServer, free_port
from tests.support.waiting import settle

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]

SHUTDOWN_TIMEOUT = 30
WEBSOCKETS = 100
SYNC_REQUESTS = 60
ASYNC_REQUESTS = 40
GUNICORN = Path(sys.executable).parent / "gunicorn"


@dataclass
class Setup:
    """One server to stop: how to reach it, and the files it reports through."""

    server: ServerProcess
    base_url: str
    connector: Callable[[], aiohttp.BaseConnector]
    gate: Path
    finish: Path
    unix_socket: Path | None = None


def shutdown_env(short_tmp: Path) -> dict[str, str]:
    return {
        "DJANGO_SETTINGS_MODULE": "tests.reliability.project.settings",
        GATE_ENV: str(short_tmp / "gate"),
        FINISH_ENV: str(short_tmp / "finish.log"),
        THREADS_ENV: str(SYNC_REQUESTS + 4),  # every sync request is in a view, not queued
    }


def tcp_setup(server: ServerProcess, port: int, short_tmp: Path) -> Setup:
    return Setup(
        server,
        f"http://127.0.0.1:{port}",
        lambda: aiohttp.TCPConnector(limit=0),
        short_tmp / "gate",
        short_tmp / "finish.log",
    )


def unix_setup(server: ServerProcess, path: Path, short_tmp: Path) -> Setup:
    return Setup(
        server,
        "http://localhost",
        lambda: aiohttp.UnixConnector(path=str(path), limit=0),
        short_tmp / "gate",
        short_tmp / "finish.log",
        unix_socket=path,
    )


def listening_address(setup: Setup) -> str | tuple[str, int]:
    """Where the server listens: its unix socket, or its host and port."""
    if setup.unix_socket is not None:
        return str(setup.unix_socket)
    host, port = setup.base_url.removeprefix("http://").split(":")
    return host, int(port)


async def stop_under_load(setup: Setup, figures: Figures) -> None:
    """Hold 100 requests and 100 websockets, send SIGTERM, check that nothing is lost."""
    server = setup.server
    async with aiohttp.ClientSession(connector=setup.connector()) as session:

        async def open_websocket() -> aiohttp.ClientWebSocketResponse:
            ws = await session.ws_connect(f"{setup.base_url}/ws/echo/")
            await ws.send_str("hello")
            assert await ws.receive_str(timeout=30) == "echo: hello"
            return ws

        async def fetch(path: str) -> tuple[int, str]:
            async with session.get(setup.base_url + path) as response:
                return response.status, await response.text()

        websockets = await asyncio.gather(*(open_websocket() for _ in range(WEBSOCKETS)))
        requests = [asyncio.ensure_future(fetch("/gate/")) for _ in range(SYNC_REQUESTS)]
        requests += [asyncio.ensure_future(fetch("/async/gate/")) for _ in range(ASYNC_REQUESTS)]
        await server.wait_for_output(ENTERED, within=60, times=SYNC_REQUESTS + ASYNC_REQUESTS)

        signalled = time.monotonic()
        server.signal(signal.SIGTERM)
        close_codes = []
        for ws in websockets:
            message = await ws.receive(timeout=SHUTDOWN_TIMEOUT)
            close_codes.append(message.data if message.type is aiohttp.WSMsgType.CLOSE else None)
        deadline = signalled + SHUTDOWN_TIMEOUT
        refused = await settle(
            lambda: refuses_connections(listening_address(setup)),
            within=deadline - time.monotonic(),
        )
        assert refused, "the server still accepts connections"
        held = sum(not request.done() for request in requests)

        setup.gate.touch()
        outcomes = await asyncio.gather(*requests, return_exceptions=True)
        for ws in websockets:
            await ws.close()
        status = await server.wait(max(deadline - time.monotonic(), 0.1))
        stopped_after = time.monotonic() - signalled

    completed = outcomes.count((200, "released")) + outcomes.count((200, "async released"))
    figures["requests in flight at SIGTERM"] = len(requests)
    figures["still in flight after the websockets closed"] = held
    figures["requests completed"] = completed
    figures["requests lost"] = len(requests) - completed
    figures["websockets open at SIGTERM"] = len(websockets)
    figures["websockets closed with 1001"] = close_codes.count(1001)
    figures["exit status"] = status
    figures["seconds from SIGTERM to exit"] = f"{stopped_after:.2f}"

    assert held == len(requests), "requests finished before the gate opened"
    assert close_codes == [aiohttp.WSCloseCode.GOING_AWAY] * WEBSOCKETS
    unexpected = [o for o in outcomes if isinstance(o, BaseException) or o[1:] != ("released",)]
    assert completed == len(requests), unexpected[:5]
    assert status == 0
    finished = setup.finish.read_text().splitlines()
    figures["cleanup runs"] = len(finished)
    assert len(finished) == 1, finished
    if setup.unix_socket is not None:
        assert not setup.unix_socket.exists()
    assert "Traceback" not in server.stderr, server.stderr


async def test_serve(start_server: StartServer, short_tmp: Path, figures: Figures) -> None:
    path = short_tmp / "serve.sock"
    server = start_server(
        [
            sys.executable,
            "-m",
            "tests.reliability.serve_main",
            "--unix-socket",
            path,
            "--shutdown-timeout",
            str(SHUTDOWN_TIMEOUT),
        ],
        env=shutdown_env(short_tmp),
    )
    await server.wait_for_unix_socket(path)
    await stop_under_load(unix_setup(server, path, short_tmp), figures)


async def test_command_line(start_server: StartServer, short_tmp: Path, figures: Figures) -> None:
    path = short_tmp / "cli.sock"
    server = start_server(
        [
            sys.executable,
            "-m",
            "aiodjango",
            "tests.reliability.project.wsgi:app",
            "--unix-socket",
            path,
            "--shutdown-timeout",
            str(SHUTDOWN_TIMEOUT),
        ],
        env=shutdown_env(short_tmp),
    )
    await server.wait_for_unix_socket(path)
    await stop_under_load(unix_setup(server, path, short_tmp), figures)


async def test_runserver(start_server: StartServer, short_tmp: Path, figures: Figures) -> None:
    port = free_port()
    server = start_server(
        [
            sys.executable,
            "-m",
            "django",
            "runserver",
            f"127.0.0.1:{port}",
            "--noreload",
            "--skip-checks",
            "--shutdown-timeout",
            str(SHUTDOWN_TIMEOUT),
        ],
        cwd=ROOT,
        env=shutdown_env(short_tmp),
    )
    await server.wait_for_port(port)
    await stop_under_load(tcp_setup(server, port, short_tmp), figures)


async def test_gunicorn_aiohttp_worker(
    start_server: StartServer, short_tmp: Path, figures: Figures
) -> None:
    port = free_port()
    server = start_server(
        [
            GUNICORN,
            "tests.reliability.project.wsgi:app",
            "--worker-class",
            "aiohttp.worker.GunicornWebWorker",
            "--workers",
            "1",
            "--bind",
            f"127.0.0.1:{port}",
            "--graceful-timeout",
            str(SHUTDOWN_TIMEOUT),
        ],
        env=shutdown_env(short_tmp),
    )
    await server.wait_for_port(port)
    await stop_under_load(tcp_setup(server, port, short_tmp), figures)


async def test_websockets_of_a_sub_application_are_closed_too() -> None:
    """A websocket served by a sub-application is tracked by the application that is run."""

    async def echo(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        async for _ in ws:
            pass
        return ws

    sub = web.Application()
    sub.router.add_get("/ws", echo)
    app = web.Application()
    app.add_subapp("/sub", sub)
    server = Server(app, host="127.0.0.1", port=0, shutdown_timeout=10)
    await server.start()
    async with aiohttp.ClientSession() as session:
        ws = await session.ws_connect(f"http://127.0.0.1:{server.port}/sub/ws")
        await asyncio.wait_for(server.stop(), 30)
        message = await ws.receive(timeout=10)
        await ws.close()
    assert message.type is aiohttp.WSMsgType.CLOSE
    assert message.data == aiohttp.WSCloseCode.GOING_AWAY
