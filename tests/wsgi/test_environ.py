"""The environ the adapter builds: PEP 3333 keys, the mount split, headers, wsgi.input."""

from __future__ import annotations

import json
from typing import Any
from wsgiref.validate import validator

import aiohttp
import pytest
from aiohttp import web

from aiodjango.wsgi import WSGIHandler, add_wsgi_route
from tests.support.rawhttp import raw_request
from tests.support.servers import MakeServed

from .apps import echo

# A WSGIWarning from the validator (raised in the worker thread) turns into a 500.
pytestmark = pytest.mark.filterwarnings("error::wsgiref.validate.WSGIWarning")

TARGETS = [
    # (request target after the mount, PATH_INFO as UTF-8, QUERY_STRING)
    ("/", "/", ""),
    ("/a/b/", "/a/b/", ""),
    ("/search?q=a+b&x=%20y&flag", "/search", "q=a+b&x=%20y&flag"),
    ("/caf%C3%A9/%E2%82%AC", "/café/€", ""),
    ("/sp%20ace/%2F/x?y=%C3%A9", "/sp ace///x", "y=%C3%A9"),
]


def request_bytes(method: str, target: str, body: bytes = b"", extra: str = "") -> bytes:
    head = f"{method} {target} HTTP/1.1\r\nHost: example.test:8000\r\nConnection: close\r\n{extra}"
    if body or method in ("POST", "PUT"):
        head += f"Content-Length: {len(body)}\r\n"
    return head.encode() + b"\r\n" + body


@pytest.mark.parametrize("script_name", ["", "/app", "/a/b.c"])
@pytest.mark.parametrize("method", ["GET", "HEAD", "POST", "PUT"])
@pytest.mark.parametrize(("target", "path_info", "query"), TARGETS)
async def test_validated_app_sees_pep3333_environ(
    serve_wsgi: MakeServed, script_name: str, method: str, target: str, path_info: str, query: str
) -> None:
    served = await serve_wsgi(validator(echo), script_name)
    body = b"name=caf\xc3\xa9&n=1" if method in ("POST", "PUT") else b""
    extra = "Content-Type: application/x-www-form-urlencoded\r\n" if body else ""
    response = await raw_request(
        served.address, request_bytes(method, script_name + target, body, extra), method
    )
    assert response.status == 200
    if method == "HEAD":
        assert response.body == b""
        assert int(response.headers["Content-Length"]) > 0
        return
    environ = json.loads(response.body)
    assert environ["REQUEST_METHOD"] == method
    assert environ["SCRIPT_NAME"] == script_name
    # PATH_INFO carries the decoded bytes as latin-1 text: UTF-8 paths round-trip.
    assert environ["PATH_INFO"].encode("latin-1").decode("utf-8") == path_info
    assert environ["QUERY_STRING"] == query
    assert environ["SERVER_PROTOCOL"] == "HTTP/1.1"
    assert environ["SERVER_NAME"] == "127.0.0.1"
    assert environ["SERVER_PORT"] == str(served.address[1])
    assert environ["REMOTE_ADDR"] == "127.0.0.1"
    assert environ["REMOTE_PORT"].isdigit()
    assert environ["HTTP_HOST"] == "example.test:8000"
    assert environ["wsgi.url_scheme"] == "http"
    assert environ["has_aiohttp_request"] and environ["has_executor"]
    assert environ["body"].encode("latin-1") == body
    if body:
        assert environ["CONTENT_LENGTH"] == str(len(body))
        assert environ["CONTENT_TYPE"] == "application/x-www-form-urlencoded"
    assert "HTTP_CONTENT_TYPE" not in environ and "HTTP_CONTENT_LENGTH" not in environ


async def test_mount_takes_only_its_prefix(serve_wsgi: MakeServed) -> None:
    served = await serve_wsgi(echo, "/app")
    for target, expected in [("/app", 200), ("/app/", 200), ("/apple", 404), ("/", 404)]:
        response = await served.client.get(target)
        assert response.status == expected, target
        if expected == 200:
            environ = await response.json()
            assert (environ["SCRIPT_NAME"], environ["PATH_INFO"]) == ("/app", target[4:])


def test_add_wsgi_route_refuses_a_bad_script_name() -> None:
    handler = WSGIHandler(echo)
    try:
        for bad in ["app", "/app/", "/", "/a//b", "/a{x}", "/caf\xe9", "/a%20b"]:
            with pytest.raises(ValueError, match="script_name") as info:
                add_wsgi_route(web.Application().router, handler, bad)
            assert repr(bad) in str(info.value)
    finally:
        handler.shutdown()


