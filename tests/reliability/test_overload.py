"""Overload: ten times more concurrent requests than worker threads, for a while.

The server (the command line serving the reliability project, in a subprocess) has 4 worker
threads and room for 8 queued requests. 40 clients send requests to a sync view back to back
while one more client keeps asking a lifted coroutine view. Every request gets an answer: 200,
or 503 with ``Retry-After`` once the queue is full; the lifted view never sees a 503. The
server's RSS stays flat after warming up, and its descriptors return to their starting count
once the clients have gone.
"""

from __future__ import annotations

import asyncio
import signal
import sys
import time
from collections import Counter

import aiohttp
import pytest

from tests.reliability.project.environment import MAX_QUEUED_ENV, THREADS_ENV
from tests.support.measures import Figures, MiB, mib, open_fds, rss, thread_count
from tests.support.processes import ServerProcess, StartServer, free_port
from tests.support.waiting import settle

pytestmark = pytest.mark.slow

THREADS = 4
MAX_QUEUED = 8
CLIENTS = 10 * THREADS
WARM_UP = 1.5  # seconds of load before the reference RSS is taken
#: RSS growth allowed between the end of the warm-up and the end of the load. A leak of one
#: small object per request (tens of thousands of requests) would exceed it.
RSS_SLACK = 12 * MiB


async def start(start_server: StartServer) -> tuple[ServerProcess, str]:
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
        ],
        env={
            "DJANGO_SETTINGS_MODULE": "tests.reliability.project.settings",
            THREADS_ENV: str(THREADS),
            MAX_QUEUED_ENV: str(MAX_QUEUED),
        },
    )
    await server.wait_for_port(port)
    return server, f"http://127.0.0.1:{port}"


async def overload(start_server: StartServer, figures: Figures, duration: float) -> None:
    server, base = await start(start_server)
    pid = server.process.pid
    # Warm up imports and first-use caches, on connections the server closes at once.
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True)) as session:
        for path in ("/work/", "/async/hello/"):
            async with session.get(base + path) as response:
                assert response.status == 200
    fds_before = open_fds(pid)

    outcomes: Counter[str] = Counter()
    lifted: Counter[str] = Counter()
    retry_after: set[str | None] = set()
    end = time.monotonic() + duration

    async def client(session: aiohttp.ClientSession) -> None:
        while time.monotonic() < end:
            try:
                async with session.get(f"{base}/work/") as response:
                    body = await response.read()
                    if response.status == 200 and body == b"worked":
                        outcomes["200"] += 1
                    elif response.status == 503:
                        outcomes["503"] += 1
                        retry_after.add(response.headers.get("Retry-After"))
                    else:
                        outcomes[f"unexpected {response.status}"] += 1
            except (TimeoutError, aiohttp.ClientError) as error:
                outcomes[f"lost ({type(error).__name__})"] += 1

    async def prober(session: aiohttp.ClientSession) -> None:
        while time.monotonic() < end:
            async with session.get(f"{base}/async/hello/") as response:
                lifted[str(response.status)] += 1
            await asyncio.sleep(0.01)  # the behaviour: a prober's pace, not a wait

    timeout = aiohttp.ClientTimeout(total=30)
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        load = asyncio.gather(*(client(session) for _ in range(CLIENTS)), prober(session))
        await asyncio.sleep(WARM_UP)  # the measurement: this long under load before the reference
        rss_warm, threads_warm = rss(pid), thread_count(pid)
        peak = rss_warm
        while not load.done():
            peak = max(peak, rss(pid))
            await asyncio.wait([load], timeout=0.25)
        await load
        rss_after = rss(pid)
    fds_back = await settle(lambda: open_fds(pid) <= fds_before)
    fds_after = open_fds(pid)

    sent = sum(outcomes.values())
    lost = sum(n for kind, n in outcomes.items() if kind not in ("200", "503"))
    figures["duration (s)"] = duration
    figures["worker threads / queue / concurrent clients"] = f"{THREADS} / {MAX_QUEUED} / {CLIENTS}"
    figures["requests sent"] = sent
    figures["2xx"] = outcomes["200"]
    figures["503"] = outcomes["503"]
    figures["lost"] = lost
    if lost:
        figures["lost by kind"] = dict(outcomes)
    figures["lifted view probes"] = dict(lifted)
    figures["RSS after warm-up / peak / after"] = (
        f"{mib(rss_warm)} / {mib(peak)} / {mib(rss_after)}"
    )
    figures["server threads after warm-up / after"] = f"{threads_warm} / {thread_count(pid)}"
    figures["fds before / after"] = f"{fds_before} / {fds_after}"

    assert lost == 0, dict(outcomes)
    assert outcomes["200"] > 0 and outcomes["503"] > 0, dict(outcomes)
    assert retry_after == {"1"}
    assert set(lifted) == {"200"}, dict(lifted)
    assert rss_after - rss_warm < RSS_SLACK
    assert fds_back, (fds_before, fds_after)
    assert thread_count(pid) <= threads_warm

    server.signal(signal.SIGTERM)
    assert await server.wait(30) == 0


async def test_ten_times_more_clients_than_threads(
    start_server: StartServer, figures: Figures
) -> None:
    await overload(start_server, figures, duration=6.0)


@pytest.mark.soak
@pytest.mark.timeout(120)
async def test_ten_times_more_clients_than_threads_soak(
    start_server: StartServer, figures: Figures
) -> None:
    await overload(start_server, figures, duration=30.0)
