"""Views of the reliability project: sync ones served through WSGI, coroutine ones lifted.

The gate views hold a request in flight until the file named by ``$RELIABILITY_GATE`` exists,
and print a line when they are entered, so a test in another process knows what is in flight.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Iterator

from aiohttp import WSMsgType, web
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.views.decorators.csrf import csrf_exempt

GATE_ENV = "RELIABILITY_GATE"
#: The longest a gate holds a request; a test that never opens it still ends.
GATE_LIMIT = 60.0
ENTERED = "entered the gate"
STREAM_CLOSED = "stream closed"
#: The maximum message size ``roomy_echo`` sets itself.
ROOMY_MAX_MSG_SIZE = 8 * 1024 * 1024


def hello(request: HttpRequest) -> HttpResponse:
    return HttpResponse("hello")


def work(request: HttpRequest) -> HttpResponse:
    """A short blocking job, as a view doing a database query or two would have."""
    time.sleep(0.005)  # the behaviour: the view's blocking work
    return HttpResponse("worked")


@csrf_exempt
def body_size(request: HttpRequest) -> HttpResponse:
    return HttpResponse(str(len(request.body)))


def stream(request: HttpRequest) -> StreamingHttpResponse:
    """A large download (1 GiB by default, ``?mib=N``), produced block by block; prints a line
    when it is closed, however it ended."""
    mib = int(request.GET.get("mib", "1024"))

    def blocks() -> Iterator[bytes]:
        block = b"s" * 65536
        try:
            for _ in range(mib * 16):
                yield block
        finally:
            print(STREAM_CLOSED, flush=True)

    return StreamingHttpResponse(blocks(), content_type="application/octet-stream")


def _gate_open() -> bool:
    return os.path.exists(os.environ[GATE_ENV])


def gate(request: HttpRequest) -> HttpResponse:
    print(f"{ENTERED} (sync)", flush=True)
    deadline = time.monotonic() + GATE_LIMIT
    while not _gate_open():
        if time.monotonic() > deadline:
            return HttpResponse("never released", status=504)
        time.sleep(0.01)  # the server's side of the gate, polling the file the test creates
    return HttpResponse("released")


async def async_hello(request: web.Request) -> web.Response:
    return web.Response(text="async hello")


async def async_gate(request: web.Request) -> web.Response:
    print(f"{ENTERED} (async)", flush=True)
    deadline = time.monotonic() + GATE_LIMIT
    while not _gate_open():
        if time.monotonic() > deadline:
            return web.Response(text="never released", status=504)
        await asyncio.sleep(0.01)  # the server's side of the gate, as above
    return web.Response(text="async released")


async def django_async_hello(request: HttpRequest) -> HttpResponse:
    """A Django async view, served on the loop by Django's async handler."""
    return HttpResponse("django async hello")


async def django_async_gate(request: HttpRequest) -> HttpResponse:
    print(f"{ENTERED} (django async)", flush=True)
    deadline = time.monotonic() + GATE_LIMIT
    while not _gate_open():
        if time.monotonic() > deadline:
            return HttpResponse("never released", status=504)
        await asyncio.sleep(0.01)  # the server's side of the gate, as above
    return HttpResponse("django async released")


async def roomy_echo(request: web.Request) -> web.WebSocketResponse:
    """A websocket whose view sets its own maximum message size, above the server's default."""
    socket = web.WebSocketResponse(max_msg_size=ROOMY_MAX_MSG_SIZE)
    await socket.prepare(request)
    async for message in socket:
        if message.type == WSMsgType.TEXT:
            await socket.send_str(f"echo: {message.data}")
    return socket


async def echo(request: web.Request) -> web.WebSocketResponse:
    """A websocket with aiohttp's defaults: the server's websocket defaults apply."""
    socket = web.WebSocketResponse()
    await socket.prepare(request)
    async for message in socket:
        if message.type == WSMsgType.TEXT:
            await socket.send_str(f"echo: {message.data}")
    return socket
