"""aiodjango.groups in one process, over real sockets: joining, relaying, the slow-receiver rule,
closing through a group, event streams, leaving, and a classic Redis layer that restarts."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from channels.layers import channel_layers
from django.test import override_settings

from aiodjango import get_aio_application
from aiodjango.groups import aclose_group, agroup_send, channel_layer, join
from aiodjango.groups.members import Membership
from aiodjango.groups.relay import existing_relays
from aiodjango.server import close_websockets_on_shutdown
from tests.support.redis import RedisServer
from tests.support.servers import AiohttpClient
from tests.support.waiting import settle

pytestmark = pytest.mark.timeout(60)
Client = TestClient[web.Request, web.Application]


class Room:
    """A test app whose ``/ws/`` and ``/events/`` join the groups named in ``?groups=``."""

    def __init__(self, **options: Any) -> None:
        self.options = options
        self.members: list[Membership] = []
        self.app = web.Application()
        self.app.router.add_get("/ws/", self.websocket)
        self.app.router.add_get("/events/", self.events)
        close_websockets_on_shutdown(self.app)

    async def websocket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        async with join(request, ws, *request.query["groups"].split(","), **self.options) as m:
            self.members.append(m)
            await ws.send_str("joined")
            async for _ in ws:
                pass
        return ws

    async def events(self, request: web.Request) -> web.StreamResponse:
        stream = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await stream.prepare(request)
        async with join(request, stream, *request.query["groups"].split(","), **self.options) as m:
            self.members.append(m)
            m.send({"type": "joined"})
            await m.wait_closed()
        return stream


ServeRoom = Callable[..., Awaitable[tuple[Room, Client]]]


@pytest.fixture
def serve_room(aiohttp_client: AiohttpClient) -> ServeRoom:
    """Serve a :class:`Room` made with ``join()`` options on a real socket."""

    async def serve(**options: Any) -> tuple[Room, Client]:
        room = Room(**options)
        return room, await aiohttp_client(room.app)

    return serve


async def member(client: Client, groups: str) -> aiohttp.ClientWebSocketResponse:
    ws = await client.ws_connect(f"/ws/?groups={groups}")
    assert await ws.receive_str(timeout=10) == "joined"
    return ws


def layer_groups() -> dict[str, Any]:
    """The in-memory layer's memberships (the suite sets no CHANNEL_LAYERS)."""
    return channel_layer().groups  # type: ignore[no-any-return]


async def test_group_messages_reach_the_members_of_that_group_only(serve_room: ServeRoom) -> None:
    _room, client = await serve_room()
    chat = [await member(client, "chat") for _ in range(3)]
    other = await member(client, "other")
    await agroup_send("chat", {"type": "line", "text": "hello"})
    for ws in chat:
        assert json.loads(await ws.receive_str(timeout=10)) == {"type": "line", "text": "hello"}
    await agroup_send("other", {"type": "line", "text": "elsewhere"})
    assert json.loads(await other.receive_str(timeout=10))["text"] == "elsewhere"
    # One layer channel for the group in this process, whatever the number of members.
    assert len(layer_groups()["chat"]) == 1
    for ws in [*chat, other]:
        await ws.close()


async def test_leaving_the_last_member_leaves_the_layer_group(serve_room: ServeRoom) -> None:
    room, client = await serve_room()
    sockets = [await member(client, "leaving") for _ in range(2)]
    assert "leaving" in layer_groups()
    await sockets[0].close()
    await settle(lambda: len(room.members) == 2 and room.members[0].closed)
    assert "leaving" in layer_groups()  # one member is still there
    await sockets[1].close()
    assert await settle(lambda: "leaving" not in layer_groups())
    relays = existing_relays(asyncio.get_running_loop())
    assert relays is not None and "leaving" not in relays.groups


async def test_shutdown_closes_with_1001_and_leaves_every_group(serve_room: ServeRoom) -> None:
    _room, client = await serve_room()
    sockets = [await member(client, f"shutdown-{n}") for n in range(3)]
    assert {f"shutdown-{n}" for n in range(3)} <= set(layer_groups())
    await client.server.close()  # the app's shutdown: websockets closed with 1001
    for ws in sockets:
        message = await ws.receive(timeout=10)
        assert (message.type, message.data) == (aiohttp.WSMsgType.CLOSE, 1001)
    assert not {f"shutdown-{n}" for n in range(3)} & set(layer_groups())


async def test_close_group_closes_its_members_with_the_code_and_reason(
    serve_room: ServeRoom,
) -> None:
    _room, client = await serve_room()
    closing, staying = await member(client, "closing"), await member(client, "staying")
    await aclose_group("closing", 4000, "bye")
    message = await closing.receive(timeout=10)
    assert (message.type, message.data, message.extra) == (aiohttp.WSMsgType.CLOSE, 4000, "bye")
    await agroup_send("staying", {"type": "still", "here": True})
    assert json.loads(await staying.receive_str(timeout=10))["here"] is True
    await staying.close()


def silent_client(port: int, path: str) -> socket.socket:
    """A websocket client that never reads after the handshake, with a tiny receive window."""
    raw = socket.socket()
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    raw.connect(("127.0.0.1", port))
    raw.sendall(
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
        "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        "Sec-WebSocket-Version: 13\r\n\r\n".encode()
    )
    raw.settimeout(10)
    assert raw.recv(12) == b"HTTP/1.1 101"
    return raw


