"""What the project's ``MIDDLEWARE`` does for Django views, done for lifted views.

Lifted views bypass Django's middleware chain. For the security middleware whose effect can
be had without a Django response, aiodjango runs the project's own middleware instances (so
their settings and subclasses apply) around every lifted view:

* ``SecurityMiddleware``: the HTTPS redirect (``SECURE_SSL_REDIRECT``) before the view, and its
  response headers (``X-Content-Type-Options``, ``Referrer-Policy``,
  ``Cross-Origin-Opener-Policy``, ``Strict-Transport-Security`` over HTTPS);
* ``XFrameOptionsMiddleware``: the ``X-Frame-Options`` header;
* ``LoginRequiredMiddleware`` (Django 5.1 and later): anonymous requests are redirected to the
  login page (refused with 403 for a websocket handshake), unless the view is marked with
  Django's ``login_not_required``.

The response headers do not depend on the request (except HSTS, on HTTPS only), so they are
computed once, by the middleware itself on a probe response, and added to each response as it
is prepared. The whole is computed on first use and again when a test changes the settings
(:func:`watch_settings`). Other middleware is reported by ``manage.py check``
(:mod:`aiodjango.checks`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import import_module
from typing import Any

from aiohttp import hdrs, web
from django.conf import settings
from django.core.signals import setting_changed
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.middleware.clickjacking import XFrameOptionsMiddleware
from django.middleware.security import SecurityMiddleware
from django.utils.module_loading import import_string

from .hosts import forget_verdicts
from .requests import DjangoRequest

__all__ = [
    "LiftedMiddleware",
    "applied_middleware",
    "current_middleware",
    "login_probe",
    "login_required_middleware",
    "watch_settings",
]


def login_required_middleware() -> type | None:
    """Django's ``LoginRequiredMiddleware`` (5.1 and later), or None.

    Imported on first use: its module imports the auth models, which need the app registry.
    """
    module = import_module("django.contrib.auth.middleware")
    found: type | None = getattr(module, "LoginRequiredMiddleware", None)
    return found


def applied_middleware() -> tuple[type, ...]:
    """Middleware classes (and their subclasses) whose effect lifted views get."""
    login = login_required_middleware()
    return (SecurityMiddleware, XFrameOptionsMiddleware) + ((login,) if login else ())


Headers = tuple[tuple[str, str], ...]


class _Probe(HttpRequest):
    """A request of a given scheme, for computing the headers a middleware adds."""

    def __init__(self, scheme: str) -> None:
        super().__init__()
        self._probe_scheme = scheme

    def _get_scheme(self) -> str:
        return self._probe_scheme


@dataclass(frozen=True)
class LiftedMiddleware:
    """The project's middleware (and the settings read per request), for lifted views."""

    #: SecurityMiddleware when it may redirect to HTTPS.
    ssl_redirect: SecurityMiddleware | None
    #: Headers for every response over HTTP, and over HTTPS.
    headers: Headers
    secure_headers: Headers
    login_required: Any  # a LoginRequiredMiddleware, or None
    #: The ``USE_X_FORWARDED_HOST`` setting.
    forwarded_host: bool = False

    @property
    def adds_headers(self) -> bool:
        return bool(self.headers or self.secure_headers)

    def add_headers(self, request: web.Request, response: web.StreamResponse) -> None:
        """Add the middleware's headers to a response being prepared, unless it has its own."""
        headers = self.headers
        if self.secure_headers is not headers and DjangoRequest(request).is_secure():
            headers = self.secure_headers
        setdefault = response.headers.setdefault
        for name, value in headers:
            setdefault(name, value)


def _no_response(request: HttpRequest) -> HttpResponse:
    raise AssertionError("lifted views' middleware never calls the next layer")  # pragma: no cover


def _load() -> LiftedMiddleware:
    classes: list[Any] = [import_string(path) for path in settings.MIDDLEWARE]
    wanted = applied_middleware()
    applied: list[Callable[..., Any]] = [
        cls for cls in classes if isinstance(cls, type) and issubclass(cls, wanted)
    ]
    instances = [cls(_no_response) for cls in applied]
    security = [m for m in instances if isinstance(m, SecurityMiddleware)]
    with_headers = [
        m for m in instances if isinstance(m, SecurityMiddleware | XFrameOptionsMiddleware)
    ]
    login_class = login_required_middleware()
    login = [m for m in instances if login_class is not None and isinstance(m, login_class)]
    headers = _headers_added(with_headers, "http")
    secure_headers = _headers_added(with_headers, "https")
    return LiftedMiddleware(
        ssl_redirect=next((m for m in security if m.redirect), None),
        headers=headers,
        # The same object when equal: then the scheme need not be known.
        secure_headers=headers if secure_headers == headers else secure_headers,
        login_required=login[0] if login else None,
        forwarded_host=bool(settings.USE_X_FORWARDED_HOST),
    )


def _headers_added(middleware: Sequence[Any], scheme: str) -> Headers:
    """The headers ``middleware`` adds to a response that has none of its own."""
    probe = _Probe(scheme)
    response: HttpResponseBase = HttpResponse()
    before = {name.lower() for name in response.headers}
    # Responses go through the middleware in reverse order, as in Django's chain.
    for layer in reversed(middleware):
        response = layer.process_response(probe, response)
    return tuple(
        (name, str(value)) for name, value in response.items() if name.lower() not in before
    )


_current: list[LiftedMiddleware] = []


def current_middleware() -> LiftedMiddleware:
    """The project's middleware for lifted views, loaded once."""
    if not _current:
        _current.append(_load())
    return _current[0]


def _forget(*, setting: str, **kwargs: object) -> None:
    _current.clear()
    forget_verdicts(setting)


def watch_settings() -> None:
    """Recompute when a setting changes (tests' ``override_settings``); idempotent.

    ``AppConfig.ready()`` and ``get_aio_application()`` call it.
    """
    setting_changed.connect(_forget, dispatch_uid="aiodjango.lifted.middleware")


def login_probe(view: object) -> Callable[..., Any]:
    """What ``LoginRequiredMiddleware`` is shown for ``view``: its own marks only.

    Django's ``login_not_required`` sets ``login_required = False`` on what it decorates; on a
    ``web.View`` class that attribute would be inherited by subclasses, which must not be
    exempted by their parent's mark. So a class is shown as a function carrying the marks
    set on the class itself.
    """
    if not isinstance(view, type):
        return view  # type: ignore[return-value]

    @functools.wraps(view, assigned=("__module__", "__name__", "__qualname__"), updated=())
    def marks() -> None:  # pragma: no cover - never called
        pass

    for name in ("login_required", "login_url", "redirect_field_name"):
        if name in vars(view):
            setattr(marks, name, vars(view)[name])
    return marks


def login_redirect(
    middleware: Any, request: web.Request, probe: Callable[..., Any], user: Any
) -> HttpResponseBase | None:
    """``LoginRequiredMiddleware.process_view`` for a lifted request: None, or its redirect."""
    django_request = DjangoRequest(request)
    django_request.user = user
    response: HttpResponseBase | None = middleware.process_view(django_request, probe, (), {})
    return response


def ssl_redirect(middleware: SecurityMiddleware, request: web.Request) -> str | None:
    """``SecurityMiddleware``'s HTTPS redirect for a lifted request: None, or the Location."""
    response = middleware.process_request(DjangoRequest(request))
    return None if response is None else str(response[hdrs.LOCATION])
