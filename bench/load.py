"""The load: ``wrk`` for request rates, small aiohttp clients for what ``wrk`` cannot measure.

``wrk`` keeps a fixed number of keep-alive connections busy and reports latency percentiles.
Large downloads (time to first byte, throughput), large uploads, requests that hold worker
threads and thousands of websockets are driven from this process instead, on the event loop.
"""

from __future__ import annotations

import asyncio
import json
import math
import shutil
import socket
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp

from .servers import LOAD_CORE, pinned

WRK_SCRIPT = Path(__file__).resolve().parent / "wrk_report.lua"
MARKER = "BENCH_JSON "


class LoadFailed(Exception):
    """The load generator or a client could not do its job; the message says why."""


@dataclass(frozen=True)
class WrkResult:
    requests: int
    seconds: float
    p50: float  # seconds
    p99: float
    mean: float
    non_2xx: int  # responses with a status of 400 or more, as wrk counts them
    socket_errors: int  # connect, read, write errors and timeouts

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def wrk_path() -> str:
    path = shutil.which("wrk")
    if path is None:
        raise LoadFailed("wrk is not installed (Debian: apt-get install wrk)")
    return path


async def wrk(url: str, seconds: int, connections: int, patience: int = 10) -> WrkResult:
    """Run wrk (one thread, ``connections`` keep-alive connections) against ``url``.

    A response slower than ``patience`` seconds counts as a timeout error.
    """
    argv = [
        wrk_path(),
        "--threads",
        "1",
        "--connections",
        str(connections),
        "--duration",
        f"{max(1, seconds)}s",
        "--timeout",
        f"{patience}s",
        "--script",
        str(WRK_SCRIPT),
        url,
    ]
    process = await asyncio.create_subprocess_exec(
        *pinned(argv, LOAD_CORE),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    text = output.decode(errors="replace")
    for line in text.splitlines():
        if line.startswith(MARKER):
            data = json.loads(line[len(MARKER) :])
            return WrkResult(
                requests=data["requests"],
                seconds=data["duration_us"] / 1e6,
                p50=data["p50_us"] / 1e6,
                p99=data["p99_us"] / 1e6,
                mean=data["mean_us"] / 1e6,
                non_2xx=data["status"],
                socket_errors=data["connect"] + data["read"] + data["write"] + data["timeout"],
            )
    raise LoadFailed(f"wrk printed no summary (exit {process.returncode}): {text.strip()[-300:]}")


def _session(**options: object) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=0, force_close=False),
        timeout=aiohttp.ClientTimeout(total=None, sock_connect=30, sock_read=60),
        auto_decompress=False,
        **options,  # type: ignore[arg-type]
    )


async def fetch(url: str) -> tuple[int, bytes]:
    """One GET: the status and the body."""
    async with _session() as session, session.get(url) as response:
        return response.status, await response.read()


@dataclass(frozen=True)
class Transfer:
    status: int
    size: int  # body bytes received (a download) or sent (an upload)
    first_byte: float  # seconds from sending the request to the first body byte
    seconds: float  # from sending the request to the end of the response
    reply: bytes = b""  # the response body of an upload

    @property
    def bytes_per_second(self) -> float:
        return self.size / self.seconds if self.seconds else 0.0


class _Reader:
    """Reads an HTTP/1.1 response from a blocking socket into one reused buffer.

    The body is counted, never kept: at a few GB/s, a Python client that creates an object
    per block (as aiohttp's client does) becomes the bottleneck instead of the server.
    """

    def __init__(self, sock: socket.socket, size: int = 4 << 20) -> None:
        self.sock = sock
        self.buffer = bytearray(size)
        self.view = memoryview(self.buffer)
        self.pos = self.end = 0
        self.last_fill = 0.0

    def fill(self) -> bool:
        """Read more after what is left unread; False at the end of the stream."""
        left = self.end - self.pos
        if left:
            self.buffer[:left] = self.buffer[self.pos : self.end]
        count = self.sock.recv_into(self.view[left:])
        self.last_fill = time.perf_counter()
        self.pos, self.end = 0, left + count
        return count > 0

    def line(self) -> bytes:
        while (index := self.buffer.find(b"\r\n", self.pos, self.end)) < 0:
            if not self.fill():
                raise LoadFailed("connection closed in the middle of a line")
        line = bytes(self.buffer[self.pos : index])
        self.pos = index + 2
        return line

    def skip(self, count: int) -> int:
        """Pass over up to ``count`` bytes; return how many there were."""
        skipped = 0
        while skipped < count:
            if self.pos == self.end and not self.fill():
                break
            taken = min(count - skipped, self.end - self.pos)
            self.pos += taken
            skipped += taken
        return skipped


