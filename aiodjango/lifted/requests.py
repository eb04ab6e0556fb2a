"""Django's view of an aiohttp request, and finding the request among a view's arguments."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, cast

from aiohttp import web
from asgiref.sync import iscoroutinefunction
from django.http import HttpRequest

__all__ = ["DjangoRequest", "View", "forbidden", "request_locator"]

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


class DjangoRequest(HttpRequest):
    """A Django request built from an aiohttp one: enough for Django's host and CSRF checks.

    ``META`` holds the headers the way a WSGI server presents them, so settings such as
    ``SECURE_PROXY_SSL_HEADER`` and ``CSRF_HEADER_NAME`` apply unchanged.
    """

    def __init__(self, request: web.BaseRequest) -> None:
        super().__init__()
        self._aiohttp_scheme = request.scheme
        self.method = request.method
        self.path = self.path_info = request.path
        self.COOKIES = dict(request.cookies)
        meta: dict[str, Any] = {
            "REQUEST_METHOD": request.method,
            "PATH_INFO": request.path,
            "QUERY_STRING": request.query_string,
            "REMOTE_ADDR": request.remote or "",
        }
        sockname = request.transport.get_extra_info("sockname") if request.transport else None
        if isinstance(sockname, tuple):
            meta["SERVER_NAME"], meta["SERVER_PORT"] = str(sockname[0]), str(sockname[1])
        for name, value in request.headers.items():
            if "_" in name:
                continue  # like Django's runserver: "X_Forwarded" must not pass for "X-Forwarded"
            key = name.upper().replace("-", "_")
            if key not in ("CONTENT_TYPE", "CONTENT_LENGTH"):
                key = "HTTP_" + key
            meta[key] = f"{meta[key]},{value}" if key in meta else value
        self.META = meta

    def _get_scheme(self) -> str:
        return self._aiohttp_scheme
