"""The forwarded headers of ``configure_server`` and ``Server``: IPv4-mapped peers, unix
sockets, and an application's trust replaced by the server's options."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from aiodjango.server import FORWARDED_HEADERS, Server, configure_server
from tests.server.apps import make_aiohttp_app, make_app
from tests.support.peers import TRUSTED, UNTRUSTED, session_from

CLIENT = "203.0.113.7"
FORWARDED = {"X-Forwarded-For": CLIENT, "X-Forwarded-Proto": "https"}


async def test_an_ipv4_peer_of_a_dual_stack_socket_is_judged_by_its_ipv4_address() -> None:
    listener = socket.socket(socket.AF_INET6)
    listener.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    listener.bind(("::", 0))
    port = listener.getsockname()[1]
    server = configure_server(make_app(), socket=listener)
    try:
        async with server:
            for source, remote in ((TRUSTED, CLIENT), (UNTRUSTED, f"::ffff:{UNTRUSTED}")):
                async with (
                    session_from(source) as session,
                    session.get(f"http://{source}:{port}/", headers=FORWARDED) as response,
                ):
                    seen = await response.json()
                assert seen["remote_addr"] == remote  # the socket's peer is ::ffff:127.0.0.x
    finally:
        listener.close()


@pytest.mark.parametrize(("allow", "believed"), [(None, False), ("*", True)])
async def test_a_unix_socket_peer_is_trusted_only_by_a_star(
    short_tmp: Path, allow: str | None, believed: bool
) -> None:
    path = short_tmp / "app.sock"
    server = configure_server(make_app(), unix_socket=path, forwarded_allow_ips=allow)
    async with (
        server,
        aiohttp.ClientSession(connector=aiohttp.UnixConnector(path=str(path))) as session,
        session.get("http://localhost/", headers=FORWARDED) as response,
    ):
        seen: dict[str, Any] = await response.json()
    expected = (CLIENT, "https") if believed else ("", "http")
    assert (seen["remote_addr"], seen["url_scheme"]) == expected


async def test_the_servers_options_replace_the_applications_own() -> None:
    app = make_aiohttp_app()
    first = Server(app, host="127.0.0.1", port=0, forwarded_allow_ips="127.0.0.2")
    middleware = app[FORWARDED_HEADERS]
    assert app.middlewares[0] is middleware and middleware.trusted.text == "127.0.0.2/32"
    Server(app, host="127.0.0.1", port=0, forwarded_host=True)
    assert list(app.middlewares).count(middleware) == 1 and len(app.middlewares) == 1
    assert (middleware.trusted.text, middleware.forwarded_host) == ("127.0.0.2/32", True)
    async with first:
        url = f"http://127.0.0.1:{first.port}/whoami"
        headers = {**FORWARDED, "X-Forwarded-Host": "example.com"}
        async with session_from(UNTRUSTED) as session, session.get(url, headers=headers) as got:
            assert await got.json() == {"remote": CLIENT, "scheme": "https", "host": "example.com"}
        async with session_from(TRUSTED) as session, session.get(url, headers=headers) as got:
            seen = await got.json()
            assert (seen["remote"], seen["scheme"]) == (TRUSTED, "http")


def test_bad_values_name_the_argument() -> None:
    with pytest.raises(ValueError, match=r"forwarded_allow_ips: '300\.1\.1\.1'"):
        configure_server(make_app(), forwarded_allow_ips="127.0.0.1, 300.1.1.1")
    with pytest.raises(ValueError, match="forwarded_allow_ips must be addresses"):
        Server(web.Application(), forwarded_allow_ips=42)  # type: ignore[arg-type]
