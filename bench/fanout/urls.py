"""The aiodjango side: a lifted websocket view in the group ``fanout``, sent each message's text."""

from aiohttp import web
from django.urls import path

from aiodjango.groups import join


async def fanout(request: web.Request) -> web.WebSocketResponse:
    ws = web.WebSocketResponse()
    await ws.prepare(request)
    async with join(request, ws, "fanout", render=lambda message: message["text"]):
        async for _ in ws:
            pass
    return ws


urlpatterns = [path("ws/", fanout)]
