"""What aiohttp-wsgi's ``run_server`` offers, on configure_server() and the command line."""

from __future__ import annotations

import signal
import socket
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from aiodjango.server import Server, configure_server
from tests.server.apps import make_aiohttp_app, make_app
from tests.support.processes import COMMANDS, StartServer, run_cli

ORIGIN = "https://pages.example"


@pytest.fixture
def assets(tmp_path: Path) -> Path:
    directory = tmp_path / "assets"
    directory.mkdir()
    (directory / "font.woff2").write_bytes(b"\0font")
    return directory


async def fetch(url: str) -> tuple[int, str | None]:
    """The status and Access-Control-Allow-Origin of a cross-origin GET."""
    async with (
        aiohttp.ClientSession() as session,
        session.get(url, headers={"Origin": "https://other.example"}) as response,
    ):
        await response.read()
        return response.status, response.headers.get("Access-Control-Allow-Origin")


async def test_static_cors_is_sent_with_static_files_only(assets: Path) -> None:
    server = configure_server(
        make_app(),
        host="127.0.0.1",
        port=0,
        static=[("/static", assets)],
        static_cors=ORIGIN,
    )
    async with server:
        base = server.urls[0]
        assert await fetch(f"{base}/static/font.woff2") == (200, ORIGIN)
        # A missing file's 404 is readable by the page too.
        assert await fetch(f"{base}/static/missing.css") == (404, ORIGIN)
        # The application's own URLs, including one sharing the prefix's first letters.
        assert await fetch(f"{base}/staticky/font.woff2") == (200, None)
        assert await fetch(f"{base}/page") == (200, None)


async def test_without_static_cors_no_header_is_sent(assets: Path) -> None:
    async with configure_server(
        make_app(), host="127.0.0.1", port=0, static=[("/static", assets)]
    ) as server:
        assert await fetch(f"{server.urls[0]}/static/font.woff2") == (200, None)


@pytest.mark.parametrize("bad", ["", "https://a.example\r\nSet-Cookie: x=1", "https://é.example"])
def test_a_bad_static_cors_is_refused_by_name(assets: Path, bad: str) -> None:
    with pytest.raises(ValueError, match="static_cors") as info:
        configure_server(make_app(), static=[("/static", assets)], static_cors=bad)
    assert repr(bad) in str(info.value)


async def test_static_cors_on_the_command_line(assets: Path, start_server: StartServer) -> None:
    args = ["--host", "127.0.0.1", "--port", "0", "--static", f"/static={assets}"]
    args += ["--static-cors", "*"]
    for target in ("tests.server.apps:application", "tests.server.apps:aiohttp_application"):
        server = start_server([*COMMANDS["aiodjango-serve"], target, *args])
        url = await server.address()
        assert await fetch(f"{url}/static/font.woff2") == (200, "*")
        other = "/native" if target.endswith("aiohttp_application") else "/page"
        assert await fetch(f"{url}{other}") == (200, None)
        server.signal(signal.SIGTERM)
        assert await server.wait() == 0


def test_a_bad_static_cors_on_the_command_line_is_one_line() -> None:
    result = run_cli("--static", "/s=.", "--static-cors", "", "tests.server.apps:application")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "static_cors" in result.stderr


async def test_sites_and_addresses_say_where_the_server_listens() -> None:
    server = Server(make_aiohttp_app(), host="localhost", port=0)
    assert server.sites == [] and server.addresses == [] and server.port is None
    async with server:
        (site,) = server.sites
        assert isinstance(site, web.TCPSite)
        # "localhost" may be several sockets (IPv4 and IPv6), all on the one port.
        hosts = {address[0] for address in server.addresses if isinstance(address, tuple)}
        assert hosts and hosts <= {"127.0.0.1", "::1"}
        assert {address[1] for address in server.addresses} == {server.port}
        # aiohttp versions with TCPSite.port name a site by the port it bound; older ones (3.12)
        # by the port it was asked for (0 here). Server.urls says the bound one on all.
        named_port = server.port if hasattr(web.TCPSite, "port") else 0
        assert site.name == f"http://localhost:{named_port}"
        assert server.urls and all(url.endswith(f":{server.port}") for url in server.urls)
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"http://127.0.0.1:{server.port}/native") as response,
        ):
            assert response.status == 200
    assert server.sites == [] and server.addresses == []


async def test_sites_of_a_server_on_a_given_socket() -> None:
    listening = socket.socket()
    listening.bind(("127.0.0.1", 0))
    port = listening.getsockname()[1]
    async with Server(make_aiohttp_app(), socket=listening) as server:
        (site,) = server.sites
        assert isinstance(site, web.SockSite)
        assert server.addresses == [("127.0.0.1", port)] and server.port == port


def test_p_is_short_for_port() -> None:
    """aiohttp-wsgi-serve's -p works the same here."""
    result = run_cli("-p", "65536", "tests.server.apps:application")
    assert result.returncode == 2
    assert "-p/--port" in result.stderr and "65536" in result.stderr
