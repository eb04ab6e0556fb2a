"""The showcase's views: Django views (served through the WSGI adapter) and coroutine
views (lifted by aiodjango onto aiohttp), side by side in one URLconf."""

import asyncio
import json
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
from django.contrib.auth.decorators import login_required as django_login_required
from django.http import FileResponse, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render

from aiodjango import get_user, login_required

from .models import Message
from .room import room

MiB = 1024 * 1024
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
    """The chat room's websocket: each message is saved with the async ORM and sent to all.

    ``login_required`` refuses anonymous handshakes with 403, and aiodjango refuses
    handshakes from other sites' pages (their ``Origin`` is not in ``ALLOWED_HOSTS``).
    """
    user = await get_user(request)
    socket = web.WebSocketResponse(heartbeat=30)
    await socket.prepare(request)
    room.sockets.add(socket)
    await room.broadcast(presence(f"{user.get_username()} joined"))
    try:
        async for incoming in socket:
            if incoming.type != aiohttp.WSMsgType.TEXT:
                continue
            text = incoming.data.strip()[:500]
            if text:
                message = await Message.objects.acreate(author=user, text=text)
                await room.broadcast(message.as_event())
    finally:
        room.sockets.discard(socket)
        await room.broadcast(presence(f"{user.get_username()} left"))
    return socket


def presence(text: str) -> dict[str, Any]:
    return {"type": "presence", "text": text, "online": len(room.sockets)}


async def feed(request: web.Request) -> web.StreamResponse:
    """A live feed as server-sent events: every chat message, and a heartbeat with the
    number of people in the room every few seconds."""
    response = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
    )
    await response.prepare(request)
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=100)
    room.listeners.add(queue)
    try:
        while True:
            try:
                event = await asyncio.wait_for(queue.get(), timeout=5)
            except TimeoutError:
                event = {"type": "tick", "online": len(room.sockets)}
            await response.write(f"data: {json.dumps(event)}\n\n".encode())
    finally:
        room.listeners.discard(queue)
