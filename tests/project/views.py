"""Views of the test project: sync ones for WSGI, coroutine ones lifted onto aiohttp."""

import asyncio
import os
import threading
import time

from aiohttp import WSMsgType, web
from django.http import HttpRequest, HttpResponse, JsonResponse


def hello(request: HttpRequest) -> HttpResponse:
    return HttpResponse(f"sync hello from pid {os.getpid()}")


def slow(request: HttpRequest, seconds: float) -> HttpResponse:
    """Holds a worker thread for ``seconds``: for graceful-shutdown tests, which wait for the line."""
    print(f"slow view started ({seconds}s)", flush=True)
    time.sleep(seconds)
    return HttpResponse(f"slept {seconds}")


def where(request: HttpRequest) -> JsonResponse:
    return JsonResponse(
        {
            "thread": threading.current_thread().name,
            "pid": os.getpid(),
            "scheme": request.scheme,
            "url_scheme": request.META["wsgi.url_scheme"],
        }
    )


async def async_hello(request: web.Request) -> web.Response:
    return web.Response(text=f"async hello from pid {os.getpid()}")


async def async_slow(request: web.Request, seconds: float) -> web.Response:
    print(f"async slow view started ({seconds}s)", flush=True)
    await asyncio.sleep(seconds)
    return web.Response(text=f"async slept {seconds}")


async def async_where(request: web.Request) -> web.Response:
    """What a lifted view sees of its connection, and the event loop serving it."""
    loop = type(asyncio.get_running_loop())
    return web.json_response(
        {
            "scheme": request.scheme,
            "secure": request.secure,
            "loop": f"{loop.__module__}.{loop.__qualname__}",
        }
    )


async def echo(request: web.Request) -> web.WebSocketResponse:
    socket = web.WebSocketResponse()
    await socket.prepare(request)
    async for message in socket:
        if message.type == WSMsgType.TEXT:
            await socket.send_str(f"echo: {message.data}")
    return socket