def _download(url: str) -> Transfer:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    with socket.create_connection((host, port), timeout=60) as sock:
        reader = _Reader(sock)
        start = time.perf_counter()
        sock.sendall(f"GET {parts.path} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode())
        status = int(reader.line().split()[1])
        headers = {}
        while line := reader.line():
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        if reader.pos == reader.end:
            reader.fill()
        first_byte = reader.last_fill - start
        size = 0
        if "content-length" in headers:
            size = reader.skip(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            while chunk := int(reader.line().split(b";")[0], 16):
                if reader.skip(chunk) < chunk or reader.line():
                    raise LoadFailed("chunked body cut short or badly framed")
                size += chunk
            while reader.line():  # trailers
                pass
        else:
            size = reader.skip(1 << 62)  # until the server closes
        return Transfer(status, size, first_byte, time.perf_counter() - start)


async def download(url: str) -> Transfer:
    """GET ``url`` (HTTP/1.1, keep-alive as a browser would) and count its body."""
    return await asyncio.to_thread(_download, url)


async def upload(url: str, size: int, block_size: int = 1 << 20) -> Transfer:
    """POST ``size`` bytes (with Content-Length) to ``url`` without holding them in memory."""
    block = b"u" * block_size

    async def body() -> AsyncIterator[bytes]:
        left = size
        while left > 0:
            yield block[: min(left, block_size)]
            left -= block_size

    headers = {"Content-Length": str(size), "Content-Type": "application/octet-stream"}
    async with _session() as session:
        start = time.perf_counter()
        async with session.post(url, data=body(), headers=headers) as response:
            reply = await response.read()
            seconds = time.perf_counter() - start
            return Transfer(response.status, size, seconds, seconds, reply)


async def hold(url: str, concurrency: int, stop: asyncio.Event) -> int:
    """Keep ``concurrency`` requests to ``url`` in flight until ``stop``; return how many
    completed with 200."""
    done = 0

    async def one_client(session: aiohttp.ClientSession) -> None:
        nonlocal done
        while not stop.is_set():
            try:
                async with session.get(url) as response:
                    await response.read()
                    done += response.status == 200
            except (aiohttp.ClientError, OSError):
                await asyncio.sleep(0.01)  # counted as not done; the load goes on

    async with _session() as session:
        await asyncio.gather(*(one_client(session) for _ in range(concurrency)))
    return done


@dataclass
class Swarm:
    """Many websockets to one URL, opened together and kept open."""

    url: str
    count: int
    sockets: list[aiohttp.ClientWebSocketResponse] = field(default_factory=list)
    errors: int = 0
    session: aiohttp.ClientSession | None = None

    async def open(self, in_flight: int = 100) -> None:
        """Open ``count`` websockets, ``in_flight`` handshakes at a time; failures are counted."""
        self.session = _session()
        gate = asyncio.Semaphore(in_flight)

        async def connect() -> None:
            async with gate:
                assert self.session is not None
                try:
                    socket = await self.session.ws_connect(
                        self.url, autoping=True, heartbeat=None, timeout=aiohttp.ClientWSTimeout(60)
                    )
                except (TimeoutError, aiohttp.ClientError, OSError):
                    self.errors += 1
                else:
                    self.sockets.append(socket)

        await asyncio.gather(*(connect() for _ in range(self.count)))

    async def ping(self, in_flight: int = 100) -> list[float]:
        """Send one text message on every socket and wait for its echo; return round trips.

        ``in_flight`` sockets are pinged at a time, so that the figure is the latency of a
        server holding all the connections, not of one burst of thousands of messages.
        """
        latencies: list[float] = []
        gate = asyncio.Semaphore(in_flight)

        async def one(index: int, socket: aiohttp.ClientWebSocketResponse) -> None:
            async with gate:
                text = f"ping {index}"
                start = time.perf_counter()
                try:
                    await socket.send_str(text)
                    message = await socket.receive(timeout=30)
                except (TimeoutError, aiohttp.ClientError, OSError):
                    self.errors += 1
                    return
                if message.type != aiohttp.WSMsgType.TEXT or message.data != text:
                    self.errors += 1
                    return
                latencies.append(time.perf_counter() - start)

        await asyncio.gather(*(one(i, s) for i, s in enumerate(self.sockets)))
        return latencies

    async def close(self) -> None:
        await asyncio.gather(*(s.close() for s in self.sockets), return_exceptions=True)
        self.sockets.clear()
        if self.session is not None:
            await self.session.close()


def percentile(values: list[float], fraction: float) -> float:
    """The ``fraction`` percentile (nearest rank) of ``values``; 0 for none."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = min(len(ordered), max(1, math.ceil(fraction * len(ordered))))
    return ordered[rank - 1]
