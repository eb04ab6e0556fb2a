"""Responses: the fast path, streaming without delay and with bounded memory, files, HEAD."""

from __future__ import annotations

import asyncio
import io
import socket
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.support.rawhttp import parse_response, raw_request
from tests.support.servers import MakePlainServed, MakeServed, shutdown_bounded

from .apps import Closing, hello

REPOSITORY = Path(__file__).resolve().parents[2]
LONG = 2000  # blocks of 64 KiB: far more than a client reads before it disconnects


async def test_complete_body_is_sent_with_content_length(serve_wsgi: MakeServed) -> None:
    body = Closing([b"hello ", b"world"])
    threads: list[int] = []

    def app(environ: dict[str, Any], start_response: Any) -> Closing:
        threads.append(threading.get_ident())
        start_response("200 OK", [("Content-Type", "text/plain")])
        return body

    served = await serve_wsgi(hello)
    response = await served.client.get("/")
    assert response.headers["Content-Length"] == "5"
    assert "Transfer-Encoding" not in response.headers
    assert await response.read() == b"hello"

    served = await serve_wsgi(app)
    response = await served.client.get("/")
    assert await response.read() == b"hello world"
    assert body.close_calls == 1
    assert body.close_thread == threads[0] != threading.get_ident()


def streamed(environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    for n in range(100):
        yield b"%d," % n


async def test_generator_body_is_streamed_chunked(serve_wsgi: MakeServed) -> None:
    served = await serve_wsgi(streamed, outbuf_overflow=16)  # the worker waits on the loop often
    response = await served.client.get("/")
    assert response.headers["Transfer-Encoding"] == "chunked"
    assert await response.read() == b"".join(b"%d," % n for n in range(100))


async def test_each_block_is_sent_before_the_next_exists(serve_wsgi: MakeServed) -> None:
    release = threading.Event()

    def app(environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
        start_response("200 OK", [("Content-Type", "text/event-stream")])
        yield b"first"
        release.wait(20)  # the test releases it only once "first" has arrived
        yield b"second"

    served = await serve_wsgi(app)
    response = await served.client.get("/")
    try:
        assert await asyncio.wait_for(response.content.readexactly(5), 10) == b"first"
    finally:
        release.set()
    assert await response.read() == b"second"


async def test_write_callable_and_returned_blocks_both_arrive(serve_wsgi: MakeServed) -> None:
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        write = start_response("200 OK", [("Content-Type", "text/plain")])
        write(b"written ")
        write(b"")
        return [b"returned"]

    served = await serve_wsgi(app)
    assert await (await served.client.get("/")).read() == b"written returned"


async def test_exc_info_before_headers_replaces_the_response(serve_wsgi: MakeServed) -> None:
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        try:
            raise KeyError("boom")
        except KeyError:
            start_response("502 Bad Gateway", [("Content-Type", "text/plain")], sys.exc_info())
        return [b"replaced"]

    served = await serve_wsgi(app)
    response = await served.client.get("/")
    assert response.status == 502
    assert await response.read() == b"replaced"


@pytest.mark.parametrize("method", ["HEAD", "GET"])
@pytest.mark.parametrize("status", ["200 OK", "204 No Content", "304 Not Modified"])
@pytest.mark.parametrize("kind", ["list", "generator"])
async def test_no_body_for_head_204_and_304(
    serve_wsgi: MakeServed, method: str, status: str, kind: str
) -> None:
    body = Closing([b"<the body>"])

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        start_response(status, [("Content-Type", "text/plain"), ("X-App", "yes")])
        return [b"<the body>"] if kind == "list" else body

    served = await serve_wsgi(app)
    # Two pipelined requests: a stray body would corrupt the second response.
    data = f"{method} / HTTP/1.1\r\nHost: h\r\n\r\n{method} / HTTP/1.1\r\nHost: h\r\n"
    data += "Connection: close\r\n\r\n"
    reader, writer = await asyncio.open_connection(*served.address)
    try:
        writer.write(data.encode())
        raw = await asyncio.wait_for(reader.read(), 10)
    finally:
        writer.close()
    first, _, rest = raw.partition(b"\r\n\r\n")
    assert raw.count(b"HTTP/1.1 ") == 2 and b"X-App: yes" in first
    if status == "200 OK" and method == "GET":
        assert raw.count(b"<the body>") == 2
    else:
        assert b"<the body>" not in raw and rest.startswith(b"HTTP/1.1 ")
    if kind == "generator":
        assert body.close_calls == 2


async def test_body_is_cut_at_declared_content_length(serve_wsgi: MakeServed) -> None:
    def app(environ: dict[str, Any], start_response: Any) -> Any:
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "4")])
        blocks = [b"ab", b"cdef", b"gh"]
        return blocks if environ["PATH_INFO"] == "/list" else iter(blocks)

    served = await serve_wsgi(app)
    for path in ("/list", "/gen"):
        response = await served.client.get(path)
        assert await response.read() == b"abcd"
    assert (await served.client.get("/list")).status == 200


