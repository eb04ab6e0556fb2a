"""The ten scenarios: which servers take part, what is requested, what is measured.

Each scenario measures one running server and returns one :class:`~bench.report.Row`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from .load import LoadFailed, Swarm, WrkResult, download, fetch, hold, percentile, upload, wrk
from .report import MiB, Row
from .servers import Peer, Server

HELLO = b"Hello, world!"


@dataclass(frozen=True)
class Settings:
    """Sizes and durations of one run (``--quick`` makes them small)."""

    quick: bool
    duration: int  # seconds of each measured wrk run
    warmup: int  # seconds of wrk before it (0: one request only)
    rounds: int  # wrk runs per server, interleaved across servers; the median is kept
    connections: int
    threads: int  # worker threads of every server that has a pool
    large: int  # bytes of the streamed and the file response
    upload: int  # bytes uploaded
    slow_ms: int  # how long the slow view holds a thread
    sockets: int  # websockets held open
    crowd: int  # connections on the awaiting Django async view (scenarios 9 and 10)


FULL = Settings(
    quick=False,
    duration=8,
    warmup=2,
    rounds=3,
    connections=64,
    threads=4,
    large=1024 * MiB,
    upload=256 * MiB,
    slow_ms=1000,
    sockets=5000,
    crowd=200,
)
QUICK = Settings(
    quick=True,
    duration=1,
    warmup=0,
    rounds=1,
    connections=16,
    threads=4,
    large=8 * MiB,
    upload=8 * MiB,
    slow_ms=300,
    sockets=100,
    crowd=50,
)

Measure = Callable[[Server, Settings], Awaitable[Row]]


@dataclass(frozen=True)
class Scenario:
    key: str
    title: str
    stack: str  # the project's middleware: "bare" or "full"
    takes_part: Callable[[Peer], bool]
    measure: Measure
    rounds: bool = False  # repeated (interleaved across servers), the median round kept


async def expect(server: Server, path: str, body: bytes | None = None) -> None:
    """One GET that must answer 200 (with ``body``, when given) before the load starts."""
    status, received = await fetch(server.url(path))
    if status != 200 or (body is not None and received != body):
        raise LoadFailed(f"GET {path} answered {status} {received[:80]!r}")


def _row(key: str, title: str, server: Server, **fields: object) -> Row:
    return Row(key, title, server.peer.name, server.peer.config, **fields)  # type: ignore[arg-type]


async def _throughput(
    key: str, title: str, server: Server, settings: Settings, path: str, body: bytes
) -> Row:
    await expect(server, path, body)
    url = server.url(path)
    if settings.warmup:
        await wrk(url, settings.warmup, settings.connections)
    cpu = server.cpu_seconds()
    result = await wrk(url, settings.duration, settings.connections)
    cpu = server.cpu_seconds() - cpu
    return _row(
        key,
        title,
        server,
        **_latencies(result),
        cpu_per_request=cpu / result.requests if result.requests else None,
        notes=f"GET {path}",
    )


def _latencies(result: WrkResult) -> dict[str, Any]:
    """Rate, percentiles and failures of a wrk run (no percentiles without a response)."""
    answered = result.requests > 0
    return {
        "rate": result.rate,
        "p50": result.p50 if answered else None,
        "p99": result.p99 if answered else None,
        "non_2xx": result.non_2xx,
        "errors": result.socket_errors,
    }


def _sync(peer: Peer) -> bool:
    return "sync" in peer.serves


def _coroutine(peer: Peer) -> bool:
    return bool({"lifted", "django-async"} & peer.serves)


def _coroutine_path(peer: Peer) -> str:
    return "/async/hello/" if "lifted" in peer.serves else "/django-async/hello/"


async def hello(server: Server, settings: Settings) -> Row:
    return await _throughput("1", "Django sync view", server, settings, "/hello/", HELLO)


async def page(server: Server, settings: Settings) -> Row:
    return await _throughput(
        "2", "+ middleware, 1 query", server, settings, "/page/", b"Hello, bench!"
    )


async def coroutine(server: Server, settings: Settings) -> Row:
    path = _coroutine_path(server.peer)
    return await _throughput("3", "coroutine view", server, settings, path, HELLO)


async def _large(key: str, title: str, server: Server, path: str, size: int) -> Row:
    row = await _download(key, title, server, path, size)
    row.notes = transfer_notes(row)
    return row


async def _download(key: str, title: str, server: Server, path: str, size: int) -> Row:
    await expect(server, "/hello/", HELLO)  # warm: Django loaded and one request served
    baseline = server.reset_peak()
    transfer = await download(server.url(path))
    growth = server.peak_rss() - baseline
    if transfer.status != 200 or transfer.size != size:
        raise LoadFailed(f"GET {path} answered {transfer.status} with {transfer.size} bytes")
    return _row(
        key,
        title,
        server,
        errors=0,
        metrics={
            "first_byte": transfer.first_byte,
            "bytes_per_second": transfer.bytes_per_second,
            "rss_growth": growth,
            "seconds": transfer.seconds,
        },
    )


def transfer_notes(row: Row) -> str:
    """The notes of a large-body row, from its metrics."""
    metrics = row.metrics
    speed = f"{metrics['bytes_per_second'] / 1e9:.2f} GB/s"
    growth = f"RSS {metrics['rss_growth'] / MiB:+.1f} MiB"
    if "first_byte" in metrics:
        return f"first byte {metrics['first_byte'] * 1000:.1f} ms, {speed}, {growth}"
    return f"{metrics['seconds']:.2f} s ({speed}), {growth}"


def _size(size: int) -> str:
    return f"{size // 1024**3} GiB" if size % 1024**3 == 0 else f"{size // MiB} MiB"


async def stream(server: Server, settings: Settings) -> Row:
    title = f"{_size(settings.large)} StreamingHttpResponse"
    return await _large("4 stream", title, server, f"/stream/{settings.large}/", settings.large)


async def file(server: Server, settings: Settings) -> Row:
    title = f"{_size(settings.large)} FileResponse"
    return await _large("4 file", title, server, "/file/", settings.large)


async def upload_body(server: Server, settings: Settings) -> Row:
    row = await _upload(server, settings)
    row.notes = transfer_notes(row)
    return row


async def _upload(server: Server, settings: Settings) -> Row:
    await expect(server, "/hello/", HELLO)
    baseline = server.reset_peak()
    transfer = await upload(server.url("/upload/"), settings.upload)
    growth = server.peak_rss() - baseline
    if transfer.status != 200 or transfer.reply != str(settings.upload).encode():
        raise LoadFailed(f"POST /upload/ answered {transfer.status} {transfer.reply[:80]!r}")
    return _row(
        "5",
        f"{_size(settings.upload)} upload",
        server,
        errors=0,
        metrics={
            "rss_growth": growth,
            "seconds": transfer.seconds,
            "bytes_per_second": transfer.bytes_per_second,
        },
    )


async def isolation(server: Server, settings: Settings) -> Row:
    """Every worker thread sleeps in the slow view while another view is under load.

    Twice as many slow requests as threads are kept in flight, so that the pool stays full
    (and its queue busy) for the whole measurement.
    """
    peer = server.peer
    path = _coroutine_path(peer) if _coroutine(peer) else "/hello/"
    await expect(server, path, HELLO)
    slow = server.url(f"/slow/{settings.slow_ms}/")
    stop = asyncio.Event()
    holders = asyncio.create_task(hold(slow, 2 * settings.threads, stop))
    try:
        await asyncio.sleep(settings.slow_ms / 2000)  # the slow requests reach their threads
        result = await wrk(server.url(path), settings.duration, settings.connections)
    finally:
        stop.set()
        slow_done = await asyncio.wait_for(holders, timeout=120)
    return _row(
        "6",
        "coroutine view, threads busy",
        server,
        **_latencies(result),
        notes=f"GET {path}; {2 * settings.threads} x {settings.slow_ms} ms sync views in flight "
        f"({slow_done} done)",
    )


async def websockets(server: Server, settings: Settings) -> Row:
    await expect(server, server.peer.probe, HELLO)
    swarm = Swarm(server.url("/ws/echo/").replace("http://", "ws://"), settings.sockets)
    baseline = server.rss()
    try:
        await swarm.open()
        held = len(swarm.sockets)
        holding = server.rss()
        latencies = await swarm.ping()
    finally:
        await swarm.close()
    per_socket = (holding - baseline) / held if held else 0.0
    return _row(
        "7",
        f"{settings.sockets:,} websockets",
        server,
        p50=percentile(latencies, 0.5),
        p99=percentile(latencies, 0.99),
        errors=swarm.errors,
        notes=f"{held:,} held, {per_socket / 1024:.1f} KiB RSS each, echo p99 as shown",
        metrics={"held": held, "rss_per_socket": per_socket},
    )


def _django_async(peer: Peer) -> bool:
    return "django-async" in peer.serves


async def async_hello(server: Server, settings: Settings) -> Row:
    """(a) The smallest Django async view, with Django's default middleware."""
    return await _throughput(
        "8", "Django async view", server, settings, "/django-async/hello/", HELLO
    )


