"""The showcase's views: Django views (served through the WSGI adapter) and coroutine
views (lifted by aiodjango onto aiohttp), side by side in one URLconf."""

import asyncio
import logging
import os
import platform
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import django
from aiohttp import web
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import login_required as django_login_required
from django.http import FileResponse, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render

from aiodjango import get_user, login_required
from aiodjango.groups import LOGGED_OUT, agroup_send, group_send, join, refresh_user

from .models import Message

logger = logging.getLogger(__name__)

MiB = 1024 * 1024
#: The chat room's group: every chat socket and feed, on every worker that shares the layer.
ROOM = "chat"
SAMPLE_FILE_SIZE = 32 * MiB


# Django views: rendered in a worker thread, with Django's middleware, as always.


def home(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "showcase/home.html",
        {"django_version": django.get_version(), "python_version": platform.python_version()},
    )


@django_login_required
def chat(request: HttpRequest) -> HttpResponse:
    """The chat room page; the messages then travel over the ``chat_socket`` websocket."""
    recent = Message.objects.select_related("author").order_by("-sent_at", "-id")[:50]
    return render(request, "showcase/chat.html", {"messages": reversed(recent)})


def download_stream(request: HttpRequest) -> StreamingHttpResponse:
    """A large generated download: streamed block by block, never held whole in memory."""
    size = min(int(request.GET.get("mib", "64")), 1024) * MiB
    block = b"aiodjango streams this block by block.\n" * 1638  # about 64 KiB

    def blocks() -> Iterator[bytes]:
        sent = 0
        while sent < size:
            chunk = block[: size - sent]
            sent += len(chunk)
            yield chunk

    response = StreamingHttpResponse(blocks(), content_type="text/plain")
    response["Content-Disposition"] = 'attachment; filename="stream.txt"'
    response["Content-Length"] = str(size)
    return response


def download_file(request: HttpRequest) -> FileResponse:
    """A file download: aiodjango sends it from the event loop and frees the thread at once."""
    return FileResponse(sample_file().open("rb"), as_attachment=True, filename="sample.bin")


def sample_file() -> Path:
    """A file of random bytes for ``download_file``, made once per machine."""
    path = Path(tempfile.gettempdir()) / "aiodjango-showcase-sample.bin"
    if not path.exists() or path.stat().st_size != SAMPLE_FILE_SIZE:
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        with partial.open("wb") as out:
            for _ in range(SAMPLE_FILE_SIZE // MiB):
                out.write(os.urandom(MiB))
        partial.replace(path)
    return path


# Coroutine views: lifted out of the URLconf and served by aiohttp on the event loop.


async def clock(request: web.Request) -> web.Response:
    return web.json_response(
        {
            "now": datetime.now(UTC).isoformat(timespec="seconds"),
            "served_by": f"aiohttp {aiohttp.__version__}",
        }
    )


async def echo(request: web.Request) -> web.WebSocketResponse:
    """A websocket on the same port as the Django site: sends back what it receives."""
    socket = web.WebSocketResponse(heartbeat=30)
    await socket.prepare(request)
    async for message in socket:
        if message.type == aiohttp.WSMsgType.TEXT:
            await socket.send_str(f"echo: {message.data}")
    return socket


@login_required
async def chat_socket(request: web.Request) -> web.WebSocketResponse:
    """The chat room's websocket: each message is saved with the async ORM and sent to the room.

    The room is the ``chat`` group: with Redis as the channel layer, its members are on every
    worker and host. ``login_required`` refuses anonymous handshakes with 403, and aiodjango
    refuses handshakes from other sites' pages. Logging out closes the socket.
    """
    user = await get_user(request)
    name = user.get_username()
    socket = web.WebSocketResponse(heartbeat=30)
    await socket.prepare(request)
    async with join(request, socket, ROOM) as member:
        member.send({"type": "welcome", "user": name, "worker": os.getpid()})
        await tell_room({"type": "presence", "text": f"{name} joined"})
        async for incoming in socket:
            if incoming.type != aiohttp.WSMsgType.TEXT:
                continue
            text = incoming.data.strip()[:500]
            if not text:
                continue
            # The login may have ended since the handshake (logout, password change, account
            # deactivated or deleted): check it before acting as the user.
            if (await refresh_user(request)).pk != user.pk:
                await socket.close(code=LOGGED_OUT[0], message=LOGGED_OUT[1].encode())
                break
            message = await Message.objects.acreate(author=user, text=text)
            if not await tell_room(message.as_event()):
                member.send({"type": "error", "text": "not delivered: the room is unreachable"})
    await tell_room({"type": "presence", "text": f"{name} left"})
    return socket


async def tell_room(event: dict[str, Any]) -> bool:
    """Send ``event`` to everyone in the room; False when the channel layer is unreachable."""
    try:
        await agroup_send(ROOM, event)
    except Exception as error:  # Redis away: the site keeps working, this event is lost
        logger.warning("chat event not sent: %s", error)
        return False
    return True


@login_required
async def feed(request: web.Request) -> web.StreamResponse:
    """A live feed as server-sent events: what is said in the chat room and announcements,
    and a tick every few seconds. Like the chat, it needs a login."""
    response = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
    )
    await response.prepare(request)
    async with join(request, response, ROOM, heartbeat=None) as member:
        while not member.closed:
            try:
                await asyncio.wait_for(member.wait_closed(), timeout=5)
            except TimeoutError:
                member.send(
                    {"type": "tick", "now": datetime.now(UTC).isoformat(timespec="seconds")}
                )
    return response


# A Django view that talks to the websockets from sync code.


@staff_member_required
def announce(request: HttpRequest) -> HttpResponse:
    """A staff-only form whose announcement reaches every chat and feed, on every worker.

    Plain sync code: ``group_send`` is ``async_to_sync(get_channel_layer().group_send)``.
    """
    sent = None
    if request.method == "POST":
        text = request.POST.get("text", "").strip()[:500]
        if text:
            event = {"type": "announcement", "user": request.user.get_username(), "text": text}
            group_send(ROOM, event)
            sent = text
    return render(request, "showcase/announce.html", {"sent": sent})
