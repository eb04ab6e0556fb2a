"""Hostile and malformed input, sent over raw sockets to the project served by :class:`Server`.

The server has one worker thread and no queue (``threads=1, max_queued=0``): a request that
held the thread would turn the next one into a 503, so "a normal request afterwards
succeeds" also shows that no thread was held. The Django application is wrapped in a
:class:`Recorder` that lists the paths reaching it and counts the calls not closed yet.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import threading
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.wsgi import get_wsgi_application

from aiodjango import get_aio_application
from aiodjango.server import Server
from tests.support.measures import Figures, open_fds, pool_threads
from tests.support.processes import StartServer, free_port
from tests.support.rawhttp import aiohttp_headers
from tests.support.waiting import settle

pytestmark = [pytest.mark.slow, pytest.mark.timeout(60)]

MAX_BODY = 64 * 1024
HOST = b"Host: 127.0.0.1\r\n"
WS_KEY = b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
WS_UPGRADE = b"Upgrade: websocket\r\nConnection: Upgrade\r\n"


class Recorder:
    """Wraps a WSGI application: the paths that reached it, and its calls not closed yet."""

    def __init__(self, application: Any) -> None:
        self.application = application
        self.paths: list[str] = []
        self.open = 0
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        with self._lock:
            self.paths.append(environ["PATH_INFO"])
            self.open += 1
        try:
            result = self.application(environ, start_response)
        except BaseException:
            self._closed()
            raise
        return _Closing(result, self)

    def _closed(self) -> None:
        with self._lock:
            self.open -= 1


class _Closing:
    """The application's iterable, reporting its close() to the recorder."""

    def __init__(self, result: Any, recorder: Recorder) -> None:
        self.result = result
        self.recorder = recorder
        self.streaming = getattr(result, "streaming", None)  # keeps the adapter's fast path

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.result)

    def close(self) -> None:
        try:
            if hasattr(self.result, "close"):
                self.result.close()
        finally:
            self.recorder._closed()


@dataclass
class Target:
    port: int
    recorder: Recorder


@pytest.fixture
async def target(settings: Any) -> AsyncIterator[Target]:
    settings.ROOT_URLCONF = "tests.reliability.project.urls"
    recorder = Recorder(get_wsgi_application())
    app = get_aio_application(
        recorder,
        urlconf="tests.reliability.project.urls",
        threads=1,
        max_queued=0,
        max_request_body_size=MAX_BODY,
    )
    server = Server(app, host="127.0.0.1", port=0, shutdown_timeout=5)
    await server.start()
    assert server.port is not None
    yield Target(server.port, recorder)
    await server.stop()


