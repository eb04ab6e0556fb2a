"""Environ keys that aiohttp-wsgi, gunicorn and wsgiref give and that applications rely on."""

from __future__ import annotations

import json
from pathlib import Path
from wsgiref.validate import validator

import aiohttp
import pytest
from aiohttp import web

from aiodjango.wsgi import WSGIHandler, add_wsgi_route
from tests.support.rawhttp import raw_request
from tests.support.servers import MakeServed

from .apps import echo

pytestmark = pytest.mark.filterwarnings("error::wsgiref.validate.WSGIWarning")


def request_bytes(method: str, target: str, extra: str = "") -> bytes:
    return f"{method} {target} HTTP/1.1\r\nHost: h\r\nConnection: close\r\n{extra}\r\n".encode()


@pytest.mark.parametrize("method", ["POST", "PUT", "GET", "DELETE"])
async def test_an_announced_empty_body_has_content_length_zero(
    serve_wsgi: MakeServed, method: str
) -> None:
    served = await serve_wsgi(validator(echo))
    data = request_bytes(method, "/", "Content-Length: 0\r\n")
    environ = json.loads((await raw_request(served.address, data)).body)
    assert environ["CONTENT_LENGTH"] == "0"
    assert environ["body"] == ""


async def test_no_body_announced_means_no_content_length(serve_wsgi: MakeServed) -> None:
    served = await serve_wsgi(validator(echo))
    environ = json.loads((await raw_request(served.address, request_bytes("GET", "/"))).body)
    assert "CONTENT_LENGTH" not in environ


async def test_an_empty_chunked_body_has_content_length_zero(serve_wsgi: MakeServed) -> None:
    served = await serve_wsgi(validator(echo))
    data = request_bytes("POST", "/", "Transfer-Encoding: chunked\r\n") + b"0\r\n\r\n"
    environ = json.loads((await raw_request(served.address, data)).body)
    assert environ["CONTENT_LENGTH"] == "0"


@pytest.mark.parametrize("script_name", ["", "/app"])
@pytest.mark.parametrize(
    "target",
    ["/a/b", "/caf%C3%A9/%2F/x?q=a+b&r=%20", "/x?", "/%7Euser//two?empty=&flag"],
)
async def test_raw_uri_and_request_uri_are_the_target_as_sent(
    serve_wsgi: MakeServed, script_name: str, target: str
) -> None:
    served = await serve_wsgi(validator(echo), script_name)
    sent = script_name + target
    environ = json.loads((await raw_request(served.address, request_bytes("GET", sent))).body)
    assert environ["RAW_URI"] == sent
    assert environ["REQUEST_URI"] == sent
    # The decoded split is still there beside it.
    assert environ["SCRIPT_NAME"] == script_name


async def test_remote_host_is_the_client_address(serve_wsgi: MakeServed) -> None:
    served = await serve_wsgi(validator(echo))
    environ = await (await served.client.get("/")).json()
    assert environ["REMOTE_HOST"] == environ["REMOTE_ADDR"] == "127.0.0.1"
    assert environ["REMOTE_PORT"].isdigit()


async def test_on_a_unix_socket_there_is_no_remote_port(tmp_path: Path) -> None:
    """What docs/wsgi.rst says: REMOTE_ADDR and REMOTE_HOST empty, REMOTE_PORT absent."""
    handler = WSGIHandler(validator(echo))
    app = web.Application()
    add_wsgi_route(app.router, handler)
    runner = web.AppRunner(app)
    await runner.setup()
    path = str(tmp_path / "s.sock")
    await web.UnixSite(runner, path).start()
    try:
        async with (
            aiohttp.ClientSession(connector=aiohttp.UnixConnector(path)) as session,
            session.get("http://example.test/p?x=1") as response,
        ):
            environ = await response.json()
    finally:
        await runner.cleanup()
        handler.shutdown()
    assert environ["REMOTE_ADDR"] == environ["REMOTE_HOST"] == ""
    assert "REMOTE_PORT" not in environ
    assert environ["RAW_URI"] == environ["REQUEST_URI"] == "/p?x=1"
