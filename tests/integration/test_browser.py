"""The chat room in a real browser: two people logged in, one talks, the other sees it.

Playwright drives the system's Chromium (``AIODJANGO_CHROMIUM`` or ``chromium`` on the
PATH); ``python3 dev.py test`` installs it where it is missing. The chat's screenshot goes to
the test's own directory; with ``AIODJANGO_UPDATE_SCREENSHOTS=1`` it replaces the one in the
docs.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.async_api import Browser, BrowserContext, Page, expect

from tests.support.processes import ROOT, ServerProcess

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]
SCREENSHOT = ROOT / "docs" / "_static" / "screenshots" / "chat.png"


async def log_in(browser: Browser, server: ServerProcess, username: str) -> BrowserContext:
    context = await browser.new_context(base_url=f"http://127.0.0.1:{server.port}")
    page = await context.new_page()
    await page.goto("/accounts/login/?next=/chat/")
    await page.fill("#id_username", username)
    await page.fill("#id_password", "aiodjango-demo")
    await page.click("button[type=submit]")
    await expect(page.locator("#whoami")).to_have_text(username)
    await page.close()
    return context


async def open_chat(context: BrowserContext) -> Page:
    page = await context.new_page()
    await page.goto("/chat/")
    await expect(page.locator("#status")).to_have_text("connected")
    return page


async def test_two_people_chat(
    browser: Browser, example_server: ServerProcess, tmp_path: Path
) -> None:
    alice = await open_chat(await log_in(browser, example_server, "alice"))
    bob = await open_chat(await log_in(browser, example_server, "bob"))

    await alice.fill("#chat-input", "Hello Bob, this came over a websocket")
    await alice.press("#chat-input", "Enter")

    line = bob.locator("#messages li").last
    await expect(line.locator(".user")).to_have_text("alice", timeout=1000)
    await expect(line.locator(".text")).to_have_text(
        "Hello Bob, this came over a websocket", timeout=1000
    )

    await bob.fill("#chat-input", "Hi Alice!")
    await bob.press("#chat-input", "Enter")
    await expect(alice.locator("#messages li").last.locator(".user")).to_have_text(
        "bob", timeout=1000
    )

    screenshot = (
        SCREENSHOT if os.environ.get("AIODJANGO_UPDATE_SCREENSHOTS") else tmp_path / "chat.png"
    )
    await bob.screenshot(path=str(screenshot), full_page=True)
    assert screenshot.read_bytes().startswith(b"\x89PNG")


async def test_anonymous_visitor_gets_no_socket(
    browser: Browser, example_server: ServerProcess
) -> None:
    context = await browser.new_context(base_url=f"http://127.0.0.1:{example_server.port}")
    page = await context.new_page()
    sockets: list[str] = []
    page.on("websocket", lambda socket: sockets.append(socket.url))
    await page.goto("/chat/")
    await expect(page).to_have_url(
        f"http://127.0.0.1:{example_server.port}/accounts/login/?next=/chat/"
    )
    await expect(page.locator("#id_username")).to_be_visible()
    assert [url for url in sockets if "/chat/socket/" in url] == []


async def test_home_page_shows_both_halves(browser: Browser, example_server: ServerProcess) -> None:
    context = await browser.new_context(base_url=f"http://127.0.0.1:{example_server.port}")
    page = await context.new_page()
    await page.goto("/")
    await expect(page.locator("#django-half")).to_contain_text("rendered by a normal Django view")
    await expect(page.locator("#clock")).to_contain_text("aiohttp")
    await page.click("#echo-send")
    await expect(page.locator("#echo-reply")).to_have_text("echo: hello")
