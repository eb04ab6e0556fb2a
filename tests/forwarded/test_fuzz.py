"""Fuzzing the forwarded headers of a trusted peer: whatever they say, the request is served.

Hypothesis writes ``X-Forwarded-*`` and ``Forwarded`` headers from the characters they are
made of (addresses, brackets, quotes, separators, latin-1 text) to a server trusting every peer
and the forwarded host; the WSGI application, wrapped in ``wsgiref.validate.validator``,
reports what it received. Each answer must be a 200 whose client is an address, whose scheme
is http or https and whose host is one Django would read.
"""

from __future__ import annotations

import http.client
import json
import re
from collections.abc import Iterator
from ipaddress import ip_address
from typing import Any
from wsgiref.validate import validator

import pytest
from aiohttp import web
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aiodjango.server import trust_forwarded_headers
from aiodjango.wsgi import WSGIHandler, add_wsgi_route
from tests.support.servers import LiveServer

pytestmark = pytest.mark.slow

NAMES = ["X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host", "Forwarded"]
# Django's own rule for a host.
HOST = re.compile(r"([a-z0-9.-]+|\[[a-f0-9]*:[a-f0-9.:]+\])(:[0-9]+)?", re.IGNORECASE)
pieces = st.sampled_from(
    ["127.0.0.1", "10.0.0.1", "::1", "2001:db8::1", "[2001:db8::1]:4711", "1.2.3.4:80",
     "unknown", "_hidden", "for=", "proto=", "host=", "by=", "https", "wss", "example.com",
     ",", ";", ":", "[", "]", '"', "\\", " ", "=", "300.1.1.1", "::ffff:1.2.3.4", "%eth0"]
)  # fmt: skip
value = st.one_of(
    st.lists(pieces, max_size=8).map("".join),
    st.text(alphabet=st.characters(codec="latin-1", exclude_categories=["Cc"]), max_size=20),
)


def report(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    keys = ("REMOTE_ADDR", "wsgi.url_scheme", "HTTP_HOST", "SERVER_NAME", "SERVER_PORT")
    payload = json.dumps({key: environ.get(key) for key in keys}).encode()
    start_response("200 OK", [("Content-Type", "application/json")])
    return [payload]


@pytest.fixture(scope="module")
def live() -> Iterator[LiveServer]:
    handler = WSGIHandler(validator(report), threads=2)
    app = web.Application()
    trust_forwarded_headers(app, "*", forwarded_host=True)
    add_wsgi_route(app.router, handler)
    server = LiveServer(app)
    yield server
    server.close()
    handler.shutdown()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(headers=st.lists(st.tuples(st.sampled_from(NAMES), value), min_size=1, max_size=5))
def test_any_forwarded_headers_are_served(live: LiveServer, headers: list[tuple[str, str]]) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", live.port, timeout=30)
    try:
        connection.putrequest("GET", "/", skip_host=True)
        connection.putheader("Host", "origin.example")
        for name, text in headers:
            connection.putheader(name, text.encode("latin-1"))
        connection.endheaders()
        response = connection.getresponse()
        body = response.read()
    finally:
        connection.close()
    assert response.status == 200, body
    seen = json.loads(body)
    ip_address(seen["REMOTE_ADDR"])  # an address, whatever the headers said
    assert seen["wsgi.url_scheme"] in ("http", "https")
    assert HOST.fullmatch(seen["HTTP_HOST"]), seen
    assert seen["SERVER_PORT"].isdigit()
