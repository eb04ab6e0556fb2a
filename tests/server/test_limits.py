"""The caps on the loop and the websocket defaults, on an aiohttp application aiodjango did
not build (what the command line does with its options), served in this process."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
from aiohttp import WSCloseCode, WSMsgType, web

from aiodjango.server import (
    LOOP_LIMITS,
    LoopLimits,
    WebSocketDefaults,
    close_websockets_on_shutdown,
    limit_application,
    set_websocket_defaults,
)
from tests.support.processes import run_cli
from tests.support.servers import AiohttpClient
from tests.support.waiting import settle

GATE = web.AppKey("gate", asyncio.Event)


async def gated(request: web.Request) -> web.Response:
    await request.app[GATE].wait()
    return web.Response(text="released")


async def hello(request: web.Request) -> web.Response:
    return web.Response(text="hello")


async def echo(request: web.Request) -> web.WebSocketResponse:
    """A websocket with every aiohttp default: the application's defaults apply."""
    ws = web.WebSocketResponse()
    await ws.prepare(request)
    async for message in ws:
        if message.type is WSMsgType.TEXT:
            await ws.send_str(f"{len(message.data)} bytes")
    return ws


async def roomy(request: web.Request) -> web.WebSocketResponse:
    """A websocket whose view sets its own maximum message size: it keeps it."""
    ws = web.WebSocketResponse(max_msg_size=8 * 1024 * 1024)
    await ws.prepare(request)
    async for message in ws:
        if message.type is WSMsgType.TEXT:
            await ws.send_str(f"{len(message.data)} bytes")
    return ws


def make_app() -> web.Application:
    app = web.Application()
    app[GATE] = asyncio.Event()
    app.router.add_get("/gate", gated)
    app.router.add_get("/hello", hello)
    app.router.add_get("/echo", echo)
    app.router.add_get("/roomy", roomy)
    return app


async def test_past_the_caps_503_with_retry_after(aiohttp_client: AiohttpClient) -> None:
    app = make_app()
    limits = limit_application(app, max_async_requests=2, max_websockets=1)
    client = await aiohttp_client(app)
    held = [asyncio.ensure_future(client.get("/gate")) for _ in range(2)]
    assert await settle(lambda: limits.requests == 2)

    refused = await client.get("/hello")
    assert refused.status == 503
    assert refused.headers["Retry-After"] == "1"
    # The websocket cap is separate: a handshake still opens.
    ws = await client.ws_connect("/echo")
    await ws.send_str("hi")
    assert await ws.receive_str() == "2 bytes"
    with pytest.raises(aiohttp.WSServerHandshakeError) as handshake:
        await client.ws_connect("/echo")
    assert handshake.value.status == 503
    assert handshake.value.headers is not None and handshake.value.headers["Retry-After"] == "1"

    app[GATE].set()
    assert [await (await request).text() for request in held] == ["released"] * 2
    assert (await client.get("/hello")).status == 200
    await ws.close()
    assert await settle(lambda: limits.websockets == 0)
    ws = await client.ws_connect("/echo")
    await ws.close()
    assert await settle(lambda: (limits.requests, limits.websockets) == (0, 0))


async def test_limit_application_changes_the_caps_it_finds(aiohttp_client: AiohttpClient) -> None:
    app = make_app()
    limits = limit_application(app, max_websockets=3)
    assert limit_application(app, max_async_requests=5) is limits
    assert (limits.max_async_requests, limits.max_websockets) == (5, 3)
    assert len(app.middlewares) == 1
    assert app[LOOP_LIMITS] is limits


async def test_websocket_defaults_apply_unless_the_view_sets_its_own(
    aiohttp_client: AiohttpClient,
) -> None:
    app = make_app()
    close_websockets_on_shutdown(app)  # what a Server does: every response watched
    set_websocket_defaults(app, heartbeat=0.2, max_msg_size=1024)
    client = await aiohttp_client(app)
    big = "x" * 2048

    ws = await client.ws_connect("/echo", autoping=False)
    # The server's heartbeat: a ping on a quiet websocket.
    message = await ws.receive(timeout=10)
    assert message.type is WSMsgType.PING
    await ws.pong(message.data)
    await ws.send_str(big)
    message = await ws.receive(timeout=10)
    while message.type is WSMsgType.PING:
        message = await ws.receive(timeout=10)
    assert message.type is WSMsgType.CLOSE
    assert message.data == WSCloseCode.MESSAGE_TOO_BIG

    ws = await client.ws_connect("/roomy")
    await ws.send_str(big)
    assert await ws.receive_str(timeout=10) == "2048 bytes"
    await ws.close()


def test_bad_values_name_the_argument() -> None:
    with pytest.raises(ValueError, match="max_async_requests must be an integer >= 1"):
        LoopLimits(max_async_requests=0)
    with pytest.raises(ValueError, match="max_websockets must be an integer >= 1"):
        LoopLimits(max_websockets=2.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="websocket_heartbeat must be a number of seconds"):
        WebSocketDefaults(heartbeat=-1)
    with pytest.raises(ValueError, match="websocket_max_msg_size must be an integer >= 0"):
        WebSocketDefaults(max_msg_size=-1)


def test_the_command_line_refuses_them_for_a_wsgi_application() -> None:
    result = run_cli("tests.server.apps:application", "--max-websockets", "5")
    assert result.returncode == 2
    assert "WSGI application" in result.stderr and "--max-websockets" in result.stderr


def test_help_lists_them() -> None:
    result = run_cli("--help")
    for flag in (
        "--max-async-requests",
        "--max-websockets",
        "--websocket-heartbeat",
        "--websocket-max-msg-size",
    ):
        assert flag in result.stdout
