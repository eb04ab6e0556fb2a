"""Views the testing helpers are tried on: Django views and lifted views, with identity and CSRF."""

from __future__ import annotations

from typing import Any

import aiohttp
from aiohttp import web
from django.contrib.auth.decorators import login_required as django_login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import path

from aiodjango.lifted import csrf_protect, get_user, login_required


def whoami(request: HttpRequest) -> HttpResponse:
    return HttpResponse(request.user.get_username() or "anonymous")


def submit(request: HttpRequest) -> JsonResponse:
    """Protected by Django's CsrfViewMiddleware, like every Django view."""
    return JsonResponse({"method": request.method, "form": dict(request.POST.items())})


@django_login_required(login_url="/login/")
def private(request: HttpRequest) -> HttpResponse:
    return HttpResponse(f"private page of {request.user.get_username()}")


async def lifted_whoami(request: web.Request) -> web.Response:
    user = await get_user(request)
    return web.Response(text=user.get_username() or "anonymous")


@csrf_protect
async def lifted_submit(request: web.Request) -> web.Response:
    return web.json_response({"form": dict(await request.post())})


@login_required
async def user_socket(request: web.Request) -> web.WebSocketResponse:
    """Answers each JSON message with who sent it, as JSON."""
    user = await get_user(request)
    socket = web.WebSocketResponse()
    await socket.prepare(request)
    async for message in socket:
        if message.type is aiohttp.WSMsgType.TEXT:
            received: Any = message.json()
            await socket.send_json({"from": user.get_username(), "got": received})
    return socket


async def silent_socket(request: web.Request) -> web.WebSocketResponse:
    """Accepts and never says anything: receiving from it must time out."""
    socket = web.WebSocketResponse()
    await socket.prepare(request)
    async for _ in socket:
        pass
    return socket


urlpatterns = [
    path("whoami/", whoami),
    path("submit/", submit),
    path("private/", private),
    path("lifted/whoami/", lifted_whoami),
    path("lifted/submit/", lifted_submit),
    path("ws/user/", user_socket),
    path("ws/silent/", silent_socket),
]
