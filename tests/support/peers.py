"""Peers for the trusted-proxy tests: clients from a chosen source address, servers on both loopbacks.

The default ``forwarded_allow_ips`` trusts 127.0.0.1 and ::1; a client bound to 127.0.0.2 is an
untrusted peer on the same machine. ``serve_on_loopbacks`` serves an aiohttp application on
127.0.0.1 and on ::1 (one port each) with aiohttp's production server.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import aiohttp
import pytest
from aiohttp import web

#: Trusted by default (IPv4 and IPv6), and an untrusted loopback address.
TRUSTED = "127.0.0.1"
TRUSTED_V6 = "::1"
UNTRUSTED = "127.0.0.2"


@dataclass
class Loopbacks:
    """An application listening on 127.0.0.1 and ::1: the port of each."""

    ports: dict[str, int]

    def authority(self, source: str) -> str:
        """The ``host:port`` a client from ``source`` connects to (its own loopback family)."""
        host = TRUSTED_V6 if ":" in source else TRUSTED
        shown = f"[{host}]" if ":" in host else host
        return f"{shown}:{self.ports[host]}"

    def url(self, source: str, path: str, scheme: str = "http") -> str:
        return f"{scheme}://{self.authority(source)}{path}"


def session_from(source: str) -> aiohttp.ClientSession:
    """A client whose connections come from ``source`` (its socket is bound to that address)."""
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(local_addr=(source, 0), force_close=True)
    )


#: The type of ``serve_on_loopbacks``.
ServeOnLoopbacks = Callable[[web.Application], Awaitable[Loopbacks]]


@pytest.fixture
async def serve_on_loopbacks() -> AsyncIterator[ServeOnLoopbacks]:
    """Serve applications on 127.0.0.1 and ::1, free ports; stopped after the test."""
    runners: list[web.AppRunner] = []

    async def serve(app: web.Application) -> Loopbacks:
        runner = web.AppRunner(app)
        await runner.setup()
        runners.append(runner)
        for host in (TRUSTED, TRUSTED_V6):
            await web.TCPSite(runner, host, 0).start()
        return Loopbacks({str(address[0]): int(address[1]) for address in runner.addresses})

    yield serve
    for runner in runners:
        await runner.cleanup()
