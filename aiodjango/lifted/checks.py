"""System checks naming the lifted views that a project's security middleware does not reach.

Lifted views bypass ``MIDDLEWARE``. aiodjango applies some middleware to them itself
(:func:`~aiodjango.lifted.middleware.applied_middleware`), gives the effect of others on demand
(sessions, users, CSRF with :func:`~aiodjango.lifted.csrf_protect`), and knows that some make no
promise a lifted view misses. Any other middleware is reported, with the lifted views it does
not protect, so that the bypass is never silent.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core.checks import CheckMessage, Tags, Warning, register
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from ..routing import LiftedPattern, find_lifted_patterns
from .csrf import CSRF_PROTECTED_ATTRIBUTE
from .middleware import applied_middleware

__all__ = ["check_bypassed_middleware", "check_unprotected_unsafe_methods"]

#: Middleware whose effect lifted views have by other means, or that makes no security promise.
NOT_BYPASSED = frozenset(
    {
        # Given on demand: get_session(), get_user(), csrf_protect (checked below).
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.contrib.auth.middleware.AuthenticationMiddleware",
        "django.middleware.csrf.CsrfViewMiddleware",
        # Conveniences, caches and i18n: nothing a lifted view is less safe without.
        "django.middleware.common.CommonMiddleware",
        "django.middleware.common.BrokenLinkEmailsMiddleware",
        "django.middleware.locale.LocaleMiddleware",
        "django.middleware.gzip.GZipMiddleware",
        "django.middleware.http.ConditionalGetMiddleware",
        "django.middleware.cache.UpdateCacheMiddleware",
        "django.middleware.cache.FetchFromCacheMiddleware",
        "django.middleware.cache.CacheMiddleware",
        "django.contrib.messages.middleware.MessageMiddleware",
        "django.contrib.sites.middleware.CurrentSiteMiddleware",
        "django.contrib.flatpages.middleware.FlatpageFallbackMiddleware",
        "django.contrib.redirects.middleware.RedirectFallbackMiddleware",
        "django.contrib.admindocs.middleware.XViewMiddleware",
    }
)
_UNSAFE_METHODS = ("post", "put", "patch", "delete")
_LISTED = 10


def _lifted_patterns() -> list[LiftedPattern] | None:
    try:
        return find_lifted_patterns()
    except (ImportError, ImproperlyConfigured):
        return None  # a URLconf that does not load is reported by Django's own URL checks


def _names(patterns: Sequence[LiftedPattern]) -> str:
    listed = ", ".join(pattern.description for pattern in patterns[:_LISTED])
    more = len(patterns) - _LISTED
    return listed + (f" and {more} more" if more > 0 else "")


@register(Tags.security, Tags.urls)
def check_bypassed_middleware(
    *, app_configs: Sequence[AppConfig] | None, databases: Sequence[str] | None, **kwargs: Any
) -> list[CheckMessage]:
    """Middleware in ``MIDDLEWARE`` whose protection lifted views do not get."""
    bypassed = []
    applied = applied_middleware()
    for path in settings.MIDDLEWARE:
        if path in NOT_BYPASSED:
            continue
        try:
            middleware = import_string(path)
        except ImportError:
            continue  # Django's own checks and startup report it
        if isinstance(middleware, type) and issubclass(middleware, applied):
            continue
        bypassed.append(path)
    if not bypassed:
        return []
    patterns = _lifted_patterns()
    if not patterns:
        return []
    return [
        Warning(
            f"Lifted views bypass {path}, which runs only for Django views: {_names(patterns)}.",
            hint=(
                "Do what the middleware does in those views, or serve them with Django "
                "(aiodjango.django_view); silence aiodjango.W010 once they are covered."
            ),
            obj=path,
            id="aiodjango.W010",
        )
        for path in bypassed
    ]


@register(Tags.security, Tags.urls)
def check_unprotected_unsafe_methods(
    *, app_configs: Sequence[AppConfig] | None, databases: Sequence[str] | None, **kwargs: Any
) -> list[CheckMessage]:
    """``web.View`` classes whose POST, PUT, PATCH or DELETE have no CSRF check.

    With ``CsrfViewMiddleware`` in ``MIDDLEWARE`` such a method of a Django view would be
    checked. A function view may answer any method, but whether it acts on unsafe ones only
    its code tells, so only classes, whose methods say so, are named.
    """
    if "django.middleware.csrf.CsrfViewMiddleware" not in settings.MIDDLEWARE:
        return []
    unprotected = [
        pattern
        for pattern in _lifted_patterns() or []
        if isinstance(pattern.view, type)
        and any(
            not _csrf_covered(method)
            for name in _UNSAFE_METHODS
            if (method := getattr(pattern.view, name, None)) is not None
        )
    ]
    if not unprotected:
        return []
    return [
        Warning(
            f"Lifted views answer unsafe methods without a CSRF check: {_names(unprotected)}.",
            hint=(
                "Decorate their post/put/patch/delete methods with aiodjango.csrf_protect, "
                "or with django.views.decorators.csrf.csrf_exempt if they need none."
            ),
            id="aiodjango.W011",
        )
    ]


def _csrf_covered(method: object) -> bool:
    return bool(
        getattr(method, CSRF_PROTECTED_ATTRIBUTE, False) or getattr(method, "csrf_exempt", False)
    )