def test_handler_refuses_bad_options() -> None:
    with pytest.raises(ValueError, match="url_scheme"):
        WSGIHandler(echo, url_scheme="ftp")
    with pytest.raises(ValueError, match="threads"):
        WSGIHandler(echo, threads=0)
    with pytest.raises(ValueError, match="max_queued"):
        WSGIHandler(echo, max_queued=-1)


async def test_repeated_headers_are_joined_and_underscores_dropped(serve_wsgi: MakeServed) -> None:
    served = await serve_wsgi(echo)
    extra = (
        "Accept: text/html\r\nAccept: application/json\r\nX-Forwarded-For: 10.0.0.1\r\n"
        "X_Forwarded_For: 6.6.6.6\r\nCookie: a=1\r\nCookie: b=2\r\nX-Latin: caf\xe9\r\n"
    )
    data = b"GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n" + extra.encode("latin-1") + b"\r\n"
    environ = json.loads((await raw_request(served.address, data)).body)
    assert environ["HTTP_ACCEPT"] == "text/html,application/json"
    assert environ["HTTP_X_FORWARDED_FOR"] == "10.0.0.1"  # the "_" spelling cannot spoof it
    assert environ["HTTP_COOKIE"] == "a=1; b=2"
    assert environ["HTTP_X_LATIN"] == "caf\xe9"
    assert "CONTENT_LENGTH" not in environ and "CONTENT_TYPE" not in environ


async def test_url_scheme_forced(serve_wsgi: MakeServed) -> None:
    served = await serve_wsgi(echo, url_scheme="https")
    environ = await (await served.client.get("/")).json()
    assert environ["wsgi.url_scheme"] == "https"


def input_methods(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    stream = environ["wsgi.input"]
    report = {
        "type": type(stream).__name__,
        "fileno": _fileno(stream),
        "read5": stream.read(5).decode(),
        "readline": stream.readline().decode(),
        "readline3": stream.readline(3).decode(),
        "readlines": [line.decode() for line in stream.readlines()],
        "after_eof": stream.read().decode(),
    }
    payload = json.dumps(report).encode()
    start_response("200 OK", [("Content-Type", "application/json")])
    return [payload]


def iterate_input(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    lines = [line.decode() for line in environ["wsgi.input"]]
    start_response("200 OK", [("Content-Type", "application/json")])
    return [json.dumps(lines).encode()]


def _fileno(stream: Any) -> int | None:
    try:
        return int(stream.fileno())
    except (OSError, ValueError, AttributeError):
        return None


@pytest.mark.parametrize("inbuf_overflow", [1 << 20, 4])
async def test_wsgi_input_reads_like_a_file(serve_wsgi: MakeServed, inbuf_overflow: int) -> None:
    served = await serve_wsgi(input_methods, inbuf_overflow=inbuf_overflow)
    body = b"line one\nline two\nline three\nlast"
    report = await (await served.client.post("/", data=body)).json()
    assert report["read5"] == "line "
    assert report["readline"] == "one\n"
    assert report["readline3"] == "lin"
    assert report["readlines"] == ["e two\n", "line three\n", "last"]
    assert report["after_eof"] == ""
    if inbuf_overflow == 4:  # spooled: a real file on disk
        assert report["fileno"] is not None and report["type"] != "BytesIO"
    else:
        assert report["type"] == "BytesIO"

    served = await serve_wsgi(iterate_input, inbuf_overflow=inbuf_overflow)
    lines = await (await served.client.post("/", data=body)).json()
    assert lines == ["line one\n", "line two\n", "line three\n", "last"]


async def test_request_without_body_reads_empty(serve_wsgi: MakeServed) -> None:
    served = await serve_wsgi(input_methods)
    report = await (await served.client.get("/")).json()
    assert report["read5"] == report["readline"] == report["after_eof"] == ""
    assert report["readlines"] == []


async def test_environ_on_a_unix_socket(tmp_path: Any) -> None:
    handler = WSGIHandler(validator(echo))
    app = web.Application()
    add_wsgi_route(app.router, handler, "/app")
    runner = web.AppRunner(app)
    await runner.setup()
    path = str(tmp_path / "wsgi.sock")
    await web.UnixSite(runner, path).start()
    try:
        connector = aiohttp.UnixConnector(path)
        async with (
            aiohttp.ClientSession(connector=connector) as session,
            session.get("http://example.test:8123/app/x?y=1") as response,
        ):
            assert response.status == 200
            environ = await response.json()
    finally:
        await runner.cleanup()
        handler.shutdown()
    assert (environ["SERVER_NAME"], environ["SERVER_PORT"]) == ("example.test", "8123")
    assert environ["REMOTE_ADDR"] == "" and "REMOTE_PORT" not in environ
    assert (environ["SCRIPT_NAME"], environ["PATH_INFO"], environ["QUERY_STRING"]) == (
        "/app",
        "/x",
        "y=1",
    )
