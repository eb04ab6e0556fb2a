"""A real nginx in front of aiodjango, configured as ``docs/deployment.rst`` says.

nginx terminates TLS (a ``trustme`` certificate) and HTTP/2, and proxies to the project of
``tests/integration/proxied`` served by ``aiodjango-serve`` and by gunicorn with aiohttp's
worker. The clients connect from 127.0.0.2, an address nobody trusts, as a remote client would.
"""

from __future__ import annotations

import asyncio
import hashlib
import sys
import time
import tracemalloc
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import httpx
import pytest

from tests.integration.proxied.views import BLOCK, download_blocks
from tests.support.nginx import Nginx, StartNginx, documented_config
from tests.support.peers import UNTRUSTED
from tests.support.processes import COMMANDS, ServerProcess, StartServer, free_port
from tests.support.waiting import settle

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

APP = "tests.integration.proxied.wsgi:app"
GUNICORN = Path(sys.executable).parent / "gunicorn"
#: The address the clients connect from: loopback, but not the trusted 127.0.0.1.
CLIENT = UNTRUSTED
UPLOAD_MIB = 50
DOWNLOAD_MIB = 256
#: What a flood stream writes, and at most what may sit in socket buffers for a stalled client.
FLOOD_MIB = 128
STALLED_BACKLOG_MIB = 48


@pytest.fixture(params=["aiodjango-serve", "gunicorn"])
async def upstream(request: pytest.FixtureRequest, start_server: StartServer) -> ServerProcess:
    """The project on 127.0.0.1, served by the command line or by gunicorn's aiohttp worker."""
    port = free_port()
    if request.param == "aiodjango-serve":
        args = [*COMMANDS["aiodjango-serve"], APP, "--host", "127.0.0.1", "--port", str(port)]
    else:
        args = [
            str(GUNICORN),
            APP,
            "--worker-class",
            "aiohttp.worker.GunicornWebWorker",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
        ]
    server = start_server(args)
    server.port = port
    await server.wait_for_port(port)
    return server


@pytest.fixture
async def nginx(upstream: ServerProcess, start_nginx: StartNginx) -> Nginx:
    return await start_nginx(upstream.port)


@pytest.fixture
async def client(nginx: Nginx) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP/2 client of nginx's HTTPS port, connecting from :data:`CLIENT`."""
    transport = httpx.AsyncHTTPTransport(
        http2=True, verify=nginx.client_context(), local_address=CLIENT
    )
    async with httpx.AsyncClient(transport=transport, base_url=nginx.url, timeout=60) as client:
        yield client


def test_the_tested_configuration_is_the_documented_one(nginx: Nginx) -> None:
    """Every line of the guide's block is in the running configuration but for the few that
    name this machine's values."""
    running = nginx.config_path.read_text()
    substituted = ("server ", "listen ", "server_name ", "ssl_certificate", "alias ", "return ")
    documented = [line.strip() for line in documented_config().splitlines() if line.strip()]
    kept = [line for line in documented if not line.startswith(substituted)]
    assert len(kept) > 20
    for line in kept:
        assert line in running, line


async def test_django_page_and_lifted_view_over_http2(client: httpx.AsyncClient) -> None:
    for path, view in (("/page/", "django"), ("/lifted/", "lifted")):
        response = await client.get(path)
        assert response.status_code == 200, response.text
        assert response.http_version == "HTTP/2"
        assert response.headers["server"].startswith("nginx")
        assert response.json()["view"] == view


async def test_plain_http_redirects_to_https(nginx: Nginx) -> None:
    async with httpx.AsyncClient() as plain:
        response = await plain.get(f"http://127.0.0.1:{nginx.http_port}/page/?q=1")
    assert response.status_code == 301
    assert response.headers["location"] == f"{nginx.url}/page/?q=1"


