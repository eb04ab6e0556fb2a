"""Views whose annotations are strings (``from __future__ import annotations``)."""

from __future__ import annotations

from typing import Optional

from aiohttp import web
from django.core.handlers.asgi import ASGIRequest
from django.http import HttpRequest, HttpResponse


async def django_request(request: HttpRequest) -> HttpResponse:
    return HttpResponse("django")


async def django_request_subclass(request: ASGIRequest) -> HttpResponse:
    return HttpResponse("django")


async def optional_django_request(request: Optional[HttpRequest]) -> HttpResponse:  # noqa: UP045
    return HttpResponse("django")


async def union_django_request(request: HttpRequest | None) -> HttpResponse:
    return HttpResponse("django")


async def aiohttp_request(request: web.Request) -> web.Response:
    return web.Response(text="aiohttp")


async def unresolvable(request: NameDefinedNowhere) -> web.Response:  # type: ignore[name-defined]  # noqa: F821
    return web.Response(text="aiohttp")


async def unannotated(request, pk):  # type: ignore[no-untyped-def]
    return web.Response(text="aiohttp")
