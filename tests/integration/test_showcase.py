"""The example project's showcase over real sockets: login, chat, live feed, downloads, admin."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator

import aiohttp
import pytest

from tests.support.processes import ServerProcess

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]
PASSWORD = "aiodjango-demo"


def base(server: ServerProcess) -> str:
    return f"http://127.0.0.1:{server.port}"


async def logged_in(server: ServerProcess, username: str) -> aiohttp.ClientSession:
    """A client session logged in through Django's login form, CSRF token and all."""
    client = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
    async with client.get(f"{base(server)}/accounts/login/") as response:
        page = await response.text()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert token is not None
    form = {"username": username, "password": PASSWORD, "csrfmiddlewaretoken": token[1]}
    async with client.post(
        f"{base(server)}/accounts/login/", data=form, allow_redirects=False
    ) as response:
        assert response.status == 302, await response.text()
    return client


@pytest.fixture
async def alice(example_server: ServerProcess) -> AsyncIterator[aiohttp.ClientSession]:
    client = await logged_in(example_server, "alice")
    yield client
    await client.close()


@pytest.fixture
async def bob(example_server: ServerProcess) -> AsyncIterator[aiohttp.ClientSession]:
    client = await logged_in(example_server, "bob")
    yield client
    await client.close()


async def next_event(socket: aiohttp.ClientWebSocketResponse, kind: str) -> dict[str, object]:
    """The next event of type ``kind`` on the chat socket (presence notes are skipped over)."""
    while True:
        event = json.loads(await socket.receive_str(timeout=10))
        if event["type"] == kind:
            return event  # type: ignore[no-any-return]


async def test_chat_messages_reach_everyone_with_their_sender(
    example_server: ServerProcess, alice: aiohttp.ClientSession, bob: aiohttp.ClientSession
) -> None:
    url = f"{base(example_server)}/chat/socket/"
    origin = {"Origin": base(example_server)}
    async with alice.ws_connect(url, headers=origin) as a, bob.ws_connect(url, headers=origin) as b:
        await next_event(b, "presence")
        await a.send_str("hello from alice")
        for socket in (a, b):
            event = await next_event(socket, "message")
            assert (event["user"], event["text"]) == ("alice", "hello from alice")
        await b.send_str("hi alice")
        event = await next_event(a, "message")
        assert (event["user"], event["text"]) == ("bob", "hi alice")

    # Saved with the async ORM: the Django-rendered room page shows the history.
    async with bob.get(f"{base(example_server)}/chat/") as response:
        page = await response.text()
    assert page.index("hello from alice") < page.index("hi alice")


async def test_anonymous_chat_socket_is_refused(example_server: ServerProcess) -> None:
    async with aiohttp.ClientSession() as anonymous:
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await anonymous.ws_connect(f"{base(example_server)}/chat/socket/")
        assert refused.value.status == 403
        async with anonymous.get(f"{base(example_server)}/chat/", allow_redirects=False) as page:
            assert page.status == 302
            assert page.headers["Location"] == "/accounts/login/?next=/chat/"


async def test_cross_origin_chat_socket_is_refused(
    example_server: ServerProcess, alice: aiohttp.ClientSession
) -> None:
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await alice.ws_connect(
            f"{base(example_server)}/chat/socket/", headers={"Origin": "http://evil.example"}
        )
    assert refused.value.status == 403


async def test_live_feed_carries_chat_messages(
    example_server: ServerProcess, alice: aiohttp.ClientSession
) -> None:
    async with alice.get(f"{base(example_server)}/feed/") as feed:
        assert feed.headers["Content-Type"] == "text/event-stream"
        async with alice.ws_connect(f"{base(example_server)}/chat/socket/") as socket:
            await socket.send_str("news for the feed")
            async with asyncio.timeout(10):
                async for line in feed.content:
                    if line.startswith(b"data: "):
                        event = json.loads(line[6:])
                        if event["type"] == "message":
                            break
    assert (event["user"], event["text"]) == ("alice", "news for the feed")


async def test_streamed_download(example_server: ServerProcess) -> None:
    received = 0
    async with (
        aiohttp.ClientSession() as client,
        client.get(f"{base(example_server)}/download/stream/?mib=8") as response,
    ):
        assert response.status == 200
        assert response.headers["Content-Disposition"] == 'attachment; filename="stream.txt"'
        async for chunk in response.content.iter_chunked(1 << 16):
            received += len(chunk)
    assert received == 8 * 1024 * 1024


async def test_file_download(example_server: ServerProcess) -> None:
    async with (
        aiohttp.ClientSession() as client,
        client.get(f"{base(example_server)}/download/file/") as response,
    ):
        assert response.status == 200
        assert "sample.bin" in response.headers["Content-Disposition"]
        body = await response.read()
    assert len(body) == 32 * 1024 * 1024 == int(response.headers["Content-Length"])


async def test_admin_for_alice(example_server: ServerProcess, alice: aiohttp.ClientSession) -> None:
    async with alice.get(f"{base(example_server)}/admin/showcase/message/") as response:
        assert response.status == 200
        assert "Select message to change" in await response.text()
