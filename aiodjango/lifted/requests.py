"""Django's view of an aiohttp request, and finding the request among a view's arguments."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, cast

from aiohttp import hdrs, web
from asgiref.sync import iscoroutinefunction
from django.core.handlers.wsgi import get_path_info
from django.http import HttpRequest, HttpResponse
from django.http.cookie import parse_cookie
from django.http.response import HttpResponseBase
from multidict import CIMultiDict

from ..wsgi.environ import URL_SCHEME, add_request_meta, path_info

__all__ = ["DjangoRequest", "View", "aiohttp_response", "forbidden", "request_locator"]

#: A lifted view: a coroutine function taking the aiohttp request (and maybe more).
View = TypeVar("View", bound=Callable[..., Awaitable[web.StreamResponse]])


def request_locator(
    view: Callable[..., Any], decorator: str
) -> Callable[[tuple[Any, ...], dict[str, Any]], web.BaseRequest]:
    """Check that ``view`` is a coroutine view and return how to find its aiohttp request.

    The request is the view's first argument, or ``self.request`` for methods of ``web.View``.
    """
    if not iscoroutinefunction(view):
        raise TypeError(
            f"{decorator}() decorates coroutine views (async def) served by aiohttp; "
            f"{view!r} is not one (Django views take Django's own decorators)"
        )
    parameters = list(inspect.signature(view).parameters)
    if not parameters:
        raise TypeError(f"{decorator}(): {view!r} takes no request argument")
    first = parameters[0]

    def locate(args: tuple[Any, ...], kwargs: dict[str, Any]) -> web.BaseRequest:
        found = args[0] if args else kwargs[first]
        return cast(web.BaseRequest, found.request if isinstance(found, web.View) else found)

    return locate


def forbidden(reason: str) -> web.Response:
    """A plain 403 response naming the reason."""
    return web.Response(status=403, text=f"403 Forbidden: {reason}\n")


def aiohttp_response(response: HttpResponseBase) -> web.Response:
    """A complete Django response (a redirect, a refusal page) as an aiohttp response."""
    headers = CIMultiDict(response.items())
    for morsel in response.cookies.values():
        headers.add(hdrs.SET_COOKIE, morsel.OutputString())
    body = response.content if isinstance(response, HttpResponse) else b""
    return web.Response(status=response.status_code, body=body, headers=headers)


class DjangoRequest(HttpRequest):
    """A Django request built from an aiohttp one: enough for Django's host and CSRF checks.

    ``META`` is built by the WSGI path's own code (:func:`~aiodjango.wsgi.environ.add_request_meta`),
    so the scheme (``url_scheme``, ``SECURE_PROXY_SSL_HEADER``), the host (``Host``,
    ``USE_X_FORWARDED_HOST``), the cookies (every ``Cookie`` header) and ``CSRF_HEADER_NAME``
    read the same for a lifted view as for a Django view.
    """

    def __init__(self, request: web.BaseRequest) -> None:
        super().__init__()
        self.method = request.method
        meta: dict[str, Any] = {}
        forced = request.config_dict.get(URL_SCHEME) if isinstance(request, web.Request) else None
        if forced is not None:
            meta["wsgi.url_scheme"] = forced
        add_request_meta(meta, request)
        # The whole path (script name included), decoded as the WSGI path and Django decode it.
        raw_path = path_info(request.rel_url.raw_path)
        self.path = self.path_info = get_path_info({"PATH_INFO": raw_path})
        meta["PATH_INFO"] = self.path_info
        self.META = meta
        self.COOKIES = parse_cookie(meta.get("HTTP_COOKIE", ""))

    def _get_scheme(self) -> str:
        return cast(str, self.META["wsgi.url_scheme"])
