"""One URLconf with the three kinds mixed, shadowing each other in both orders.

Each view answers ``kind|label|args|kwargs|request class``, so that a test can tell which
view answered, on which path through the server, with which arguments.
"""

from typing import Any

from aiohttp import web
from django.core.handlers.asgi import ASGIRequest
from django.http import HttpResponse
from django.urls import include, path, re_path
from django.views import View


def echo(label: str, request: object, args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    # The path through the server: Django's async handler, aiohttp (whatever subclass of its
    # Request a response watch gives it), or the WSGI handler.
    if isinstance(request, ASGIRequest):
        kind = "ASGIRequest"
    elif isinstance(request, web.BaseRequest):
        kind = "Request"
    else:
        kind = type(request).__name__
    return f"{label}|{args!r}|{sorted(kwargs.items())!r}|{kind}"


def lifted(label: str) -> Any:
    async def view(request: web.Request, *args: Any, **kwargs: Any) -> web.Response:
        return web.Response(text=echo(label, request, args, kwargs))

    view.__name__ = view.__qualname__ = label
    return view


def django_async(label: str) -> Any:
    async def view(request, *args, **kwargs):  # type: ignore[no-untyped-def]
        return HttpResponse(echo(label, request, args, kwargs))

    view.__name__ = view.__qualname__ = label
    return view


def django_sync(label: str) -> Any:
    def view(request, *args, **kwargs):  # type: ignore[no-untyped-def]
        return HttpResponse(echo(label, request, args, kwargs))

    view.__name__ = view.__qualname__ = label
    return view


class Counter(View):
    async def get(self, request: Any, **kwargs: Any) -> HttpResponse:
        return HttpResponse(echo("Counter", request, (), kwargs))


inner = (
    [
        path("", lifted("ns_index")),
        path("<int:n>/", django_async("ns_int")),
        path("<slug:s>/", django_sync("ns_slug")),
        path("<str:s>/", lifted("ns_str")),
    ],
    "ns",
)

urlpatterns = [
    path("", django_async("home")),
    # A sync view takes the slugs before a Django async view...
    path("a/<slug:s>/", django_sync("a_slug")),
    path("a/<str:s>/", django_async("a_str")),
    # ...a Django async view shadows a later aiohttp view completely...
    path("b/<str:s>/", django_async("b_str")),
    path("b/fixed/", lifted("b_fixed")),
    # ...an aiohttp view takes numbers before a Django async view and a sync one.
    path("c/<int:n>/", lifted("c_int")),
    path("c/<str:s>/", django_async("c_str")),
    path("c/<path:p>", django_sync("c_path")),
    path("d/<int:n>/", django_async("d_int")),
    path("d/<str:s>/", lifted("d_str")),
    # The same pattern twice: the first wins, whatever its kind.
    path("e/", django_sync("e_sync")),
    path("e/", django_async("e_async")),
    path("f/", django_async("f_async")),
    path("f/", lifted("f_lifted")),
    re_path(r"^g/(?P<year>[0-9]{4})/$", django_async("g_year")),
    re_path(r"^g/(?P<word>[a-z]+)/$", lifted("g_word")),
    re_path(r"^g/", django_sync("g_rest")),
    path("cbv/<int:n>/", Counter.as_view()),
    path("ns/", include(inner, namespace="ns")),
    path("café/<str:s>/", django_async("cafe")),
]