async def send_raw(port: int, data: bytes, *, half_close: bool = False) -> int | None:
    """Send ``data`` on a new connection; the response's status, or None if it closed without."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(data)
        if half_close:
            writer.write_eof()
        with contextlib.suppress(ConnectionError):
            await writer.drain()  # refused before all was sent: the answer may be readable
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
        except (asyncio.IncompleteReadError, ConnectionError):
            return None
        return int(head.split(b" ", 2)[1])
    finally:
        writer.close()


async def normal_request(port: int) -> int | None:
    return await send_raw(port, b"GET /hello/ HTTP/1.1\r\n" + HOST + b"Connection: close\r\n\r\n")


@dataclass(frozen=True)
class Case:
    request: bytes
    #: The acceptable answers: statuses, or None for a connection closed without a response.
    answers: frozenset[int | None]
    #: The PATH_INFO with which the request reaches the application, or None if it must not.
    reaches: str | None = None
    half_close: bool = False


def case(request: bytes, *answers: int | None, reaches: str | None = None, **kw: Any) -> Case:
    return Case(request, frozenset(answers), reaches, **kw)


def chunked(*chunks: bytes) -> bytes:
    return b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in chunks) + b"0\r\n\r\n"


POST_CHUNKED = b"POST /body/ HTTP/1.1\r\n" + HOST + b"Transfer-Encoding: chunked\r\n\r\n"
WS_GET = b"GET /ws/echo/ HTTP/1.1\r\n" + HOST
MANY_HEADERS = (
    b"GET /hello/ HTTP/1.1\r\n" + HOST + b"".join(b"X-H%d: v\r\n" % i for i in range(200)) + b"\r\n"
)

CASES: dict[str, Case] = {
    "request line over 8 KiB": case(
        b"GET /hello/?q=" + b"a" * 9000 + b" HTTP/1.1\r\n" + HOST + b"\r\n", 400, 414
    ),
    "header line over 8 KiB": case(
        b"GET /hello/ HTTP/1.1\r\n" + HOST + b"X-Big: " + b"a" * 9000 + b"\r\n\r\n", 400, 431
    ),
    "200 headers": (
        case(MANY_HEADERS, 400, 431)
        if aiohttp_headers(MANY_HEADERS) is None
        # aiohttp 3.12 has no limit on the number of headers.
        else case(MANY_HEADERS, 200, reaches="/hello/")
    ),
    "NUL in a header value": case(b"GET /hello/ HTTP/1.1\r\n" + HOST + b"X: a\x00b\r\n\r\n", 400),
    "control byte in a header value": case(
        b"GET /hello/ HTTP/1.1\r\n" + HOST + b"X: a\x01b\r\n\r\n", 400
    ),
    "space in a header name": case(b"GET /hello/ HTTP/1.1\r\n" + HOST + b"X Y: a\r\n\r\n", 400),
    "bare LF line ends": case(b"GET /hello/ HTTP/1.1\nHost: 127.0.0.1\n\n", 400),
    "Content-Length with Transfer-Encoding (smuggling)": case(
        b"POST /body/ HTTP/1.1\r\n"
        + HOST
        + b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
        + chunked(b"GET /hello/ HTTP/1.1\r\n\r\n"),
        400,
    ),
    "two different Content-Lengths": case(
        b"POST /body/ HTTP/1.1\r\n"
        + HOST
        + b"Content-Length: 5\r\nContent-Length: 6\r\n\r\nabcdef",
        400,
    ),
    "negative Content-Length": case(
        b"POST /body/ HTTP/1.1\r\n" + HOST + b"Content-Length: -5\r\n\r\n", 400
    ),
    "Transfer-Encoding other than chunked": case(
        b"POST /body/ HTTP/1.1\r\n" + HOST + b"Transfer-Encoding: gzip\r\n\r\nabc", 400
    ),
    "chunked not the last encoding": case(
        b"POST /body/ HTTP/1.1\r\n" + HOST + b"Transfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n",
        400,
    ),
    "chunk size not hex": case(POST_CHUNKED + b"zz\r\nabc\r\n0\r\n\r\n", 400),
    "chunk size overflowing": case(POST_CHUNKED + b"f" * 20 + b"\r\nabc\r\n0\r\n\r\n", 400),
    "chunk without its CRLF": case(POST_CHUNKED + b"3\r\nabcXY0\r\n\r\n", 400),
    "body shorter than Content-Length": case(
        b"POST /body/ HTTP/1.1\r\n" + HOST + b"Content-Length: 100\r\n\r\n" + b"x" * 10,
        None,
        400,
        half_close=True,
    ),
    "chunked body cut off": case(POST_CHUNKED + b"64\r\n" + b"x" * 10, None, 400, half_close=True),
    "body over max_request_body_size, Content-Length": case(
        b"POST /body/ HTTP/1.1\r\n"
        + HOST
        + b"Content-Length: %d\r\n\r\n" % (MAX_BODY + 1)
        + b"x" * (MAX_BODY + 1),
        413,
    ),
    "body over max_request_body_size, chunked": case(
        POST_CHUNKED + chunked(*[b"x" * 4096] * (MAX_BODY // 4096 + 1)), 413
    ),
    "invalid percent-encoding": case(
        b"GET /%zz%/a%4 HTTP/1.1\r\n" + HOST + b"\r\n", 404, reaches="/%zz%/a%4"
    ),
    "NUL in the path": case(b"GET /a\x00b/ HTTP/1.1\r\n" + HOST + b"\r\n", 400),
    "percent-encoded NUL in the path": case(
        b"GET /a%00b/ HTTP/1.1\r\n" + HOST + b"\r\n", 404, reaches="/a\x00b/"
    ),
    "raw non-ASCII bytes in the path": case(
        b"GET /caf\xc3\xa9/ HTTP/1.1\r\n" + HOST + b"\r\n", 400
    ),
    "unknown HTTP version": case(b"GET /hello/ HTTP/9.9\r\n" + HOST + b"\r\n", 400, 505),
    "TLS handshake on the plain port": case(
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" * 8, 400
    ),
    "method that is not a token": case(b"G(T /hello/ HTTP/1.1\r\n" + HOST + b"\r\n", 400),
    "websocket: unsupported version": case(
        WS_GET + WS_UPGRADE + WS_KEY + b"Sec-WebSocket-Version: 12\r\n\r\n", 400, 426
    ),
    "websocket: key not 16 bytes": case(
        WS_GET + WS_UPGRADE + b"Sec-WebSocket-Key: c2hvcnQ=\r\nSec-WebSocket-Version: 13\r\n\r\n",
        400,
    ),
    "websocket: key not base64": case(
        WS_GET + WS_UPGRADE + b"Sec-WebSocket-Key: !!!!\r\nSec-WebSocket-Version: 13\r\n\r\n", 400
    ),
    "websocket: no key": case(WS_GET + WS_UPGRADE + b"Sec-WebSocket-Version: 13\r\n\r\n", 400),
    "websocket: no Upgrade header": case(WS_GET + b"Sec-WebSocket-Version: 13\r\n\r\n", 400),
    "websocket handshake on a WSGI URL": case(
        b"GET /hello/ HTTP/1.1\r\n"
        + HOST
        + WS_UPGRADE
        + WS_KEY
        + b"Sec-WebSocket-Version: 13\r\n\r\n",
        200,
        reaches="/hello/",
    ),
}


@pytest.mark.parametrize("name", list(CASES))
async def test_hostile_request(target: Target, name: str) -> None:
    hostile = CASES[name]
    recorder = target.recorder
    assert await normal_request(target.port) == 200
    fds_before = open_fds()
    recorder.paths.clear()

    answer = await send_raw(target.port, hostile.request, half_close=hostile.half_close)

    assert answer in hostile.answers, f"{name}: got {answer}"
    assert recorder.paths == ([] if hostile.reaches is None else [hostile.reaches])
    assert await settle(lambda: recorder.open == 0), "a call to the application is still open"
    assert await normal_request(target.port) == 200
    assert len(pool_threads()) <= 1
    assert await settle(lambda: open_fds() <= fds_before), (open_fds(), fds_before)


async def dribble(
    port: int, data: bytes, step: int, halfway: asyncio.Event, hold_last: asyncio.Event
) -> int | None:
    """Send ``data`` ``step`` bytes at a time, setting ``halfway`` when half is sent; the last
    piece only once ``hold_last`` is set."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        pieces = [data[i : i + step] for i in range(0, len(data), step)]
        for number, piece in enumerate(pieces[:-1]):
            writer.write(piece)
            await writer.drain()
            if number == len(pieces) // 2:
                halfway.set()
            await asyncio.sleep(0.005)  # the behaviour under test: a client trickling bytes
        await hold_last.wait()
        writer.write(pieces[-1])
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
        return int(head.split(b" ", 2)[1])
    finally:
        writer.close()


