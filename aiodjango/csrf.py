"""Cross-site protection for lifted views: Django's CSRF checks and the websocket Origin check.

:func:`csrf_protect` runs ``CsrfViewMiddleware``'s own checks on a Django request built from the
aiohttp one (:class:`DjangoRequest`), so tokens, cookies, ``Origin``/``Referer`` rules and
``CSRF_TRUSTED_ORIGINS`` behave exactly as in Django. Websocket handshakes need their own rule
because browsers send cookies with cross-site handshakes and apply no same-origin policy to
them: :func:`origin_allowed` accepts only the site's own origins, and
:func:`~aiodjango.auth.protect_lifted_view` applies it unless a view opted out with
:func:`allow_any_origin`.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, cast
from urllib.parse import urlencode, urlsplit

from aiohttp import hdrs, web
from asgiref.sync import iscoroutinefunction, sync_to_async
from django.conf import settings
from django.http import HttpRequest, HttpResponse, QueryDict
from django.http.request import split_domain_port, validate_host
from django.http.response import HttpResponseBase
from django.middleware.csrf import CsrfViewMiddleware
from django.utils.http import is_same_domain
from multidict import CIMultiDict

from .sessions import get_session

__all__ = [
    "DjangoRequest",
    "allow_any_origin",
    "csrf_protect",
    "forbidden",
    "is_websocket_handshake",
    "origin_allowed",
    "request_locator",
]

View = TypeVar("View", bound=Callable[..., Awaitable[web.StreamResponse]])
_Marked = TypeVar("_Marked", bound=Callable[..., Any])

ANY_ORIGIN_ATTRIBUTE = "aiodjango_allow_any_origin"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
_FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})


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


def is_websocket_handshake(request: web.BaseRequest) -> bool:
    """Whether the request asks to open a websocket.

    Whatever its method: aiohttp opens a websocket for any request that asks, not only GET.
    """
    upgrade = request.headers.get(hdrs.UPGRADE)
    return upgrade is not None and "websocket" in upgrade.lower()


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


class _CsrfRejected(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _CsrfCheck(CsrfViewMiddleware):
    """Django's CSRF checks, reporting a rejection instead of answering it on the event loop.

    Django's answer renders ``CSRF_FAILURE_VIEW`` (templates, maybe the database), so it is built
    in a worker thread by :meth:`failure_response`.
    """

    def _reject(self, request: HttpRequest, reason: str) -> HttpResponseBase | None:
        raise _CsrfRejected(reason)

    def failure_response(self, request: HttpRequest, reason: str) -> HttpResponseBase | None:
        return super()._reject(request, reason)  # type: ignore[misc,no-any-return]


def _no_view(request: HttpRequest) -> HttpResponse:
    raise AssertionError("the CSRF check never calls the view")  # pragma: no cover


async def _csrf_refusal(request: web.BaseRequest, view: Callable[..., Any]) -> web.Response | None:
    """None when the request passes Django's CSRF checks, else Django's 403 response."""
    django_request = DjangoRequest(request)
    if settings.CSRF_USE_SESSIONS:
        django_request.session = await get_session(request)
    if request.method == hdrs.METH_POST and request.content_type in _FORM_TYPES:
        # aiohttp keeps the parsed form, so the view can still read request.post().
        token = (await request.post()).get("csrfmiddlewaretoken")
        if isinstance(token, str):
            django_request.POST = QueryDict(urlencode({"csrfmiddlewaretoken": token}))
    check = _CsrfCheck(_no_view)
    try:
        check.process_view(django_request, view, (), {})
    except _CsrfRejected as rejected:
        failure = await sync_to_async(check.failure_response, thread_sensitive=True)(
            django_request, rejected.reason
        )
        if not isinstance(failure, HttpResponse):
            return forbidden(rejected.reason)
        headers = CIMultiDict(failure.items())
        for morsel in failure.cookies.values():
            headers.add(hdrs.SET_COOKIE, morsel.OutputString())
        return web.Response(status=failure.status_code, body=failure.content, headers=headers)
    return None


def csrf_protect(view: View) -> View:
    """Apply Django's CSRF rules to a lifted view's unsafe methods (POST, PUT, PATCH, DELETE...).

    The token comes from the ``csrfmiddlewaretoken`` form field or the ``CSRF_HEADER_NAME``
    header and must match the CSRF cookie (or the session, with ``CSRF_USE_SESSIONS``);
    ``Origin`` and, over HTTPS, ``Referer`` must be the site's own or in ``CSRF_TRUSTED_ORIGINS``.
    Refusals get Django's 403 response (``CSRF_FAILURE_VIEW``).
    """
    locate = request_locator(view, "csrf_protect")

    @functools.wraps(view)
    async def protected(*args: Any, **kwargs: Any) -> web.StreamResponse:
        request = locate(args, kwargs)
        if request.method not in _SAFE_METHODS:
            refusal = await _csrf_refusal(request, view)
            if refusal is not None:
                return refusal
        return await view(*args, **kwargs)

    return cast(View, protected)


def allow_any_origin(view: _Marked) -> _Marked:
    """Exempt a lifted view (function or ``web.View`` class) from the websocket Origin check.

    Only for websockets any site may open: such a view must not trust the session cookie.
    """
    setattr(view, ANY_ORIGIN_ATTRIBUTE, True)
    return view


def origin_allowed(origin: str) -> bool:
    """Whether a browser page from ``origin`` may open websockets to this site.

    Allowed: an origin whose host passes ``ALLOWED_HOSTS`` (Django's rules, with its ``DEBUG``
    defaults when the setting is empty), or one in ``CSRF_TRUSTED_ORIGINS`` (exactly, or by the
    ``https://*.example.com`` form).
    """
    try:
        parsed = urlsplit(origin)
    except ValueError:
        return False
    allowed_hosts = settings.ALLOWED_HOSTS
    if settings.DEBUG and not allowed_hosts:
        allowed_hosts = [".localhost", "127.0.0.1", "[::1]"]
    domain, _port = split_domain_port(parsed.netloc)
    if domain and validate_host(domain, allowed_hosts):
        return True
    for trusted in settings.CSRF_TRUSTED_ORIGINS:
        if "*" not in trusted:
            if origin == trusted:
                return True
            continue
        pattern = urlsplit(trusted)
        if pattern.scheme == parsed.scheme and is_same_domain(
            parsed.netloc, pattern.netloc.lstrip("*")
        ):
            return True
    return False
