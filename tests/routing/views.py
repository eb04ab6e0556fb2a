"""Views for the routing tests: coroutine views that say who they are, and Django views.

Every lifted view answers ``label|args|kwargs``: the name it was defined under and what it was
called with, so a test can compare both with what Django's ``resolve()`` says.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from django.http import HttpRequest, HttpResponse
from django.urls import register_converter
from django.views import View

from aiodjango.routing import aiohttp_view, django_view

#: The labels of the views that must be lifted; everything else stays with Django.
EXPECT_LIFTED: set[str] = set()
#: Lifted views called with the request alone: they answer ``label|match_info|...``.
REQUEST_ONLY: set[str] = {"Classy", "wrapped"}


def echo(label: str, args: tuple[Any, ...] = (), kwargs: dict[str, Any] | None = None) -> str:
    return f"{label}|{args!r}|{sorted((kwargs or {}).items())!r}"


def lifted(view: Any) -> Any:
    EXPECT_LIFTED.add(view.__name__)
    return view


def request_only(label: str) -> Callable[[web.Request], Awaitable[web.Response]]:
    """A lifted view that takes the request alone and shows its ``match_info``."""

    async def view(request: web.Request) -> web.Response:
        return web.Response(text=f"{label}|match_info|{sorted(request.match_info.items())!r}")

    view.__name__ = view.__qualname__ = label
    REQUEST_ONLY.add(label)
    return lifted(view)  # type: ignore[no-any-return]


def django_style(label: str) -> Callable[..., Awaitable[web.Response]]:
    """A lifted view that takes Django's args and kwargs."""

    async def view(request: web.Request, *args: Any, **kwargs: Any) -> web.Response:
        assert isinstance(request, web.Request)
        return web.Response(text=echo(label, args, kwargs))

    view.__name__ = view.__qualname__ = label
    return lifted(view)  # type: ignore[no-any-return]


def sync(label: str) -> Callable[..., HttpResponse]:
    def view(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return HttpResponse(f"django:{label}")

    view.__name__ = view.__qualname__ = label
    return view


class EvenConverter:
    """Digits, but only even numbers: ``to_python`` refuses odd ones and Django moves on."""

    regex = "[0-9]+"

    def to_python(self, value: str) -> int:
        number = int(value)
        if number % 2:
            raise ValueError(f"{value} is odd")
        return number

    def to_url(self, value: int) -> str:
        return str(value)


register_converter(EvenConverter, "routing_even")

# Views with the signatures the docs promise.


@lifted
async def item(request: web.Request, pk: int) -> web.Response:
    return web.Response(text=echo("item", (), {"pk": pk}))


@lifted
async def page(request: web.Request, page: int, **kwargs: Any) -> web.Response:
    return web.Response(text=echo("page", (), {"page": page, **kwargs}))


@lifted
async def positional(request: web.Request, number: str, word: str) -> web.Response:
    return web.Response(text=echo("positional", (number, word), {}))


@lifted
async def optional(request: web.Request, num: str | None = None) -> web.Response:
    return web.Response(text=echo("optional", (), {"num": num} if num is not None else {}))


@lifted
class Classy(web.View):
    async def get(self) -> web.Response:
        return web.Response(text=f"Classy|match_info|{sorted(self.request.match_info.items())!r}")

    async def post(self) -> web.Response:
        return web.Response(text="Classy|post")


def _hide_coroutine(view: Callable[..., Awaitable[web.StreamResponse]]) -> Any:
    """A wrapper that is a plain function returning the coroutine: it needs the mark."""

    @functools.wraps(view)
    def wrapper(request: web.Request) -> Awaitable[web.StreamResponse]:
        return view(request)

    return wrapper


@lifted
@aiohttp_view
@_hide_coroutine
async def wrapped(request: web.Request) -> web.Response:
    return web.Response(text="wrapped|match_info|[]")


# Coroutine views that stay with Django.


class AsyncDjangoView(View):
    async def get(self, request: HttpRequest) -> HttpResponse:
        return HttpResponse("django:AsyncDjangoView")


async def annotated(request: HttpRequest) -> HttpResponse:
    return HttpResponse("django:annotated")


@django_view
async def kept(request: Any) -> HttpResponse:
    return HttpResponse("django:kept")


# Responses and errors of all kinds.


@lifted
async def forbidden(request: web.Request) -> web.Response:
    raise web.HTTPForbidden(text="no entry")


@lifted
async def streamed(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": "text/plain"})
    await response.prepare(request)
    for chunk in (b"one ", b"two ", b"three"):
        await response.write(chunk)
    await response.write_eof()
    return response


@lifted
async def websocket(request: web.Request) -> web.WebSocketResponse:
    socket = web.WebSocketResponse()
    await socket.prepare(request)
    async for message in socket:
        await socket.send_str(f"echo {message.data} {request.match_info['room']}")
    return socket