@pytest.mark.parametrize("part", ["headers", "body"])
async def test_slowloris_holds_no_worker_thread(
    target: Target, part: str, figures: Figures
) -> None:
    """Clients dribbling their headers byte by byte, or their body after complete headers,
    never reach the application before their last byte, so the one worker thread stays free."""
    if part == "headers":
        data = b"GET /work/ HTTP/1.1\r\n" + HOST + b"X-Filler: " + b"z" * 100 + b"\r\n\r\n"
        step, path, expected = 1, "/work/", 200
    else:
        body = b"y" * 1000
        data = b"POST /body/ HTTP/1.1\r\n" + HOST + b"Content-Length: 1000\r\n\r\n" + body
        step, path, expected = 10, "/body/", 200
    recorder = target.recorder
    holds = [asyncio.Event() for _ in range(5)]
    halfway = [asyncio.Event() for _ in holds]
    dribblers = [
        asyncio.ensure_future(dribble(target.port, data, step, half, hold))
        for half, hold in zip(halfway, holds, strict=True)
    ]
    # Let every dribbler get going: connected and well into what it sends.
    await asyncio.wait_for(asyncio.gather(*(half.wait() for half in halfway)), 30)
    during = [await normal_request(target.port) for _ in range(20)]
    reached_during = recorder.paths.count(path)
    open_during = recorder.open
    answers = []
    for hold, dribbler in zip(holds, dribblers, strict=True):  # one at a time: there is no queue
        hold.set()
        answers.append(await dribbler)

    figures["dribbling clients"] = len(dribblers)
    figures["normal requests served while they dribbled"] = during.count(200)
    assert during == [200] * 20  # with threads=1 and no queue, a held thread would mean 503s
    assert reached_during == 0 and open_during == 0
    assert answers == [expected] * len(dribblers)
    assert recorder.paths.count(path) == len(dribblers)


