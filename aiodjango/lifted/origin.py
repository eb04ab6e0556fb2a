"""The websocket Origin policy: which pages may open websockets to this site.

Browsers send cookies with cross-site websocket handshakes and apply no same-origin policy to
them, so a handshake from a foreign ``Origin`` must be refused before the view runs
(:func:`~aiodjango.lifted.protection.protect_lifted_view` does), unless the view opted out with
:func:`allow_any_origin`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

from aiohttp import web
from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.utils.http import is_same_domain

from .requests import DjangoRequest

__all__ = ["allow_any_origin", "allows_any_origin", "origin_allowed"]

_Marked = TypeVar("_Marked", bound=Callable[..., Any])

ANY_ORIGIN_ATTRIBUTE = "aiodjango_allow_any_origin"


def allow_any_origin(view: _Marked) -> _Marked:
    """Exempt a lifted view (function or ``web.View`` class) from the websocket Origin check.

    Only for websockets any site may open: such a view must not trust the session cookie.
    On a class, the mark applies to that class only, not to its subclasses.
    """
    setattr(view, ANY_ORIGIN_ATTRIBUTE, True)
    return view


def allows_any_origin(view: object) -> bool:
    """Whether ``view`` was marked with :func:`allow_any_origin` (a class: itself, not a parent).

    A function wrapped with ``functools.wraps`` keeps the mark of the function it wraps.
    """
    if isinstance(view, type):
        return vars(view).get(ANY_ORIGIN_ATTRIBUTE, False) is True
    return getattr(view, ANY_ORIGIN_ATTRIBUTE, False) is True


def origin_allowed(request: web.BaseRequest, origin: str) -> bool:
    """Whether a browser page from ``origin`` may open websockets to this site.

    Django's CSRF origin rule (``CsrfViewMiddleware``): the origin must be the request's own
    ``scheme://host[:port]``, with the host as ``request.get_host()`` gives it (so it must pass
    ``ALLOWED_HOSTS``) and the scheme as ``request.is_secure()`` says (``url_scheme``,
    ``SECURE_PROXY_SSL_HEADER``), or be in ``CSRF_TRUSTED_ORIGINS`` (exactly, or by the
    ``https://*.example.com`` form).
    """
    django_request = DjangoRequest(request)
    try:
        good_host = django_request.get_host()
    except DisallowedHost:
        pass
    else:
        scheme = "https" if django_request.is_secure() else "http"
        if origin == f"{scheme}://{good_host}":
            return True
    trusted = settings.CSRF_TRUSTED_ORIGINS
    if "*" not in origin and origin in trusted:
        return True
    try:
        parsed = urlsplit(origin)
    except ValueError:
        return False
    for pattern in trusted:
        if "*" in pattern:
            allowed = urlsplit(pattern)
            if allowed.scheme == parsed.scheme and is_same_domain(
                parsed.netloc, allowed.netloc.lstrip("*")
            ):
                return True
    return False