def _awaiting(settings: Settings) -> str:
    return f"/django-async/slow/{settings.slow_ms}/"


async def async_crowd(server: Server, settings: Settings) -> Row:
    """(b) ``crowd`` connections on a Django async view that awaits ``slow_ms``: each answer
    should take ``slow_ms``, so the best rate is ``crowd`` per ``slow_ms``.

    The rate is the closed loop's (Little's law): each of the ``crowd`` connections always has
    one request in flight, so the server serves ``crowd`` per mean latency. wrk's own count is
    no measure here: its connections start together and stay in step, so over ``duration``
    seconds each completes a whole number of requests, and the count moves in steps of
    ``crowd`` per ``duration`` (at 1.1 s each, 7 in 8 s: 175 req/s for a server serving 182).
    """
    path = _awaiting(settings)
    await expect(server, path, b"slept")
    cpu = server.cpu_seconds()
    result = await wrk(server.url(path), settings.duration, settings.crowd)
    cpu = server.cpu_seconds() - cpu
    best = settings.crowd * 1000 / settings.slow_ms
    return _row(
        "9",
        "async view awaiting, many connections",
        server,
        **{
            **_latencies(result),
            "rate": settings.crowd / result.mean if result.requests and result.mean else 0.0,
        },
        cpu_per_request=cpu / result.requests if result.requests else None,
        notes=f"GET {path} on {settings.crowd} connections (at best {best:,.0f} req/s); "
        f"req/s = connections / mean latency; wrk counted {result.rate:,.0f} req/s",
        metrics={"best": best, "counted_rate": result.rate, "mean": result.mean},
    )


