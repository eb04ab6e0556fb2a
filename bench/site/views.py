"""The views the scenarios request: sync ones run through WSGI, aiohttp ones are lifted, Django
async ones run on the loop through Django's ASGI handler."""

import asyncio
import time
from collections.abc import Iterator

from aiohttp import WSMsgType, web
from django.conf import settings
from django.contrib.auth.models import User
from django.http import FileResponse, HttpRequest, HttpResponse, StreamingHttpResponse
from django.views.decorators.csrf import csrf_exempt

HELLO = "Hello, world!"
BLOCK_SIZE = 64 * 1024
_BLOCK = b"x" * BLOCK_SIZE


def hello(request: HttpRequest) -> HttpResponse:
    """Scenario 1: the smallest sync Django view."""
    return HttpResponse(HELLO, content_type="text/plain")


def page(request: HttpRequest) -> HttpResponse:
    """Scenario 2: the same page plus one database query (run with the full middleware)."""
    name = User.objects.filter(username="bench").values_list("first_name", flat=True).first()
    return HttpResponse(f"Hello, {name}!", content_type="text/plain")


async def lifted_hello(request: web.Request) -> web.Response:
    """Scenario 3: a coroutine view that aiodjango lifts into an aiohttp route."""
    return web.Response(text=HELLO)


async def django_async_hello(request: HttpRequest) -> HttpResponse:
    """Scenarios 3 and 8: the same coroutine as a Django async view."""
    return HttpResponse(HELLO, content_type="text/plain")


async def django_async_slow(request: HttpRequest, ms: int) -> HttpResponse:
    """Scenarios 9 and 10: a Django async view that awaits ``ms`` milliseconds."""
    await asyncio.sleep(ms / 1000)
    return HttpResponse("slept", content_type="text/plain")


def _blocks(size: int) -> Iterator[bytes]:
    full, rest = divmod(size, BLOCK_SIZE)
    for _ in range(full):
        yield _BLOCK
    if rest:
        yield _BLOCK[:rest]


def stream(request: HttpRequest, size: int) -> StreamingHttpResponse:
    """Scenario 4: ``size`` bytes produced by a generator, 64 KiB at a time."""
    return StreamingHttpResponse(_blocks(size), content_type="application/octet-stream")


def send_file(request: HttpRequest) -> FileResponse:
    """Scenario 4: the harness's large file as a FileResponse."""
    return FileResponse(open(settings.BENCH_FILE, "rb"))


@csrf_exempt
def upload(request: HttpRequest) -> HttpResponse:
    """Scenario 5: read the request body in blocks (never whole) and tell its size."""
    size = 0
    while block := request.read(BLOCK_SIZE):
        size += len(block)
    return HttpResponse(str(size), content_type="text/plain")


def slow(request: HttpRequest, ms: int) -> HttpResponse:
    """Scenario 6: hold a worker thread for ``ms`` milliseconds."""
    time.sleep(ms / 1000)
    return HttpResponse("slept", content_type="text/plain")


async def echo(request: web.Request) -> web.WebSocketResponse:
    """Scenario 7: a lifted websocket view that sends every text message back."""
    socket = web.WebSocketResponse()
    await socket.prepare(request)
    async for message in socket:
        if message.type == WSMsgType.TEXT:
            await socket.send_str(message.data)
    return socket
