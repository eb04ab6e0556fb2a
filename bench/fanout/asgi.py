"""``uvicorn bench.fanout.asgi:application``: the same endpoint as a Channels consumer."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.fanout.settings")

from typing import Any

from channels.generic.websocket import AsyncWebsocketConsumer
from channels.routing import ProtocolTypeRouter, URLRouter
from django.core.asgi import get_asgi_application
from django.urls import path

http = get_asgi_application()


class Fanout(AsyncWebsocketConsumer):  # type: ignore[misc]
    """Joins the group ``fanout`` and sends each message's text, as Channels' tutorial does."""

    async def connect(self) -> None:
        await self.channel_layer.group_add("fanout", self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        await self.channel_layer.group_discard("fanout", self.channel_name)

    async def fanout_message(self, event: dict[str, Any]) -> None:
        await self.send(text_data=event["text"])


application = ProtocolTypeRouter(
    {"http": http, "websocket": URLRouter([path("ws/", Fanout.as_asgi())])}
)
