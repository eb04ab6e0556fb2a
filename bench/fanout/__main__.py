"""``python -m bench.fanout``: one group_send to thousands of websockets, aiodjango and Channels.

Each server runs two worker processes on one redis-server (channels_redis' pub/sub layer). The
client opens ``--sockets`` websockets (the kernel spreads them over the workers), then:

* latency: ``--sends`` single group_sends, one after the other; for each, the time from the
  send until the last socket has the message (p50 and p99 over the sends);
* rate: ``--burst`` group_sends back to back; the messages delivered per second until every
  socket has all of them.

The client runs in this process (on uvloop when installed), so its own cost is in the figures
of both servers alike. Writes ``bench/results/fanout.json`` and ``fanout.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import aiohttp
from channels_redis.pubsub import RedisPubSubChannelLayer

ROOT = Path(__file__).resolve().parent.parent.parent
BIN = Path(sys.executable).parent
RESULTS = ROOT / "bench" / "results"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def server_argv(name: str, port: int) -> list[str]:
    bind = ["--bind", f"127.0.0.1:{port}", "-w", "2"]
    if name.startswith("aiodjango"):
        uvloop = name == "aiodjango-uvloop"
        worker_class = "GunicornUVLoopWebWorker" if uvloop else "GunicornWebWorker"
        worker = ["--worker-class", f"aiohttp.worker.{worker_class}"]
        return [str(BIN / "gunicorn"), "bench.fanout.aio:app", *worker, *bind]
    return [
        str(BIN / "uvicorn"),
        "bench.fanout.asgi:application",
        "--port",
        str(port),
        "--workers",
        "2",
        "--log-level",
        "warning",
    ]


@dataclass
class Result:
    server: str
    command: str
    sockets: int
    workers_seen: int
    p50_ms: float
    p99_ms: float
    max_ms: float
    rate: float


class Sockets:
    """The client's websockets, each recording when it got each numbered message."""

    def __init__(self) -> None:
        self.sockets: list[aiohttp.ClientWebSocketResponse] = []
        self.received: dict[int, int] = {}  # message number -> how many sockets have it
        self.last: dict[int, float] = {}  # message number -> when the last one got it
        self.done: dict[int, asyncio.Event] = {}
        self.tasks: list[asyncio.Task[None]] = []

    def expect(self, number: int) -> asyncio.Event:
        self.received[number] = 0
        event = self.done[number] = asyncio.Event()
        return event

    async def read(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        async for message in ws:
            number = int(message.data)
            if number not in self.received:
                continue
            self.received[number] += 1
            if self.received[number] == len(self.sockets):
                self.last[number] = time.perf_counter()
                self.done[number].set()


async def measure(
    name: str, port: int, layer: RedisPubSubChannelLayer, args: argparse.Namespace
) -> Result:
    client = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
    sockets = Sockets()
    url = f"http://127.0.0.1:{port}/ws/"
    try:
        for start in range(0, args.sockets, 250):
            batch = await asyncio.gather(
                *(client.ws_connect(url) for _ in range(min(250, args.sockets - start)))
            )
            sockets.sockets.extend(batch)
        sockets.tasks = [asyncio.ensure_future(sockets.read(ws)) for ws in sockets.sockets]
        number = 0

        async def send_and_wait(count: int) -> float:
            """Send ``count`` messages back to back; seconds until every socket has all."""
            nonlocal number
            events = []
            first = number + 1
            started = time.perf_counter()
            for _ in range(count):
                number += 1
                events.append(sockets.expect(number))
                await layer.group_send("fanout", {"type": "fanout.message", "text": str(number)})
            await asyncio.wait_for(asyncio.gather(*(e.wait() for e in events)), 60)
            return max(sockets.last[n] for n in range(first, number + 1)) - started

        # Warm-up, and the joins of the last sockets: until one message reaches every socket.
        for _ in range(50):
            try:
                await send_and_wait(1)
                break
            except TimeoutError:
                continue
        latencies = sorted([await send_and_wait(1) for _ in range(args.sends)])
        rate = args.burst * args.sockets / await send_and_wait(args.burst)
        return Result(
            name,
            " ".join(Path(a).name if i == 0 else a for i, a in enumerate(server_argv(name, 0))),
            args.sockets,
            2,
            round(statistics.median(latencies) * 1000, 1),
            round(latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000, 1),
            round(latencies[-1] * 1000, 1),
            round(rate),
        )
    finally:
        for task in sockets.tasks:
            task.cancel()
        await client.close()


async def run(args: argparse.Namespace, redis_url: str) -> list[Result]:
    results = []
    for name in args.servers:
        port = free_port()
        server = start_server(name, port, redis_url)
        try:
            await wait_for_port(port)
            layer = RedisPubSubChannelLayer(hosts=[redis_url])
            result = await measure(name, port, layer, args)
            await layer.flush()
            print(
                f"{name:10} {result.sockets} sockets: last socket p50 {result.p50_ms} ms, "
                f"p99 {result.p99_ms} ms; {result.rate:,} messages/s",
                file=sys.stderr,
            )
            results.append(result)
        finally:
            server.terminate()
            server.wait(30)
    return results


def start_server(name: str, port: int, redis_url: str) -> subprocess.Popen[bytes]:
    """The server ``name`` on ``port``, its output in a log file in the temporary directory."""
    env = {**os.environ, "REDIS_URL": redis_url, "PYTHONPATH": str(ROOT)}
    log = Path(tempfile.gettempdir()) / f"fanout-{name}.log"
    with log.open("wb") as out:
        return subprocess.Popen(
            server_argv(name, port),
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


async def wait_for_port(port: int, within: float = 60) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.1)
            continue
        writer.close()
        await writer.wait_closed()
        await asyncio.sleep(2)  # the workers load Django after the master listens
        return
    raise TimeoutError(f"nothing listens on {port}")


def write(results: list[Result], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "fanout.json").write_text(json.dumps([asdict(r) for r in results], indent=2) + "\n")
    lines = [
        "| server | sockets | last socket p50 (ms) | p99 (ms) | max (ms) | messages/s |",
        "| --- | --- | --- | --- | --- | --- |",
        *(
            f"| {r.server} | {r.sockets} | {r.p50_ms} | {r.p99_ms} | {r.max_ms} | {r.rate:,} |"
            for r in results
        ),
    ]
    (out / "fanout.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.fanout", description=__doc__)
    parser.add_argument("--sockets", type=int, default=5000)
    parser.add_argument("--sends", type=int, default=50)
    parser.add_argument("--burst", type=int, default=20)
    parser.add_argument(
        "--servers",
        nargs="+",
        default=["aiodjango", "aiodjango-uvloop", "channels"],
        choices=["aiodjango", "aiodjango-uvloop", "channels"],
    )
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    binary = shutil.which("redis-server")
    if binary is None:
        print("needs redis-server (Debian's redis-server package)", file=sys.stderr)
        return 2
    port = free_port()
    with tempfile.TemporaryDirectory() as directory:
        redis = subprocess.Popen(
            [binary, "--port", str(port), "--save", "", "--appendonly", "no", "--dir", directory],
            stdout=subprocess.DEVNULL,
        )
        try:
            try:
                import uvloop

                runner = uvloop.run
            except ImportError:
                runner = asyncio.run
            time.sleep(0.5)
            results = runner(run(args, f"redis://127.0.0.1:{port}/0"))
        finally:
            redis.terminate()
            redis.wait(10)
    write(results, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
