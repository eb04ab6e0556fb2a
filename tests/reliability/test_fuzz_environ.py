"""Fuzzing the environ builder: random requests over a real socket, PEP 3333's invariants checked.

Hypothesis writes requests byte by byte (method, percent-encoded and raw path characters, query
strings, header names and latin-1 values, bodies with Content-Length or chunked) to a server
whose WSGI application is wrapped in ``wsgiref.validate.validator``. The application reports
what it received; the test checks it against what was sent.
"""

from __future__ import annotations

import http.client
import json
import socket
import string
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote_to_bytes
from wsgiref.validate import validator

import pytest
from aiohttp import web
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aiodjango.wsgi import WSGIHandler, add_wsgi_route
from tests.support.rawhttp import aiohttp_headers
from tests.support.servers import LiveServer

pytestmark = pytest.mark.slow

MOUNT = "/mount"
TCHAR = string.ascii_letters + string.digits + "!#$%&'*+-.^_`|~"
PCHAR = string.ascii_letters + string.digits + "-._~!$&'()*+,;=:@"
# Headers that frame the request or the connection: the test sets them itself.
FRAMING = {"host", "content-length", "transfer-encoding", "connection", "expect", "upgrade", "te"}
# The methods wsgiref's validator knows, but HEAD (its answer has no body to report in).
# Headers aiohttp refuses to see twice in one request (a 400, tested elsewhere).
SINGLETONS = {"content-location", "content-range", "content-type", "etag", "max-forwards"}
SINGLETONS |= {"server", "user-agent"}
METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE"]