async def sync_beside_crowd(server: Server, settings: Settings) -> Row:
    """(c) A sync view's latency while ``crowd`` requests await in the Django async view."""
    await expect(server, "/hello/", HELLO)
    stop = asyncio.Event()
    holders = asyncio.create_task(hold(server.url(_awaiting(settings)), settings.crowd, stop))
    try:
        await asyncio.sleep(settings.slow_ms / 2000)  # the crowd is in flight
        result = await wrk(server.url("/hello/"), settings.duration, 8)
    finally:
        stop.set()
        done = await asyncio.wait_for(holders, timeout=120)
    return _row(
        "10",
        "sync view beside them",
        server,
        **_latencies(result),
        notes=f"GET /hello/ on 8 connections; {settings.crowd} awaiting async views in flight "
        f"({done} done)",
    )


SCENARIOS = [
    Scenario("1", "Django sync view", "bare", _sync, hello, rounds=True),
    Scenario("2", "+ middleware, 1 query", "full", _sync, page, rounds=True),
    Scenario("3", "coroutine view", "bare", _coroutine, coroutine, rounds=True),
    Scenario("4 stream", "StreamingHttpResponse", "bare", _sync, stream, rounds=True),
    Scenario("4 file", "FileResponse", "bare", _sync, file, rounds=True),
    Scenario("5", "upload", "bare", _sync, upload_body, rounds=True),
    Scenario("6", "threads busy", "bare", _sync, isolation, rounds=True),
    Scenario("7", "websockets", "bare", lambda p: "websocket" in p.serves, websockets),
    Scenario("8", "Django async view", "full", _django_async, async_hello, rounds=True),
    Scenario("9", "async view awaiting", "full", _django_async, async_crowd),
    Scenario("10", "sync view beside them", "full", _django_async, sync_beside_crowd),
]
