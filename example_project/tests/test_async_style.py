"""The example project tested in the async style, with aiodjango's ``aio_client`` fixture.

``aio_client`` serves the project's aiohttp application on a free port of 127.0.0.1 for the
test: Django views, lifted coroutine views and websockets answer through one client.
"""

import aiohttp
import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth.models import User

from aiodjango.testing import AioClient

PASSWORD = "a password for tests"


@pytest.fixture
async def alice() -> User:
    # The ORM is synchronous: from a coroutine, call it through sync_to_async.
    return await sync_to_async(User.objects.create_user)("alice", password=PASSWORD)


async def test_django_views_and_lifted_views(aio_client: AioClient) -> None:
    home = await aio_client.get("/")  # a Django view, in a worker thread
    assert home.status == 200
    assert "rendered by a normal Django view" in await home.text()

    clock = await aio_client.get("/api/clock/")  # a coroutine view, lifted onto aiohttp
    assert (await clock.json())["served_by"].startswith("aiohttp ")


async def test_logging_in_and_out(aio_client: AioClient, alice: User) -> None:
    response = await aio_client.get("/chat/")
    assert response.status == 302  # login_required sends anonymous users to the login page

    await aio_client.force_login(alice)  # no password needed
    assert (await aio_client.get("/chat/")).status == 200

    await aio_client.logout()
    assert (await aio_client.get("/chat/")).status == 302

    assert await aio_client.login(username="alice", password=PASSWORD)
    assert (await aio_client.get("/chat/")).status == 200


async def test_posting_a_form_without_caring_about_csrf(aio_client: AioClient, alice: User) -> None:
    # Like Django's test client, aio_client sends a valid CSRF token with unsafe requests.
    response = await aio_client.post(
        "/accounts/login/", data={"username": "alice", "password": PASSWORD}
    )
    assert response.status == 302
    assert (await aio_client.get("/chat/")).status == 200


async def test_a_websocket_as_a_logged_in_user(aio_client: AioClient, alice: User) -> None:
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await aio_client.websocket("/chat/socket/")
    assert refused.value.status == 403  # anonymous users may not join the chat

    await aio_client.force_login(alice)
    async with await aio_client.websocket("/chat/socket/") as chat:
        await chat.send_text("hello from a test")
        # Each receive fails the test after a timeout (10 s unless told) instead of hanging.
        while "hello from a test" not in str(await chat.receive_json(timeout=5)):
            pass
