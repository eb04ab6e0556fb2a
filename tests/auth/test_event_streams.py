"""Event streams from lifted views carry ``X-Accel-Buffering: no`` for the proxy in front."""

from __future__ import annotations

import pytest
from aiohttp import web
from pytest_django import Settings

from tests.support.servers import ServeLifted


async def events(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
    await response.prepare(request)
    await response.write(b"data: one\n\n")
    return response


async def buffered_events(request: web.Request) -> web.StreamResponse:
    """An event stream whose view lets the proxy buffer it, deliberately."""
    response = web.StreamResponse(
        headers={"Content-Type": "text/event-stream; charset=utf-8", "X-Accel-Buffering": "yes"}
    )
    await response.prepare(request)
    await response.write(b"data: one\n\n")
    return response


async def page(request: web.Request) -> web.Response:
    return web.Response(text="a page")


@pytest.mark.parametrize("middleware", ["default", "none"])
async def test_only_event_streams_are_marked_unbuffered(
    serve_lifted: ServeLifted, settings: Settings, middleware: str
) -> None:
    """With or without middleware adding headers of its own (then no other hook runs)."""
    if middleware == "none":
        settings.MIDDLEWARE = []
    client = await serve_lifted(events=events, buffered_events=buffered_events, page=page)
    response = await client.get("/events/")
    assert response.headers["X-Accel-Buffering"] == "no"
    assert await response.text() == "data: one\n\n"
    # The view's own choice is kept.
    response = await client.get("/buffered-events/")
    assert response.headers.getall("X-Accel-Buffering") == ["yes"]
    response = await client.get("/page/")
    assert "X-Accel-Buffering" not in response.headers
    assert ("X-Content-Type-Options" in response.headers) is (middleware == "default")
