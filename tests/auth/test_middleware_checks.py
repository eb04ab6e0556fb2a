"""``manage.py check`` names the lifted views that the project's security middleware misses."""

from __future__ import annotations

from aiohttp import web
from django.core import checks
from django.test import override_settings
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from aiodjango.lifted import csrf_protect

from . import views

BASE_MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
HERE = __name__


class Board(web.View):
    """Takes POST and DELETE: the DELETE has no CSRF check."""

    @csrf_protect
    async def post(self) -> web.Response:
        return web.Response(text="posted")

    async def delete(self) -> web.Response:
        return web.Response(text="deleted")


class Feed(web.View):
    async def get(self) -> web.Response:
        return web.Response(text="feed")

    @csrf_exempt
    async def post(self) -> web.Response:
        return web.Response(text="webhook")


urlpatterns = [
    path("plain/", views.plain),
    path("board/", Board),
    path("feed/", Feed),
]


def messages(prefix: str) -> list[checks.CheckMessage]:
    return [m for m in checks.run_checks() if (m.id or "").startswith(prefix)]


@override_settings(MIDDLEWARE=BASE_MIDDLEWARE, ROOT_URLCONF=HERE)
def test_middleware_aiodjango_covers_is_not_reported() -> None:
    assert messages("aiodjango.W010") == []


@override_settings(
    MIDDLEWARE=[*BASE_MIDDLEWARE, "django.contrib.auth.middleware.RemoteUserMiddleware"],
    ROOT_URLCONF=HERE,
)
def test_bypassed_middleware_is_reported_with_the_lifted_views() -> None:
    (warning,) = messages("aiodjango.W010")
    assert warning.level == checks.WARNING
    assert "django.contrib.auth.middleware.RemoteUserMiddleware" in warning.msg
    for route in ("'plain/'", "'board/'", "'feed/'"):
        assert route in warning.msg


@override_settings(
    MIDDLEWARE=[*BASE_MIDDLEWARE, "django.contrib.auth.middleware.RemoteUserMiddleware"],
    ROOT_URLCONF="tests.urls",
)
def test_no_report_without_lifted_views() -> None:
    assert messages("aiodjango.W010") == []


@override_settings(MIDDLEWARE=BASE_MIDDLEWARE, ROOT_URLCONF=HERE)
def test_unsafe_methods_without_csrf_check_are_reported() -> None:
    (warning,) = messages("aiodjango.W011")
    assert "'board/'" in warning.msg
    assert "'feed/'" not in warning.msg  # csrf_exempt says so on purpose
    assert "'plain/'" not in warning.msg  # a function: its methods are its own business


@override_settings(MIDDLEWARE=[m for m in BASE_MIDDLEWARE if "csrf" not in m], ROOT_URLCONF=HERE)
def test_no_csrf_report_without_csrf_middleware() -> None:
    assert messages("aiodjango.W011") == []