async def test_websocket_through_the_upgrade_over_tls(nginx: Nginx) -> None:
    connector = aiohttp.TCPConnector(ssl=nginx.client_context(), local_addr=(CLIENT, 0))
    async with (
        aiohttp.ClientSession(connector=connector) as session,
        session.ws_connect(f"wss://127.0.0.1:{nginx.https_port}/ws/echo/") as socket,
    ):
        for text in ("one", "two"):
            await socket.send_str(text)
            assert await socket.receive_str(timeout=10) == f"echo: {text}"


async def test_event_stream_is_not_buffered(client: httpx.AsyncClient) -> None:
    """The first event arrives while the stream stays open (the view keeps it open for a
    minute): nginx passes it on at once instead of waiting to fill its buffer."""
    started = time.monotonic()
    async with client.stream("GET", "/events/") as response:
        assert response.status_code == 200
        assert response.http_version == "HTTP/2"
        assert response.headers["content-type"] == "text/event-stream"
        assert "x-accel-buffering" not in response.headers  # for nginx, not for the client
        lines = response.aiter_lines()
        assert await anext(lines) == "data: first"
        first_event_after = time.monotonic() - started
        assert await anext(lines) == ""
        assert await anext(lines) == ": still open"  # the stream goes on
    assert first_event_after < 1.0


async def test_a_stalled_event_stream_client_holds_the_application_back(
    nginx: Nginx, client: httpx.AsyncClient
) -> None:
    """Two event streams to clients that read nothing: the one nginx may buffer is taken whole
    into nginx's temporary files, while the ordinary one (``X-Accel-Buffering: no``) leaves
    its backlog with the application, whose writes wait (where groups see a slow client)."""
    connections = []
    for name, query in (("buffered", "&buffering=yes"), ("unbuffered", "")):
        _, writer = await asyncio.open_connection(
            "127.0.0.1",
            nginx.https_port,
            ssl=nginx.client_context(),
            local_addr=(CLIENT, 0),
            server_hostname="127.0.0.1",
        )
        writer.write(
            f"GET /events/flood/?name={name}&mebibytes={FLOOD_MIB}{query} HTTP/1.1\r\n"
            f"Host: 127.0.0.1:{nginx.https_port}\r\n\r\n".encode()
        )
        connections.append(writer)  # never read: the client has stalled

    async def flooded() -> dict[str, int]:
        response = await client.get("/events/flooded/")
        return dict(response.json())

    async def buffered_stream_written() -> bool:
        return (await flooded()).get("buffered", 0) == FLOOD_MIB * BLOCK

    try:
        assert await settle(buffered_stream_written, within=60), await flooded()
        written = await flooded()
        assert written["unbuffered"] < STALLED_BACKLOG_MIB * BLOCK, written
    finally:
        for writer in connections:
            writer.close()


async def test_upload_of_50_mib(client: httpx.AsyncClient) -> None:
    expected = hashlib.sha256()

    async def body() -> AsyncIterator[bytes]:
        for block in download_blocks(UPLOAD_MIB):
            expected.update(block)
            yield block

    size = UPLOAD_MIB * BLOCK
    response = await client.post("/upload/", content=body(), headers={"Content-Length": str(size)})
    assert response.status_code == 200, response.text
    assert response.http_version == "HTTP/2"
    assert response.json() == {"sha256": expected.hexdigest(), "size": size}


