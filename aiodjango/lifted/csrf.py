"""Django's CSRF checks for lifted views.

:func:`csrf_protect` runs ``CsrfViewMiddleware``'s own checks on a Django request built from the
aiohttp one (:class:`~aiodjango.lifted.requests.DjangoRequest`), so tokens, cookies,
``Origin``/``Referer`` rules and ``CSRF_TRUSTED_ORIGINS`` behave exactly as in Django.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, cast
from urllib.parse import urlencode

from aiohttp import hdrs, web
from asgiref.sync import sync_to_async
from django.conf import settings
from django.http import HttpRequest, HttpResponse, QueryDict
from django.http.response import HttpResponseBase

from .._compat import CsrfRejected, csrf_check_class
from .requests import DjangoRequest, View, aiohttp_response, forbidden, request_locator
from .sessions import get_session

__all__ = ["CSRF_PROTECTED_ATTRIBUTE", "csrf_protect"]

#: Set on what :func:`csrf_protect` returns, for the system checks (:mod:`aiodjango.lifted.checks`).
CSRF_PROTECTED_ATTRIBUTE = "aiodjango_csrf_protected"

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
_FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})


# Django's private _reject hook, asserted at import in one place.
_CsrfCheck = csrf_check_class()


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
    except CsrfRejected as rejected:
        failure = await sync_to_async(
            check.failure_response,  # type: ignore[attr-defined]
            thread_sensitive=True,
        )(django_request, rejected.reason)
        if not isinstance(failure, HttpResponseBase):
            return forbidden(rejected.reason)
        return aiohttp_response(failure)
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

    setattr(protected, CSRF_PROTECTED_ATTRIBUTE, True)
    return cast(View, protected)
