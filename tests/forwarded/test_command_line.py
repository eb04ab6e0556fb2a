"""``--forwarded-allow-ips`` and ``--forwarded-host`` on the command line, served for real."""

from __future__ import annotations

import signal
import sys
from typing import Any

import pytest

from tests.support.peers import TRUSTED, UNTRUSTED, session_from
from tests.support.processes import COMMANDS, StartServer, free_port

CLIENT = "203.0.113.7"
FORWARDED = {
    "X-Forwarded-For": CLIENT,
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Host": "example.com",
}


async def get(url: str, source: str) -> dict[str, Any]:
    async with session_from(source) as session, session.get(url, headers=FORWARDED) as response:
        assert response.status == 200
        answer: dict[str, Any] = await response.json()
    return answer


@pytest.mark.slow
async def test_the_options_choose_the_trusted_proxies_of_a_wsgi_application(
    start_server: StartServer,
) -> None:
    args = ["--host", "127.0.0.1", "--port", "0"]
    options = ["--forwarded-allow-ips", "127.0.0.2", "--forwarded-host"]
    server = start_server(
        [*COMMANDS["aiodjango-serve"], "tests.server.apps:application", *args, *options]
    )
    url = await server.address()
    trusted = await get(f"{url}/", UNTRUSTED)  # 127.0.0.2 is the proxy now
    assert (trusted["remote_addr"], trusted["url_scheme"]) == (CLIENT, "https")
    assert trusted["host"] == "example.com"
    assert trusted["remote_port"] is None  # the client's port is not forwarded
    plain = await get(f"{url}/", TRUSTED)  # 127.0.0.1 is no longer trusted
    assert (plain["remote_addr"], plain["url_scheme"]) == (TRUSTED, "http")
    assert plain["host"] == url.removeprefix("http://")
    assert plain["remote_port"] is not None
    server.signal(signal.SIGTERM)
    assert await server.wait() == 0


@pytest.mark.slow
async def test_the_options_reach_an_aiohttp_application(start_server: StartServer) -> None:
    """Without the options an aiohttp Application is served as it is; with them, it trusts."""
    target = "tests.server.apps:aiohttp_application"
    args = ["--host", "127.0.0.1", "--port", "0"]
    server = start_server([*COMMANDS["python -m aiodjango"], target, *args])
    url = await server.address()
    assert (await get(f"{url}/whoami", TRUSTED))["remote"] == TRUSTED
    server.signal(signal.SIGTERM)
    assert await server.wait() == 0

    server = start_server(
        [*COMMANDS["python -m aiodjango"], target, *args, "--forwarded-allow-ips", "*"]
    )
    url = await server.address()
    seen = await get(f"{url}/whoami", UNTRUSTED)
    assert (seen["remote"], seen["scheme"]) == (CLIENT, "https")
    assert seen["host"] == url.removeprefix("http://")  # no --forwarded-host
    server.signal(signal.SIGTERM)
    assert await server.wait() == 0


@pytest.mark.slow
@pytest.mark.parametrize("path", ["/sync/", "/django-async/", "/lifted/"])
async def test_runserver_follows_the_settings(start_server: StartServer, path: str) -> None:
    port = free_port()
    server = start_server(
        [sys.executable, "-m", "django", "runserver", f"127.0.0.1:{port}", "--noreload"],
        env={"DJANGO_SETTINGS_MODULE": "tests.forwarded.settings"},
    )
    await server.wait_for_port(port)
    url = f"http://127.0.0.1:{port}{path}"
    trusted = await get(url, UNTRUSTED)  # 127.0.0.2 is the proxy in these settings
    assert (trusted["remote"], trusted["scheme"]) == (CLIENT, "https")
    assert trusted["host"] == "example.com"
    plain = await get(url, TRUSTED)
    assert (plain["remote"], plain["scheme"]) == (TRUSTED, "http")
    assert plain["host"] == f"127.0.0.1:{port}"