async def test_streamed_download_of_256_mib_in_bounded_memory(
    client: httpx.AsyncClient,
) -> None:
    expected = hashlib.sha256()
    for block in download_blocks(DOWNLOAD_MIB):
        expected.update(block)
    received = hashlib.sha256()
    size = 0
    tracemalloc.start()
    try:
        async with client.stream("GET", f"/download/{DOWNLOAD_MIB}/") as response:
            assert response.status_code == 200
            assert response.http_version == "HTTP/2"
            async for chunk in response.aiter_raw():
                received.update(chunk)
                size += len(chunk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert size == DOWNLOAD_MIB * BLOCK
    assert received.hexdigest() == expected.hexdigest()
    assert peak < 16 * BLOCK, f"the client held {peak / BLOCK:.1f} MiB at once"


async def test_static_files_come_from_the_alias_directory(
    nginx: Nginx, client: httpx.AsyncClient
) -> None:
    """The application serves no static files here: what comes back is nginx's."""
    (nginx.static / "css").mkdir()
    (nginx.static / "css" / "site.css").write_text("body { color: teal; }\n")
    response = await client.get("/static/css/site.css")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/css"
    assert response.text == "body { color: teal; }\n"
    missing = await client.get("/static/css/missing.css")
    assert missing.status_code == 404
    assert "nginx" in missing.text  # nginx's own page: the request never reached Django


#: Headers a client might send to pass for someone else, over plain HTTP.
SPOOFING = {
    "X-Forwarded-For": "203.0.113.7",
    "X-Forwarded-Proto": "http",
    "Forwarded": "for=203.0.113.8;proto=http",
}


async def test_nginx_reports_the_client_and_drops_its_forwarded_header(
    client: httpx.AsyncClient,
) -> None:
    """What reaches the application: the client's ``X-Forwarded-For`` with the address nginx
    saw appended (the one a trusted proxy vouches for), and no ``Forwarded`` from the client."""
    for path in ("/page/", "/lifted/"):
        response = await client.get(path, headers=SPOOFING)
        assert response.status_code == 200, response.text
        seen = response.json()
        assert seen["x_forwarded_for"] == f"203.0.113.7, {CLIENT}", seen
        assert seen["forwarded"] is None, seen


async def test_views_see_the_client_address_and_https(
    nginx: Nginx, client: httpx.AsyncClient
) -> None:
    """nginx on 127.0.0.1 is trusted: both kinds of view see the client (127.0.0.2) and
    the ``https`` scheme, and not what the client claimed in its own headers."""
    for path in ("/page/", "/lifted/"):
        response = await client.get(path, headers=SPOOFING)
        assert response.status_code == 200, response.text
        seen = response.json()
        assert seen["remote_addr"] == CLIENT, seen
        assert seen["scheme"] == "https", seen
        assert seen["secure"] is True, seen
        assert seen["host"] == f"127.0.0.1:{nginx.https_port}", seen


async def test_forwarded_headers_from_an_untrusted_peer_are_ignored(
    upstream: ServerProcess, nginx: Nginx
) -> None:
    """A client reaching the application directly from 127.0.0.2 cannot claim another
    address or scheme."""
    transport = httpx.AsyncHTTPTransport(local_address=CLIENT)
    async with httpx.AsyncClient(transport=transport) as direct:
        for path in ("/page/", "/lifted/"):
            response = await direct.get(f"http://127.0.0.1:{upstream.port}{path}", headers=SPOOFING)
            assert response.status_code == 200, response.text
            seen = response.json()
            assert seen["remote_addr"] == CLIENT, seen
            assert seen["scheme"] == "http", seen
            assert seen["secure"] is False, seen


async def test_browser_websocket_with_its_origin_through_nginx(nginx: Nginx) -> None:
    """A page of the site opens a websocket: its ``Origin`` (https, nginx's port) matches the
    forwarded scheme and the ``Host`` nginx passes on; another site's is refused."""
    connector = aiohttp.TCPConnector(ssl=nginx.client_context(), local_addr=(CLIENT, 0))
    url = f"wss://127.0.0.1:{nginx.https_port}/ws/echo/"
    async with aiohttp.ClientSession(connector=connector) as session:
        async with session.ws_connect(url, origin=nginx.url) as socket:
            await socket.send_str("same site")
            assert await socket.receive_str(timeout=10) == "echo: same site"
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await session.ws_connect(url, origin="https://elsewhere.example")
        assert refused.value.status == 403
