"""Views of the project behind nginx: what each kind of view sees of the client, and the
streams a proxy could get wrong (websockets, event streams, large bodies both ways)."""

from __future__ import annotations

import asyncio
import hashlib
import random
from collections.abc import Iterator

from aiohttp import WSMsgType, web
from django.http import HttpRequest, JsonResponse, StreamingHttpResponse
from django.views.decorators.csrf import csrf_exempt

#: The size of the download's blocks, and of the upload's reads.
BLOCK = 1024 * 1024
#: How long the event stream stays open after its first event (the test never waits for it).
STREAM_OPEN_FOR = 60.0
#: Bytes written by each flood stream, by name (one process serves the project).
FLOODED: dict[str, int] = {}


def page(request: HttpRequest) -> JsonResponse:
    """A Django page: the client's address, the scheme and the host as Django sees them."""
    return JsonResponse(
        {
            "view": "django",
            "remote_addr": request.META["REMOTE_ADDR"],
            "scheme": request.scheme,
            "secure": request.is_secure(),
            "host": request.get_host(),
            "x_forwarded_for": request.headers.get("X-Forwarded-For"),
            "forwarded": request.headers.get("Forwarded"),
        }
    )


async def lifted(request: web.Request) -> web.Response:
    """The same facts as a lifted aiohttp view sees them."""
    return web.json_response(
        {
            "view": "lifted",
            "remote_addr": request.remote,
            "scheme": request.scheme,
            "secure": request.secure,
            "host": request.host,
            "x_forwarded_for": request.headers.get("X-Forwarded-For"),
            "forwarded": request.headers.get("Forwarded"),
        }
    )


async def echo(request: web.Request) -> web.WebSocketResponse:
    socket = web.WebSocketResponse()
    await socket.prepare(request)
    async for message in socket:
        if message.type == WSMsgType.TEXT:
            await socket.send_str(f"echo: {message.data}")
    return socket


async def events(request: web.Request) -> web.StreamResponse:
    """Server-sent events: one event at once, then a comment every second for a minute, so
    that the stream is still open when the client has its first event."""
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
    await response.prepare(request)
    await response.write(b"data: first\n\n")
    loop = asyncio.get_running_loop()
    end = loop.time() + STREAM_OPEN_FOR
    while loop.time() < end:
        await asyncio.sleep(1)
        await response.write(b": still open\n\n")
    return response


async def flood(request: web.Request) -> web.StreamResponse:
    """An event stream written as fast as the connection takes it, ``?mebibytes=`` MiB in
    64 KiB events, counting in :data:`FLOODED` under ``?name=`` what the writes accepted.
    With ``?buffering=yes`` the view lets nginx buffer it."""
    name = request.query["name"]
    headers = {"Content-Type": "text/event-stream"}
    if request.query.get("buffering") == "yes":
        headers["X-Accel-Buffering"] = "yes"
    response = web.StreamResponse(headers=headers)
    await response.prepare(request)
    event = b"data: " + b"x" * (64 * 1024 - 8) + b"\n\n"
    FLOODED[name] = 0
    for _ in range(int(request.query["mebibytes"]) * 16):
        try:
            await response.write(event)
        except ConnectionError:
            break
        FLOODED[name] += len(event)
    return response


async def flooded(request: web.Request) -> web.Response:
    """How many bytes each :func:`flood` stream has written so far."""
    return web.json_response(FLOODED)


@csrf_exempt
def upload(request: HttpRequest) -> JsonResponse:
    """The SHA-256 and size of the request body, read in blocks."""
    digest = hashlib.sha256()
    size = 0
    while block := request.read(BLOCK):
        digest.update(block)
        size += len(block)
    return JsonResponse({"sha256": digest.hexdigest(), "size": size})


def download_blocks(mebibytes: int) -> Iterator[bytes]:
    """The download's body, made as it is sent: ``mebibytes`` blocks of seeded random bytes."""
    generator = random.Random(mebibytes)
    for _ in range(mebibytes):
        yield generator.randbytes(BLOCK)


def download(request: HttpRequest, mebibytes: int) -> StreamingHttpResponse:
    """A streamed body of ``mebibytes`` MiB, never held whole by the server."""
    response = StreamingHttpResponse(
        download_blocks(mebibytes), content_type="application/octet-stream"
    )
    response["Content-Length"] = str(mebibytes * BLOCK)
    return response
