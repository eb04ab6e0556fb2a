"""The example project tested in the sync style, on a live server in a thread.

``aio_sync_client`` is a client of ``aio_live_server`` for tests written without ``async``;
``aio_live_server.url`` is where a browser (Playwright here) finds the project.
"""

import os
import shutil

from django.contrib.auth.models import User
from playwright.sync_api import expect, sync_playwright

from aiodjango.testing import LiveServer, SyncClient

PASSWORD = "a password for tests"


def test_pages_logins_and_websockets(aio_sync_client: SyncClient) -> None:
    assert "rendered by a normal Django view" in aio_sync_client.get("/").text
    assert aio_sync_client.get("/chat/").status == 302

    alice = User.objects.create_user("alice", password=PASSWORD)  # plain ORM: no event loop
    aio_sync_client.force_login(alice)
    assert aio_sync_client.get("/chat/").status == 200

    with aio_sync_client.websocket("/ws/echo/") as echo:
        echo.send_text("ping")
        assert echo.receive_text(timeout=5) == "echo: ping"

    aio_sync_client.logout()
    assert aio_sync_client.get("/chat/").status == 302


def test_in_a_browser(aio_live_server: LiveServer, aio_sync_client: SyncClient) -> None:
    alice = User.objects.create_user("alice", password=PASSWORD)
    aio_sync_client.force_login(alice)  # the session cookie the browser will carry
    session = aio_sync_client.cookie("sessionid")
    assert session is not None

    chromium = os.environ.get("AIODJANGO_CHROMIUM") or shutil.which("chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        context = browser.new_context(base_url=aio_live_server.url)
        context.add_cookies([{"name": "sessionid", "value": session, "url": aio_live_server.url}])
        page = context.new_page()
        page.goto("/chat/")
        expect(page).to_have_url(f"{aio_live_server.url}/chat/")  # logged in: no redirect
        browser.close()