async def test_many_idle_connections(target: Target, figures: Figures) -> None:
    """Hundreds of idle connections, kept alive after a request or silent from the start,
    hold no thread; a normal request is served; closing them frees every descriptor."""
    assert await normal_request(target.port) == 200
    fds_before = open_fds()
    streams = []
    for _ in range(300):  # one request at a time: there is no queue
        reader, writer = await asyncio.open_connection("127.0.0.1", target.port)
        writer.write(b"GET /hello/ HTTP/1.1\r\n" + HOST + b"\r\n")
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
        assert head.startswith(b"HTTP/1.1 200")
        streams.append((reader, writer))
    for _ in range(300):
        streams.append(await asyncio.open_connection("127.0.0.1", target.port))
    # The server has accepted them all once both ends of each are open in this process.
    await settle(lambda: open_fds() >= fds_before + 600)
    fds_idle = open_fds()

    assert await normal_request(target.port) == 200
    assert target.recorder.open == 0
    assert len(pool_threads()) <= 1
    for _, writer in streams:
        writer.close()
    fds_back = await settle(lambda: open_fds() <= fds_before)

    figures["idle connections (kept alive / silent)"] = "300 / 300"
    figures["fds before / with idle connections / after"] = (
        f"{fds_before} / {fds_idle} / {open_fds()}"
    )
    assert fds_idle >= fds_before + 600  # both ends of each connection live in this process
    assert fds_back


# A chunked body whose framing breaks after the view has started reading it: aiohttp's parser
# then fails while a handler is waiting for the body, rather than before any handler runs.
# The client asks for "100 Continue", which the adapter sends just before it reads the body:
# once it has arrived, the handler is reading.
BODY_START = (
    POST_CHUNKED.removesuffix(b"\r\n") + b"Expect: 100-continue\r\n\r\n" + b"5\r\nhello\r\n"
)
CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
BROKEN_CHUNK = b"zz\r\nabc\r\n0\r\n\r\n"


async def send_broken_body(port: int) -> int | str | None:
    """The status answered, None if the connection was closed, "no answer" after 5 seconds."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(BODY_START)
        await writer.drain()
        assert await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10) == CONTINUE
        writer.write(BROKEN_CHUNK)
        await writer.drain()
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
        except (asyncio.IncompleteReadError, ConnectionError):
            return None
        except TimeoutError:
            return "no answer"
        return int(head.split(b" ", 2)[1])
    finally:
        writer.close()


@pytest.mark.xfail(
    strict=True,
    reason="aiohttp's C parser (llhttp) drops the request's payload without setting an "
    "exception when the body's framing breaks after the handler started reading it: the "
    "handler waits for the rest of the body until the client goes away (an aiohttp bug)",
)
async def test_body_broken_mid_way(target: Target) -> None:
    answer = await send_broken_body(target.port)
    assert answer in (400, None), answer
    assert target.recorder.paths == []
    assert await normal_request(target.port) == 200


async def test_body_broken_mid_way_pure_python_parser(start_server: StartServer) -> None:
    port = free_port()
    server = start_server(
        [
            sys.executable,
            "-m",
            "aiodjango",
            "tests.reliability.project.wsgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        env={
            "DJANGO_SETTINGS_MODULE": "tests.reliability.project.settings",
            "AIOHTTP_NO_EXTENSIONS": "1",
        },
    )
    await server.wait_for_port(port)
    answer = await send_broken_body(port)
    assert answer in (400, None), answer
    assert await normal_request(port) == 200