def report(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """Describe the environ: its text values, what wsgi.input holds, which values are not
    native strings (PEP 3333: ``str`` holding only latin-1 code points)."""
    stream = environ["wsgi.input"]
    body = b""
    while block := stream.read(1024):  # wsgi.input_terminated: read until the end
        body += block
    # CGI variables and headers; the dotted keys are the server's objects (wsgi.input, ...).
    cgi = {k: v for k, v in environ.items() if "." not in k or k.startswith("HTTP_")}
    not_native = []
    for key, value in cgi.items():
        try:
            value.encode("latin-1")
        except (AttributeError, UnicodeEncodeError):
            not_native.append(key)
    description = {
        "environ": {k: v for k, v in cgi.items() if isinstance(v, str)},
        "not_native": not_native,
        "body": body.decode("latin-1"),
        "input_exhausted": stream.read(10) == b"" and stream.readline() == b"",
        "url_scheme": environ["wsgi.url_scheme"],
    }
    payload = json.dumps(description).encode()
    start_response(
        "200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))]
    )
    return [payload]


@pytest.fixture(scope="module")
def live() -> Iterator[LiveServer]:
    handler = WSGIHandler(validator(report), threads=2)
    app = web.Application()
    add_wsgi_route(app.router, handler, MOUNT)
    add_wsgi_route(app.router, handler)
    server = LiveServer(app)
    yield server
    server.close()
    handler.shutdown()


percent = st.integers(0, 255).map(lambda byte: f"%{byte:02X}")
path_piece = st.one_of(st.sampled_from(PCHAR), percent, st.sampled_from(["%2F", "%25", "%zz", "%"]))
segment = st.one_of(
    st.lists(path_piece, max_size=6).map("".join), st.sampled_from([".", "..", "mount", ""])
)
query_piece = st.one_of(st.sampled_from(PCHAR + "/?"), percent, st.just("%zz"))
header_name = st.one_of(
    st.text(alphabet=TCHAR, min_size=1, max_size=12),
    st.sampled_from(["Cookie", "Content-Type", "X-Forwarded-For", "X_Forwarded_For", "Accept"]),
).filter(lambda name: name.lower() not in FRAMING)
# Visible ASCII and latin-1's obs-text, with inner blanks; the parser strips outer blanks
# (the C parser of older aiohttp versions, 3.12's for one, keeps the trailing ones).
STRIPS_TRAILING_BLANKS = aiohttp_headers(b"GET / HTTP/1.1\r\nHost: h\r\nX: a \r\n\r\n") == {
    "Host": "h",
    "X": "a",
}
header_value = st.text(
    alphabet=st.characters(codec="latin-1", exclude_categories=["Cc"]) | st.sampled_from(" \t"),
    max_size=30,
)


@st.composite
def requests(draw: st.DrawFn) -> dict[str, Any]:
    segments = draw(st.lists(segment, min_size=1, max_size=5))
    if draw(st.booleans()):
        segments.insert(0, MOUNT[1:])
    path = "/" + "/".join(segments)
    query = draw(st.none() | st.lists(query_piece, max_size=10).map("".join))
    body = draw(st.none() | st.binary(max_size=3000))
    return {
        "method": draw(st.sampled_from(METHODS)),
        "path": path,
        "query": query,
        "headers": _no_repeated_singletons(
            draw(st.lists(st.tuples(header_name, header_value), max_size=6))
        ),
        "body": body,
        "chunked": body is not None and draw(st.booleans()),
    }


def _no_repeated_singletons(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    seen: set[str] = set()
    kept = []
    for name, value in headers:
        lower = name.lower()
        if lower in SINGLETONS and lower in seen:
            continue
        seen.add(lower)
        kept.append((name, value))
    return kept


def encode(request: dict[str, Any]) -> bytes:
    target = request["path"] + ("" if request["query"] is None else "?" + request["query"])
    lines = [f"{request['method']} {target} HTTP/1.1", "Host: 127.0.0.1"]
    lines += [f"{name}: {value}" for name, value in request["headers"]]
    body = request["body"]
    if body is not None and request["chunked"]:
        lines.append("Transfer-Encoding: chunked")
        framed = b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in _pieces(body)) + b"0\r\n\r\n"
    elif body is not None:
        lines.append(f"Content-Length: {len(body)}")
        framed = body
    else:
        framed = b""
    head = "\r\n".join([*lines, "Connection: close", "", ""]).encode("latin-1")
    return head + framed


def _pieces(body: bytes) -> list[bytes]:
    return [body[i : i + 700] for i in range(0, len(body), 700)] if body else []


def expected_headers(headers: list[tuple[str, str]]) -> dict[str, str]:
    """The environ entries the headers must become (PEP 3333 with aiodjango's rules)."""
    expected: dict[str, str] = {}
    for name, raw in headers:
        value = raw.strip(" \t") if STRIPS_TRAILING_BLANKS else raw.lstrip(" \t")
        upper = name.upper()
        if upper == "CONTENT-TYPE":
            key = "CONTENT_TYPE"
        elif "_" in name:
            continue  # dropped: it would collide with the "-" spelling of the name
        else:
            key = "HTTP_" + upper.replace("-", "_")
        if key in expected:
            separator = "; " if key == "HTTP_COOKIE" else ","
            expected[key] += separator + value
        else:
            expected[key] = value
    return expected


def send(port: int, data: bytes) -> tuple[int, bytes]:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(data)
        response = http.client.HTTPResponse(connection)
        response.begin()
        return response.status, response.read()


@settings(
    max_examples=300,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(request=requests())
def test_environ_invariants(live: LiveServer, request: dict[str, Any]) -> None:
    status, payload = send(live.port, encode(request))
    assert status == 200, payload  # a 500 means the validator or the adapter refused
    got = json.loads(payload)
    environ = got["environ"]

    assert got["not_native"] == []
    assert got["url_scheme"] == "http"
    assert environ["REQUEST_METHOD"] == request["method"]
    assert environ["SERVER_PROTOCOL"] == "HTTP/1.1"
    assert environ["SERVER_NAME"] == "127.0.0.1"
    assert environ["SERVER_PORT"] == str(live.port)
    assert environ["REMOTE_ADDR"] == "127.0.0.1" and environ["REMOTE_PORT"].isdigit()

    # The path: percent-decoded bytes as latin-1, split between the mount and the rest.
    raw_path = request["path"].encode("utf-8")
    decoded = unquote_to_bytes(raw_path).decode("latin-1")
    script_name, path_info = environ["SCRIPT_NAME"], environ["PATH_INFO"]
    assert script_name + path_info == decoded
    assert script_name in ("", MOUNT)
    assert path_info == "" or path_info.startswith("/")
    if request["path"] == MOUNT or request["path"].startswith(MOUNT + "/"):
        assert script_name == MOUNT
    assert environ["QUERY_STRING"] == (request["query"] or "")

    # Headers: every one arrives, none is invented; Content-Length is CONTENT_LENGTH's alone.
    sent = expected_headers(request["headers"])
    sent["HTTP_HOST"] = "127.0.0.1"
    sent["HTTP_CONNECTION"] = "close"
    if request["chunked"]:
        sent["HTTP_TRANSFER_ENCODING"] = "chunked"
    received = {k: v for k, v in environ.items() if k.startswith("HTTP_") or k == "CONTENT_TYPE"}
    assert received == sent

    # The body: all of it, announced by CONTENT_LENGTH, then the end of the stream.
    body = request["body"] or b""
    assert got["body"] == body.decode("latin-1")
    assert got["input_exhausted"]
    if body:
        assert environ["CONTENT_LENGTH"] == str(len(body))
    else:
        assert environ.get("CONTENT_LENGTH", "0") in ("", "0")


@pytest.mark.parametrize("path", ["/a%0Ab", "/%0A", MOUNT + "/a%0A"])
def test_encoded_newline_in_the_path_reaches_the_application(live: LiveServer, path: str) -> None:
    status, payload = send(live.port, encode(_plain_get(path)))
    assert status == 200, payload
    environ = json.loads(payload)["environ"]
    decoded = unquote_to_bytes(path).decode("latin-1")
    assert environ["SCRIPT_NAME"] + environ["PATH_INFO"] == decoded


def _plain_get(path: str) -> dict[str, Any]:
    return {
        "method": "GET",
        "path": path,
        "query": None,
        "headers": [],
        "body": None,
        "chunked": False,
    }
