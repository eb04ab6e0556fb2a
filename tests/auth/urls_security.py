"""A URLconf with the same pages served both ways: by Django (sync views) and lifted (coroutines).

The security tests compare the two answers: one rule must hold for both paths.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiohttp import web
from django.contrib.auth import decorators
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import path

from aiodjango.lifted import csrf_protect, get_session

from . import views

# Django 5.1 and later; on older versions nothing requires a login by default anyway.
login_not_required: Callable[[Any], Any] = getattr(
    decorators, "login_not_required", lambda view: view
)


def django_echo(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"cookies": request.COOKIES})


def django_page(request: HttpRequest) -> HttpResponse:
    """Also the target of unsafe methods: CsrfViewMiddleware checks them."""
    return HttpResponse("page")


async def lifted_echo(request: web.Request) -> web.Response:
    session = await get_session(request)
    return web.json_response({"cookies": dict(request.cookies), "session_key": session.session_key})


async def lifted_page(request: web.Request) -> web.Response:
    return web.Response(text="page")


@csrf_protect
async def lifted_submit(request: web.Request) -> web.Response:
    return web.Response(text="page")


async def lifted_stream(request: web.Request) -> web.StreamResponse:
    """A response the view prepares itself: its headers leave before the view returns."""
    response = web.StreamResponse()
    await response.prepare(request)
    await response.write(b"streamed")
    return response


async def lifted_framed(request: web.Request) -> web.Response:
    """A view that chose its own framing policy keeps it."""
    return web.Response(text="framed", headers={"X-Frame-Options": "SAMEORIGIN"})


@login_not_required
async def lifted_open(request: web.Request) -> web.Response:
    return web.Response(text="open")


@login_not_required
def django_open(request: HttpRequest) -> HttpResponse:
    return HttpResponse("open")


def login_page(request: HttpRequest) -> HttpResponse:
    return HttpResponse("login page")


urlpatterns = [
    path("django/echo/", django_echo),
    path("django/page/", django_page),
    path("django/open/", django_open),
    path("lifted/echo/", lifted_echo),
    path("lifted/page/", lifted_page),
    path("lifted/submit/", lifted_submit),
    path("lifted/stream/", lifted_stream),
    path("lifted/framed/", lifted_framed),
    path("lifted/open/", lifted_open),
    path("lifted/socket/", views.echo_socket),
    path("accounts/login/", login_not_required(login_page)),
]
