"""Django's ``login_required`` and ``permission_required``, for lifted views.

Same rules as Django's decorators, same settings (``LOGIN_URL``, any authentication backend);
a websocket handshake that fails them is refused with 403 instead of being redirected.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, cast, overload
from urllib.parse import urlsplit

from aiohttp import hdrs, web
from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.shortcuts import resolve_url

from ..server.websockets import is_websocket_handshake
from .requests import DjangoRequest, View, forbidden, request_locator
from .users import get_user

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser
    from django.contrib.auth.models import AnonymousUser, PermissionsMixin

    User = AbstractBaseUser | AnonymousUser

__all__ = ["login_required", "permission_required"]


def _redirect_to_login(
    request: web.BaseRequest, login_url: str | None, redirect_field_name: str | None
) -> web.Response:
    """Redirect to the login page with the current path in ``next``, like Django's decorators."""
    from django.contrib.auth.views import redirect_to_login

    resolved_login_url = resolve_url(login_url or settings.LOGIN_URL)
    login_scheme, login_netloc = urlsplit(resolved_login_url)[:2]
    path = request.raw_path
    scheme = DjangoRequest(request).scheme
    host = request.headers.get(hdrs.HOST, "")
    # A login page on another site needs the absolute URL to come back to.
    if (login_scheme and login_scheme != scheme) or (login_netloc and login_netloc != host):
        path = f"{scheme}://{host}{path}"
    location = redirect_to_login(path, resolved_login_url, redirect_field_name)["Location"]
    return web.Response(status=302, headers={hdrs.LOCATION: location})


def _user_passes_test(
    view: View,
    decorator: str,
    test: Callable[[User], Awaitable[bool]],
    login_url: str | None,
    redirect_field_name: str | None,
) -> View:
    locate = request_locator(view, decorator)

    @functools.wraps(view)
    async def guarded(*args: object, **kwargs: object) -> web.StreamResponse:
        request = locate(args, kwargs)
        try:
            passed = await test(await get_user(request))
        except PermissionDenied:
            return forbidden("permission denied")
        if passed:
            return await view(*args, **kwargs)
        if is_websocket_handshake(request):
            return forbidden("login required")
        return _redirect_to_login(request, login_url, redirect_field_name)

    return cast(View, guarded)


@overload
def login_required(
    view: View, *, login_url: str | None = None, redirect_field_name: str | None = "next"
) -> View: ...
@overload
def login_required(
    view: None = None, *, login_url: str | None = None, redirect_field_name: str | None = "next"
) -> Callable[[View], View]: ...
def login_required(
    view: View | None = None,
    *,
    login_url: str | None = None,
    redirect_field_name: str | None = "next",
) -> View | Callable[[View], View]:
    """Let only authenticated users in, like Django's ``login_required``.

    Others are redirected to ``login_url`` (default ``LOGIN_URL``) with the current path in the
    ``redirect_field_name`` query parameter; a websocket handshake is refused with 403 instead.
    """

    async def is_authenticated(user: User) -> bool:
        return user.is_authenticated

    def decorate(view: View) -> View:
        guarded = _user_passes_test(
            view, "login_required", is_authenticated, login_url, redirect_field_name
        )
        # Read by LoginRequiredMiddleware (Django 5.1+), as on Django's own decorator.
        guarded.login_url = login_url  # type: ignore[attr-defined]
        guarded.redirect_field_name = redirect_field_name  # type: ignore[attr-defined]
        return guarded

    return decorate if view is None else decorate(view)


def permission_required(
    perm: str | Iterable[str], *, login_url: str | None = None, raise_exception: bool = False
) -> Callable[[View], View]:
    """Let in users who have ``perm`` (one or several), like Django's ``permission_required``.

    Others are redirected to the login page, or refused with 403 when ``raise_exception`` is set
    or the request is a websocket handshake.
    """
    perms = (perm,) if isinstance(perm, str) else tuple(perm)

    async def has_perms(user: User) -> bool:
        # Backends may query the database: ask in the thread-sensitive thread.
        checker = cast("PermissionsMixin | AnonymousUser", user)
        if await sync_to_async(checker.has_perms, thread_sensitive=True)(perms):
            return True
        if raise_exception:
            raise PermissionDenied
        return False

    def decorate(view: View) -> View:
        return _user_passes_test(view, "permission_required", has_perms, login_url, "next")

    return decorate