async def test_body_shorter_than_content_length_closes_the_connection(
    serve_wsgi: MakeServed,
) -> None:
    def app(environ: dict[str, Any], start_response: Any) -> Any:
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "10")])
        return [b"short"] if environ["PATH_INFO"] == "/list" else iter([b"sh", b"ort"])

    served = await serve_wsgi(app)
    for path in ("/list", "/gen"):
        response = await served.client.get(path)
        with pytest.raises(aiohttp.ClientPayloadError):
            await response.read()
    assert (await served.client.get("/list")).status == 200


@pytest.mark.parametrize("mode", ["cancelling", "production"])
@pytest.mark.parametrize("pace", ["buffer-full", "slow"])
async def test_client_disconnect_stops_iteration_and_closes(
    serve_wsgi: MakeServed, serve_wsgi_plain: MakePlainServed, mode: str, pace: str
) -> None:
    closed = threading.Event()
    produced = 0

    def app(environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
        nonlocal produced
        start_response("200 OK", [("Content-Type", "application/octet-stream")])
        try:
            for _ in range(LONG):  # bounded, so that a buffering adapter fails without OOM
                produced += 1
                yield b"x" * 65536
                if pace == "slow":
                    closed.wait(0.02)
        finally:
            closed.set()

    if mode == "cancelling":  # pytest-aiohttp's server cancels handlers on disconnect
        served = await serve_wsgi(app, outbuf_overflow=1 << 20)
        address, handler = served.address, served.handler
    else:
        host, port, handler = await serve_wsgi_plain(app, outbuf_overflow=1 << 20)
        address = (host, port)
    reader, writer = await asyncio.open_connection(*address)
    writer.write(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n")
    await asyncio.wait_for(reader.readexactly(200_000), 10)
    writer.transport.abort()
    assert await asyncio.to_thread(closed.wait, 1.0), "close() not called within a second"
    stopped_at = produced
    assert stopped_at < LONG
    # Once the worker threads have ended, nothing can iterate the response any more.
    await asyncio.to_thread(shutdown_bounded, handler)
    assert produced == stopped_at


async def test_streamed_response_memory_is_bounded(tmp_path: Path) -> None:
    """1 GiB streamed from a generator: the server's peak RSS grows by less than 64 MiB."""
    server = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.wsgi.stream_server",
        stdout=asyncio.subprocess.PIPE,
        cwd=REPOSITORY,
    )
    try:
        assert server.stdout is not None
        port = int(await asyncio.wait_for(server.stdout.readline(), 30))
        status = Path(f"/proc/{server.pid}/status")
        async with aiohttp.ClientSession() as session:
            url = f"http://127.0.0.1:{port}/"
            async with session.get(url + "?mib=8") as response:  # warm up
                assert len(await response.read()) == 8 << 20
            before = _peak_rss(status)
            received = 0
            async with session.get(url + "?mib=1024") as response:
                assert response.headers["Transfer-Encoding"] == "chunked"
                async for chunk in response.content.iter_chunked(1 << 20):
                    received += len(chunk)
            after = _peak_rss(status)
        assert received == 1 << 30
        growth = after - before
        print(f"server peak RSS: {before >> 20} MiB before, {after >> 20} MiB after 1 GiB")
        assert growth < 64 << 20
    finally:
        server.terminate()
        await server.wait()


def _peak_rss(status: Path) -> int:
    for line in status.read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM in /proc status")


def _file_app(path: Path, files: list[Any]) -> Any:
    def app(environ: dict[str, Any], start_response: Any) -> Any:
        if environ["PATH_INFO"] == "/hello":
            return hello(environ, start_response)
        if environ["PATH_INFO"] == "/memory":
            stream: Any = io.BytesIO(path.read_bytes())
        else:
            stream = path.open("rb")
            if environ["PATH_INFO"] == "/offset":
                stream.seek(1000)
        files.append(stream)
        start_response("200 OK", [("Content-Type", "application/octet-stream")])
        return environ["wsgi.file_wrapper"](stream, 65536)

    return app


async def test_file_wrapper_sends_without_holding_the_worker(
    serve_wsgi: MakeServed, tmp_path: Path
) -> None:
    path = tmp_path / "big.bin"
    data = bytes(range(256)) * (32 * 4096)  # 32 MiB, far more than the socket buffers hold
    path.write_bytes(data)
    files: list[Any] = []
    served = await serve_wsgi(_file_app(path, files), threads=1)

    # A client that reads the file very slowly: sendfile waits on the socket, on the loop.
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(served.address)
    sock.setblocking(False)
    reader, writer = await asyncio.open_connection(sock=sock)
    try:
        writer.write(b"GET /file HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
        assert f"Content-Length: {len(data)}".encode() in head
        # The only worker thread is free: another request is served meanwhile.
        response = await asyncio.wait_for(served.client.get("/hello"), 10)
        assert await response.read() == b"hello"
        assert files[0].closed  # close() ran at once, on the worker
        received = await asyncio.wait_for(reader.read(), 60)
    finally:
        writer.close()
    assert received == data


async def test_file_wrapper_offsets_head_and_fallback(
    serve_wsgi: MakeServed, tmp_path: Path
) -> None:
    path = tmp_path / "small.bin"
    data = bytes(range(256)) * 40
    path.write_bytes(data)
    files: list[Any] = []
    served = await serve_wsgi(_file_app(path, files))
    assert await (await served.client.get("/file")).read() == data
    assert await (await served.client.get("/offset")).read() == data[1000:]
    response = await served.client.get("/memory")  # not a real file: read block by block
    assert await response.read() == data
    head = await raw_request(
        served.address, b"HEAD /file HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n", "HEAD"
    )
    assert head.headers["Content-Length"] == str(len(data)) and head.body == b""
    assert all(stream.closed for stream in files) and len(files) == 4


def test_parse_response_helper_reads_chunked() -> None:
    raw = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
    assert parse_response(raw).body == b"abc"


async def test_http10_stream_ends_with_the_connection(serve_wsgi: MakeServed) -> None:
    served = await serve_wsgi(streamed)
    response = await raw_request(served.address, b"GET / HTTP/1.0\r\nHost: h\r\n\r\n")
    assert "Transfer-Encoding" not in response.headers
    assert response.body == b"".join(b"%d," % n for n in range(100))


async def test_requests_after_shutdown_get_503(serve_wsgi: MakeServed) -> None:
    served = await serve_wsgi(hello)
    assert (await served.client.get("/")).status == 200
    served.handler.shutdown()
    response = await served.client.get("/")
    assert response.status == 503
