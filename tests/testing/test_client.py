"""aiodjango.testing's clients and fixtures, on Django views, lifted views and websockets."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from asgiref.sync import sync_to_async
from django.contrib.auth.models import User

from aiodjango import get_aio_application
from aiodjango.testing import AioClient, LiveServer, SyncClient

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse battery"


@pytest.fixture
def aio_app(settings: Any) -> web.Application:
    """The plugin's fixture, overridden as a project would: this module's URLconf."""
    settings.ROOT_URLCONF = "tests.testing.urls"
    return get_aio_application()


def make_alice() -> User:
    return User.objects.create_user("alice", password=PASSWORD)


async def texts(client: AioClient, *paths: str) -> list[str]:
    return [await (await client.get(path)).text() for path in paths]


async def test_one_client_reaches_django_and_lifted_views(aio_client: AioClient) -> None:
    assert await texts(aio_client, "/whoami/", "/lifted/whoami/") == ["anonymous", "anonymous"]
    response = await aio_client.get("/private/")
    assert response.status == 302
    assert response.headers["Location"] == "/login/?next=/private/"


async def test_force_login_then_logout(aio_client: AioClient) -> None:
    alice = await sync_to_async(make_alice)()
    await aio_client.force_login(alice)
    assert await texts(aio_client, "/whoami/", "/lifted/whoami/") == ["alice", "alice"]
    assert await (await aio_client.get("/private/")).text() == "private page of alice"

    old_session = aio_client.cookie("sessionid")
    assert old_session is not None
    await aio_client.logout()
    assert aio_client.cookie("sessionid") is None
    assert await texts(aio_client, "/whoami/", "/lifted/whoami/") == ["anonymous", "anonymous"]
    # The session was flushed on the server: the old cookie no longer logs anyone in.
    aio_client.set_cookie("sessionid", old_session)
    assert await texts(aio_client, "/whoami/") == ["anonymous"]


async def test_login_with_credentials(aio_client: AioClient) -> None:
    await sync_to_async(make_alice)()
    assert not await aio_client.login(username="alice", password="wrong")
    assert await texts(aio_client, "/whoami/") == ["anonymous"]
    assert await aio_client.login(username="alice", password=PASSWORD)
    assert await texts(aio_client, "/whoami/", "/lifted/whoami/") == ["alice", "alice"]


async def test_csrf_is_taken_care_of_unless_enforced(aio_client: AioClient, aio_app: Any) -> None:
    response = await aio_client.post("/submit/", data={"a": "1"})
    assert response.status == 200
    assert await response.json() == {"method": "POST", "form": {"a": "1"}}
    response = await aio_client.post("/lifted/submit/", data={"b": "2"})
    assert response.status == 200
    assert await response.json() == {"form": {"b": "2"}}
    # A token the test sends itself is left alone: a wrong one is refused.
    response = await aio_client.post("/submit/", headers={"X-CSRFToken": "x" * 32})
    assert response.status == 403

    async with AioClient(get_aio_application(), enforce_csrf_checks=True) as strict:
        for path in ("/submit/", "/lifted/submit/"):
            response = await strict.post(path, data={"a": "1"})
            assert response.status == 403, path
        assert strict.cookie("csrftoken") is None


async def test_websocket_as_a_logged_in_user(aio_client: AioClient) -> None:
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await aio_client.websocket("/ws/user/")
    assert refused.value.status == 403

    await aio_client.force_login(await sync_to_async(make_alice)())
    async with await aio_client.websocket("/ws/user/") as socket:
        await socket.send_json({"n": 1})
        assert await socket.receive_json() == {"from": "alice", "got": {"n": 1}}
        await socket.send_text("not json")
    assert socket.close_code is not None


async def test_a_websocket_that_stays_silent_fails_after_the_timeout(
    aio_client: AioClient,
) -> None:
    async with await aio_client.websocket("/ws/silent/", timeout=0.3) as socket:
        started = time.monotonic()
        with pytest.raises(TimeoutError, match=r"no websocket message within 0\.3 s"):
            await socket.receive_json()
        assert time.monotonic() - started < 5
        with pytest.raises(TimeoutError, match=r"within 0\.1 s"):
            await socket.receive_text(timeout=0.1)


def test_sync_style_on_the_live_server(aio_sync_client: SyncClient) -> None:
    assert aio_sync_client.get("/whoami/").text == "anonymous"
    aio_sync_client.force_login(make_alice())
    assert aio_sync_client.get("/lifted/whoami/").text == "alice"
    response = aio_sync_client.post("/submit/", data={"c": "3"})
    assert (response.status, response.json()["form"]) == (200, {"c": "3"})
    with aio_sync_client.websocket("/ws/user/") as socket:
        socket.send_json(["hi"])
        assert socket.receive_json() == {"from": "alice", "got": ["hi"]}
    aio_sync_client.logout()
    assert aio_sync_client.get("/whoami/").text == "anonymous"
    assert not aio_sync_client.login(username="alice", password="wrong")
    assert aio_sync_client.login(username="alice", password=PASSWORD)
    assert aio_sync_client.get("/whoami/").text == "alice"


def test_the_live_server_serves_a_real_socket_and_stops(aio_live_server: LiveServer) -> None:
    import urllib.request

    with urllib.request.urlopen(f"{aio_live_server.url}/whoami/", timeout=30) as response:
        assert response.read() == b"anonymous"
    port = aio_live_server.port
    aio_live_server.stop()
    with pytest.raises(OSError):
        urllib.request.urlopen(f"http://127.0.0.1:{port}/whoami/", timeout=5)
    aio_live_server.stop()  # a second stop, then the fixture's, do nothing


def test_the_plugin_is_registered_and_imports_no_django() -> None:
    code = (
        "import importlib.metadata as m, sys; "
        "points = [e.value for e in m.entry_points(group='pytest11') if e.name == 'aiodjango']; "
        "import aiodjango.testing.plugin; "
        "print(points, sorted(n for n in sys.modules if n.split('.')[0] == 'django'))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert result.stdout.strip() == "['aiodjango.testing.plugin'] []"
