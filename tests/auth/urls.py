"""A URLconf of decorated coroutine views, lifted by aiodjango's routing in test_routing."""

from __future__ import annotations

from aiohttp import web
from django.urls import path

from aiodjango.lifted import csrf_protect, get_user, login_required

from . import views


@login_required
async def article(request: web.Request, year: int, slug: str) -> web.Response:
    """Decorated, yet routing still sees the converted arguments it must pass."""
    user = await get_user(request)
    return web.Response(text=f"{user.get_username()} reads {year}/{slug}")


@csrf_protect
async def comment(request: web.Request, year: int) -> web.Response:
    return web.Response(text=f"comment on {year}")


urlpatterns = [
    path("articles/<int:year>/<slug:slug>/", article),
    path("comments/<int:year>/", comment),
    path("echo/", views.echo_socket),
    path("public/", views.public_socket),
    path("count/", views.count),
]
