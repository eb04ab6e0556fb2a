"""Views of the three kinds, each telling the client, scheme and host it sees, and CSRF targets."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from django.core.handlers.asgi import ASGIRequest
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import path

from aiodjango.lifted import csrf_protect


def _django_view_of(request: HttpRequest) -> dict[str, Any]:
    return {
        "request": "ASGIRequest" if isinstance(request, ASGIRequest) else type(request).__name__,
        "remote": request.META["REMOTE_ADDR"],
        "scheme": request.scheme,
        "secure": request.is_secure(),
        "host": request.get_host(),
        "server": [request.META["SERVER_NAME"], str(request.META["SERVER_PORT"])],
    }


def sync_view(request: HttpRequest) -> JsonResponse:
    return JsonResponse(_django_view_of(request))


async def async_view(request: HttpRequest) -> JsonResponse:
    return JsonResponse(_django_view_of(request))


async def lifted_view(request: web.Request) -> web.Response:
    return web.json_response(
        {
            "request": "Request" if isinstance(request, web.Request) else "?",
            "remote": request.remote,
            "scheme": request.scheme,
            "secure": request.secure,
            "host": request.host,
        }
    )


def sync_post(request: HttpRequest) -> HttpResponse:
    """Behind CsrfViewMiddleware (the test settings' MIDDLEWARE)."""
    return HttpResponse("accepted")


@csrf_protect
async def lifted_post(request: web.Request) -> web.Response:
    return web.Response(text="accepted")


async def lifted_socket(request: web.Request) -> web.WebSocketResponse:
    socket = web.WebSocketResponse()
    await socket.prepare(request)
    async for message in socket:
        await socket.send_str(f"echo: {message.data}")
    return socket


urlpatterns = [
    path("sync/", sync_view),
    path("django-async/", async_view),
    path("lifted/", lifted_view),
    path("sync-post/", sync_post),
    path("lifted-post/", lifted_post),
    path("socket/", lifted_socket),
]
