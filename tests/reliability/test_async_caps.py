"""The caps on the loop and the websocket defaults, on a real server (the command line serving
the reliability project's ``get_aio_application()`` app, in a subprocess).

Past ``--max-websockets``, new handshakes get 503 with ``Retry-After``; past
``--max-async-requests``, new requests for lifted views and Django async views do too, while
sync views, open websockets and the requests in flight are served as usual. Over several
rounds of filling and draining the caps, the server's RSS stays flat and its descriptors
return to their starting count. Websockets get the server's heartbeat and maximum message
size unless their view sets its own. A third test measures what an open websocket and a request in
flight cost, the figures behind the default caps.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

import aiohttp
import pytest
from aiohttp import WSCloseCode, WSMsgType

from tests.reliability.project.views import ENTERED, GATE_ENV
from tests.support.measures import Figures, MiB, mib, open_fds, rss
from tests.support.processes import ServerProcess, StartServer, free_port
from tests.support.waiting import settle

pytestmark = pytest.mark.slow

MAX_REQUESTS = 8
MAX_WEBSOCKETS = 40
MAX_MSG_SIZE = 64 * 1024
ROUNDS = 4
#: RSS growth allowed between the end of the first round and the end of the last: a leak of
#: a websocket or a request per round would not reach it, a leak of their buffers would.
RSS_SLACK = 16 * MiB
OPEN_FOR_MEASURE = 2000
HELD_FOR_MEASURE = 500


async def start(start_server: StartServer, gate: Path, *options: str) -> tuple[ServerProcess, str]:
    port = free_port()
    server = start_server(
        [
            sys.executable,
            "-m",
            "aiodjango",
            "tests.reliability.project.wsgi:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--quiet",
            *options,
        ],
        env={"DJANGO_SETTINGS_MODULE": "tests.reliability.project.settings", GATE_ENV: str(gate)},
    )
    await server.wait_for_port(port)
    return server, f"http://127.0.0.1:{port}"


async def refused(response: aiohttp.ClientResponse) -> bool:
    """Whether ``response`` is the refusal past a cap."""
    async with response:
        return response.status == 503 and response.headers.get("Retry-After") == "1"


async def handshake_refused(session: aiohttp.ClientSession, url: str) -> bool:
    try:
        ws = await session.ws_connect(url)
    except aiohttp.WSServerHandshakeError as error:
        headers = error.headers
        return error.status == 503 and headers is not None and headers["Retry-After"] == "1"
    await ws.close()
    return False


async def echoes(ws: aiohttp.ClientWebSocketResponse, text: str = "hello") -> bool:
    await ws.send_str(text)
    return await ws.receive_str(timeout=30) == f"echo: {text}"


async def test_past_the_caps_503_and_everything_else_served(
    start_server: StartServer, tmp_path: Path, figures: Figures
) -> None:
    gate = tmp_path / "gate"
    server, base = await start(
        start_server,
        gate,
        f"--max-async-requests={MAX_REQUESTS}",
        f"--max-websockets={MAX_WEBSOCKETS}",
    )
    pid = server.process.pid
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True)) as warm:
        for path in ("/hello/", "/async/hello/", "/django-async/hello/"):
            async with warm.get(base + path) as response:
                assert response.status == 200, path
        ws = await warm.ws_connect(base + "/ws/echo/")
        assert await echoes(ws)
        await ws.close()
    fds_before = await settle_fds(pid)

    entered = 0
    rss_first = 0
    refusals = {"websocket": 0, "lifted": 0, "django async": 0}
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def fetch(path: str) -> tuple[int, str]:
            async with session.get(base + path) as response:
                return response.status, await response.text()

        for round_number in range(ROUNDS):
            gate.unlink(missing_ok=True)
            websockets = await asyncio.gather(
                *(session.ws_connect(base + "/ws/echo/") for _ in range(MAX_WEBSOCKETS))
            )
            extra = await asyncio.gather(
                *(handshake_refused(session, base + "/ws/echo/") for _ in range(10))
            )
            assert all(extra), extra
            refusals["websocket"] += len(extra)

            held = [asyncio.ensure_future(fetch("/async/gate/")) for _ in range(5)]
            held += [asyncio.ensure_future(fetch("/django-async/gate/")) for _ in range(3)]
            entered += MAX_REQUESTS
            await server.wait_for_output(ENTERED, times=entered)

            lifted = [refused(await session.get(base + "/async/hello/")) for _ in range(20)]
            assert all(await asyncio.gather(*lifted))
            refusals["lifted"] += len(lifted)
            django = [refused(await session.get(base + "/django-async/hello/")) for _ in range(20)]
            assert all(await asyncio.gather(*django))
            refusals["django async"] += len(django)
            # Everything else is served: sync views, the open websockets.
            assert await fetch("/hello/") == (200, "hello")
            assert all(await asyncio.gather(*(echoes(ws) for ws in websockets[:10])))

            gate.touch()
            answers = await asyncio.gather(*held)
            assert [status for status, _ in answers] == [200] * MAX_REQUESTS, answers
            await asyncio.gather(*(ws.close() for ws in websockets))
            # Under the caps again, once the load has gone.
            assert await fetch("/async/hello/") == (200, "async hello")
            assert await fetch("/django-async/hello/") == (200, "django async hello")
            ws = await session.ws_connect(base + "/ws/echo/")
            assert await echoes(ws)
            await ws.close()
            if round_number == 0:
                rss_first = rss(pid)
        rss_last = rss(pid)
    fds_back = await settle(lambda: open_fds(pid) <= fds_before)
    fds_after = open_fds(pid)

    figures["caps: requests / websockets"] = f"{MAX_REQUESTS} / {MAX_WEBSOCKETS}"
    figures["rounds"] = ROUNDS
    figures["503 with Retry-After"] = dict(refusals)
    figures["RSS after the first round / the last"] = f"{mib(rss_first)} / {mib(rss_last)}"
    figures["fds before / after"] = f"{fds_before} / {fds_after}"
    assert rss_last - rss_first < RSS_SLACK
    assert fds_back, (fds_before, fds_after)

    server.signal(signal.SIGTERM)
    assert await server.wait(30) == 0


async def test_websocket_defaults_and_a_views_own_value(
    start_server: StartServer, tmp_path: Path
) -> None:
    server, base = await start(
        start_server,
        tmp_path / "gate",
        f"--websocket-max-msg-size={MAX_MSG_SIZE}",
        "--websocket-heartbeat=0.5",
    )
    large = "x" * (MAX_MSG_SIZE + 1)
    async with aiohttp.ClientSession() as session:
        # The server's maximum message size: a larger message closes the websocket with 1009.
        ws = await session.ws_connect(base + "/ws/echo/")
        assert await echoes(ws, "x" * (MAX_MSG_SIZE // 2))
        await ws.send_str(large)
        message = await ws.receive(timeout=30)
        assert message.type is WSMsgType.CLOSE, message
        assert message.data == WSCloseCode.MESSAGE_TOO_BIG
        # A view that sets its own keeps it.
        ws = await session.ws_connect(base + "/ws/roomy/")
        assert await echoes(ws, large)
        await ws.close()
        # The server's heartbeat: a quiet websocket is pinged.
        ws = await session.ws_connect(base + "/ws/echo/", autoping=False)
        message = await ws.receive(timeout=30)
        assert message.type is WSMsgType.PING, message
        await ws.close()
    server.signal(signal.SIGTERM)
    assert await server.wait(30) == 0


async def test_what_an_open_websocket_and_a_request_in_flight_cost(
    start_server: StartServer, tmp_path: Path, figures: Figures
) -> None:
    """Each measured on a fresh server, so that neither reuses memory the other freed."""
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:
        server, base = await start(start_server, tmp_path / "gate-1")
        pid = server.process.pid
        ws = await session.ws_connect(base + "/ws/echo/")
        assert await echoes(ws)
        await ws.close()
        fds_before = await settle_fds(pid)
        rss_before = rss(pid)
        websockets = []
        for _ in range(OPEN_FOR_MEASURE // 100):
            websockets += await asyncio.gather(
                *(session.ws_connect(base + "/ws/echo/") for _ in range(100))
            )
        assert all(await asyncio.gather(*(echoes(ws) for ws in websockets)))
        rss_open, fds_open = rss(pid), open_fds(pid)
        await asyncio.gather(*(ws.close() for ws in websockets))
        assert await settle(lambda: open_fds(pid) <= fds_before)
        server.signal(signal.SIGTERM)
        assert await server.wait(30) == 0

        # Requests held in a lifted view, under the default cap.
        gate = tmp_path / "gate-2"
        server, base = await start(start_server, gate)
        pid = server.process.pid
        async with session.get(base + "/async/hello/") as response:
            assert response.status == 200
        fds_idle = await settle_fds(pid)
        rss_idle = rss(pid)
        held = [
            asyncio.ensure_future(session.get(base + "/async/gate/"))
            for _ in range(HELD_FOR_MEASURE)
        ]
        await server.wait_for_output(ENTERED, times=HELD_FOR_MEASURE)
        rss_held = rss(pid)
        gate.touch()
        responses = await asyncio.gather(*held)
        assert [response.status for response in responses] == [200] * HELD_FOR_MEASURE
        for response in responses:
            response.release()
    fds_back = await settle(lambda: open_fds(pid) <= fds_idle)

    per_websocket = (rss_open - rss_before) / OPEN_FOR_MEASURE
    per_request = (rss_held - rss_idle) / HELD_FOR_MEASURE
    figures["websockets open"] = OPEN_FOR_MEASURE
    figures["RSS before / with them open"] = f"{mib(rss_before)} / {mib(rss_open)}"
    figures["RSS per open websocket"] = f"{per_websocket / 1024:.1f} KiB"
    figures["fds before / open"] = f"{fds_before} / {fds_open}"
    figures["lifted requests held"] = HELD_FOR_MEASURE
    figures["RSS before / with them held"] = f"{mib(rss_idle)} / {mib(rss_held)}"
    figures["RSS per lifted request in flight"] = f"{per_request / 1024:.1f} KiB"
    assert fds_open - fds_before >= OPEN_FOR_MEASURE
    # Generous: the defaults (10 000 websockets, 1000 requests) must fit in well under 1 GiB.
    assert per_websocket < 64 * 1024
    assert per_request < 256 * 1024
    assert fds_back

    server.signal(signal.SIGTERM)
    assert await server.wait(30) == 0


async def settle_fds(pid: int) -> int:
    """The server's descriptor count once connections from before have been closed."""
    counts: list[int] = []

    def steady() -> bool:
        counts.append(open_fds(pid))
        return len(counts) >= 3 and counts[-1] == counts[-2] == counts[-3]

    await settle(steady)
    return counts[-1]