async def test_a_member_that_does_not_read_is_dropped_and_delays_no_one(
    serve_room: ServeRoom,
) -> None:
    room, client = await serve_room(max_queued=4)
    fast = await member(client, "slow-test")
    assert client.port is not None
    silent = await asyncio.to_thread(silent_client, client.port, "/ws/?groups=slow-test")
    assert await settle(lambda: len(room.members) == 2)
    slow = room.members[1]
    big = "y" * (256 * 1024)  # a few dozen of these fill every buffer between us and it
    worst = 0.0
    for number in range(60):
        started = asyncio.get_running_loop().time()
        await agroup_send("slow-test", {"type": "big", "n": number, "text": big})
        assert json.loads(await fast.receive_str(timeout=10))["n"] == number
        worst = max(worst, asyncio.get_running_loop().time() - started)
        assert slow.queued <= 4
    assert slow.closed, "the silent member was never found too slow"
    assert worst < 2.0
    with silent:
        assert await asyncio.to_thread(dropped, silent)
    await fast.close()


def dropped(raw: socket.socket) -> bool:
    """Whether the server dropped the connection: what is buffered, then a reset or the end."""
    raw.settimeout(10)
    try:
        while raw.recv(1 << 20):
            pass
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False
    return True


async def test_event_streams_get_one_event_per_message(aiohttp_client: AiohttpClient) -> None:
    room = Room(render=lambda message: f"{message['type']}\nline two")
    client = await aiohttp_client(room.app)
    async with client.get("/events/?groups=stream") as response:
        assert response.headers["Content-Type"] == "text/event-stream"
        assert await response.content.readuntil(b"\n\n") == b"data: joined\ndata: line two\n\n"
        await agroup_send("stream", {"type": "news"})
        assert await response.content.readuntil(b"\n\n") == b"data: news\ndata: line two\n\n"
        await aclose_group("stream")
        assert await response.content.read() == b""  # the stream ended


async def test_join_needs_a_prepared_response_and_a_positive_bound(
    aiohttp_client: AiohttpClient,
) -> None:
    errors: list[str] = []

    async def handler(request: web.Request) -> web.Response:
        response = web.Response()
        try:
            async with join(request, response, "never"):
                pass
        except RuntimeError as error:
            errors.append(str(error))
        with pytest.raises(ValueError, match="max_queued must be at least 1, not 0"):
            join(request, response, "never", max_queued=0)
        return response

    app = web.Application()
    app.router.add_get("/", handler)
    client = await aiohttp_client(app)
    async with client.get("/") as response:
        assert response.status == 200
    assert errors == ["join() needs a prepared response: await prepare() first"]


@pytest.fixture
def classic_redis_layer(redis_server: RedisServer) -> Iterator[None]:
    layers = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [redis_server.url]},
        }
    }
    with override_settings(CHANNEL_LAYERS=layers):
        yield
    channel_layers.backends.clear()


async def test_the_classic_redis_layer_is_joined_again_after_a_restart(
    serve_room: ServeRoom,
    redis_server: RedisServer,
    classic_redis_layer: None,
) -> None:
    _room, client = await serve_room()
    ws = await member(client, "restarting")
    await agroup_send("restarting", {"type": "before"})
    assert json.loads(await ws.receive_str(timeout=10))["type"] == "before"
    redis_server.kill()
    redis_server.start()  # empty: the classic layer's memberships are gone
    deadline = asyncio.get_running_loop().time() + 20
    while True:
        assert asyncio.get_running_loop().time() < deadline, "never joined again"
        try:
            await agroup_send("restarting", {"type": "after"})
            message = await ws.receive(timeout=1)
        except (TimeoutError, OSError, ConnectionError):
            continue
        except Exception as error:  # redis-py's own ConnectionError while it reconnects
            if "connect" not in type(error).__name__.lower():
                raise
            continue
        assert json.loads(message.data)["type"] == "after"
        break
    await ws.close()


async def test_a_message_render_cannot_handle_closes_the_socket_with_1011(
    serve_room: ServeRoom, caplog: pytest.LogCaptureFixture
) -> None:
    def render(message: dict[str, Any]) -> str:
        return str(message["text"])  # KeyError for a message without text

    _room, client = await serve_room(render=render)
    ws = await member(client, "rendering")
    await agroup_send("rendering", {"type": "note", "text": "fine"})
    assert await ws.receive_str(timeout=10) == "fine"
    await agroup_send("rendering", {"type": "note"})
    message = await ws.receive(timeout=10)
    assert (message.type, message.data) == (aiohttp.WSMsgType.CLOSE, 1011)
    assert "a group message could not be sent" in caplog.text


async def test_async_to_sync_in_django_views_runs_on_the_serving_loop(
    aiohttp_client: AiohttpClient,
) -> None:
    with override_settings(ROOT_URLCONF="tests.realtime.urls"):
        client = await aiohttp_client(get_aio_application(urlconf="tests.realtime.urls"))
        ws = await client.ws_connect("/room/")
        assert await ws.receive_str(timeout=10) == "joined"
        # asgiref is pointed at the loop serving the group members, as Channels' servers do.
        async with client.get("/loop/") as response:
            assert await response.text() == str(id(asyncio.get_running_loop()))
        async with client.get("/send/", params={"text": "from a sync view"}) as response:
            assert await response.text() == "sent"
        assert json.loads(await ws.receive_str(timeout=10))["text"] == "from a sync view"
        await ws.close()
