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

from aiohttp import hdrs, web
from django.conf import settings
from django.http.request import split_domain_port, validate_host
from django.utils.http import is_same_domain

__all__ = ["allow_any_origin", "is_websocket_handshake", "origin_allowed"]

_Marked = TypeVar("_Marked", bound=Callable[..., Any])

ANY_ORIGIN_ATTRIBUTE = "aiodjango_allow_any_origin"


def is_websocket_handshake(request: web.BaseRequest) -> bool:
    """Whether the request asks to open a websocket.

    Whatever its method: aiohttp opens a websocket for any request that asks, not only GET.
    """
    upgrade = request.headers.get(hdrs.UPGRADE)
    return upgrade is not None and "websocket" in upgrade.lower()


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
