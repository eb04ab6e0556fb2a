"""A URLconf with the mistakes aiodjango's system checks report."""

from aiohttp import web
from django.http import HttpRequest, HttpResponse
from django.urls import path, re_path


def everything(request: HttpRequest) -> HttpResponse:
    return HttpResponse("the catch-all")


async def hidden(request: web.Request) -> web.Response:
    return web.Response(text="never reached")


async def request_only(request: web.Request) -> web.Response:
    return web.Response(text="takes no options")


urlpatterns = [
    path("options/", request_only, {"page": 1}, name="with-options"),
    re_path(r"^.*$", everything),
    path("hidden/", hidden, name="hidden"),
]
