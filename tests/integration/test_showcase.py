"""The example project's showcase over real sockets: login, chat, live feed, downloads, admin."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from tests.support.example import PASSWORD, base, logged_in
from tests.support.processes import ServerProcess, environment

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]


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


async def closed_with(socket: aiohttp.ClientWebSocketResponse) -> int | None:
    """The close code the server sends (within 10 s), skipping the events before it."""
    async with asyncio.timeout(10):
        while True:
            message = await socket.receive()
            if message.type == aiohttp.WSMsgType.CLOSE:
                return message.data  # type: ignore[no-any-return]
            if message.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR):
                return None


async def post_form(client: aiohttp.ClientSession, url: str, form: dict[str, str]) -> int:
    """Post a Django form with the CSRF token of its page; the response status."""
    async with client.get(url) as response:
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', await response.text())
    assert token is not None, url
    async with client.post(
        url, data={**form, "csrfmiddlewaretoken": token[1]}, allow_redirects=False
    ) as response:
        return response.status


async def test_feed_needs_a_login(example_server: ServerProcess) -> None:
    async with (
        aiohttp.ClientSession() as anonymous,
        anonymous.get(f"{base(example_server)}/feed/", allow_redirects=False) as response,
    ):
        assert response.status == 302
        assert response.headers["Location"] == "/accounts/login/?next=/feed/"


async def test_logout_closes_the_sessions_chat_socket(
    example_server: ServerProcess, alice: aiohttp.ClientSession
) -> None:
    async with alice.ws_connect(f"{base(example_server)}/chat/socket/") as socket:
        await next_event(socket, "welcome")
        async with alice.get(f"{base(example_server)}/chat/") as page:
            token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', await page.text())
        assert token is not None
        async with alice.post(
            f"{base(example_server)}/accounts/logout/",
            data={"csrfmiddlewaretoken": token[1]},
            allow_redirects=False,
        ) as response:
            assert response.status == 302
        assert await closed_with(socket) == 1008


async def test_password_change_closes_the_users_sockets(
    example_server: ServerProcess, bob: aiohttp.ClientSession
) -> None:
    async with bob.ws_connect(f"{base(example_server)}/chat/socket/") as socket:
        await next_event(socket, "welcome")
        new = "another-demo-password-42"
        form = {"old_password": PASSWORD, "new_password1": new, "new_password2": new}
        status = await post_form(bob, f"{base(example_server)}/accounts/password_change/", form)
        assert status == 302
        assert await closed_with(socket) == 1008


async def test_a_socket_whose_session_was_deleted_cannot_speak(
    example_server: ServerProcess, example_project: Path, alice: aiohttp.ClientSession
) -> None:
    async with alice.ws_connect(f"{base(example_server)}/chat/socket/") as socket:
        await next_event(socket, "welcome")
        # No signal tells the server: the sessions vanish from the database behind its back.
        code = "from django.contrib.sessions.models import Session; Session.objects.all().delete()"
        await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "manage.py", "shell", "-c", code],
            cwd=example_project,
            env=environment(),
            check=True,
            timeout=60,
        )
        await socket.send_str("said after the session ended")
        assert await closed_with(socket) == 1008
    count = "from showcase.models import Message; print(Message.objects.count())"
    result = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "manage.py", "shell", "-c", count],
        cwd=example_project,
        env=environment(),
        check=True,
        timeout=60,
        capture_output=True,
        text=True,
    )
    assert result.stdout.strip().splitlines()[-1] == "0"


async def test_a_staff_announcement_from_a_sync_view_reaches_the_chat(
    example_server: ServerProcess, alice: aiohttp.ClientSession, bob: aiohttp.ClientSession
) -> None:
    url = f"{base(example_server)}/announce/"
    async with bob.get(url, allow_redirects=False) as response:
        assert response.status == 302  # staff only
    async with bob.ws_connect(f"{base(example_server)}/chat/socket/") as socket:
        await next_event(socket, "welcome")
        assert await post_form(alice, url, {"text": "tea in five"}) == 200
        event = await next_event(socket, "announcement")
        assert (event["user"], event["text"]) == ("alice", "tea in five")


@pytest.mark.parametrize(("concurrency", "warned"), [("1", False), ("4", True)])
def test_check_warns_about_the_in_memory_layer_with_several_workers(
    example_project: Path, concurrency: str, warned: bool
) -> None:
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=example_project,
        env=environment(WEB_CONCURRENCY=concurrency),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert ("aiodjango.W020" in result.stderr + result.stdout) is warned
    if warned:
        assert "WEB_CONCURRENCY asks for 4 worker processes" in result.stderr
