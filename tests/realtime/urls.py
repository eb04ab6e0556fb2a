"""A lifted websocket in the group ``room``, and sync Django views that use async_to_sync."""

import asyncio

from aiohttp import web
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.http import HttpRequest, HttpResponse
from django.urls import path

from aiodjango.groups import channel_layer, join


async def room(request: web.Request) -> web.WebSocketResponse:
    ws = web.WebSocketResponse()
    await ws.prepare(request)
    async with join(request, ws, "room"):
        await ws.send_str("joined")
        async for _ in ws:
            pass
    return ws


async def running_loop_id() -> int:
    return id(asyncio.get_running_loop())


def loop_of_async_to_sync(request: HttpRequest) -> HttpResponse:
    """Which loop ``async_to_sync`` runs on in a Django view (the serving loop, once known)."""
    return HttpResponse(str(async_to_sync(running_loop_id)()))


def channels_group_send(request: HttpRequest) -> HttpResponse:
    """Code written for Channels, unchanged (with the layer Channels' settings name)."""
    layer = get_channel_layer() or channel_layer()
    async_to_sync(layer.group_send)("room", {"type": "note", "text": request.GET["text"]})
    return HttpResponse("sent")


urlpatterns = [
    path("room/", room),
    path("loop/", loop_of_async_to_sync),
    path("send/", channels_group_send),
]
