"""Identity and protection for lifted views, which bypass Django's middleware.

A lifted view receives an aiohttp request, so Django's session, authentication and CSRF
middleware never run for it. aiodjango gives such views the same facts and the same rules,
always through Django's own machinery: sessions from ``SESSION_ENGINE``
(:mod:`aiodjango.sessions`), the user from ``django.contrib.auth.get_user()`` (any backends,
session hash checks), the rules of Django's ``login_required`` and ``permission_required``, and
``CsrfViewMiddleware``'s checks (:mod:`aiodjango.csrf`). What may block runs through asgiref's
``sync_to_async``; what cannot (no session, signed-cookie sessions, anonymous users) stays on the
event loop.

:func:`protect_lifted_view`, which routing applies to every lifted view, does the rest of the
middleware's work: it refuses websocket handshakes from foreign origins, saves the session and
looks after database connections (:mod:`aiodjango.db`).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, cast, overload
from urllib.parse import urlsplit

from aiohttp import hdrs, web
from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.auth import get_user as django_get_user
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.shortcuts import resolve_url

from . import db
from .csrf import (
    ANY_ORIGIN_ATTRIBUTE,
    DjangoRequest,
    View,
    allow_any_origin,
    csrf_protect,
    forbidden,
    is_websocket_handshake,
    origin_allowed,
    request_locator,
)
from .server import watch_websocket
from .sessions import get_session, has_unsaved_session, save_session, save_session_after_view

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser
    from django.contrib.auth.models import AnonymousUser, PermissionsMixin

    User = AbstractBaseUser | AnonymousUser

__all__ = [
    "allow_any_origin",
    "csrf_protect",
    "get_session",
    "get_user",
    "login_required",
    "permission_required",
    "protect_lifted_view",
    "save_session",
]

logger = logging.getLogger("aiodjango.auth")

#: What routing calls to serve one lifted view.
LiftedHandler = Callable[[web.Request], Awaitable[web.StreamResponse]]


# aiohttp >= 3.12 wants typed keys for request storage; older versions only have strings.
if TYPE_CHECKING or hasattr(web, "RequestKey"):
    _USER = web.RequestKey("user", object)
else:
    _USER = "aiodjango.auth.user"


async def get_user(request: web.BaseRequest) -> AbstractBaseUser | AnonymousUser:
    """The user logged in to the request's session, or ``AnonymousUser`` (once per request).

    This is ``django.contrib.auth.get_user()``: any ``AUTHENTICATION_BACKENDS``, and a session
    whose password hash no longer matches (the password changed) is flushed.
    """
    user = request.get(_USER)
    if user is None:
        session = await get_session(request)
        if SESSION_KEY in session:
            # Django's get_user() only looks at request.session.
            carrier = HttpRequest()
            carrier.session = session
            user = await sync_to_async(django_get_user, thread_sensitive=True)(carrier)
        else:
            from django.contrib.auth.models import AnonymousUser

            user = AnonymousUser()
        user = request.setdefault(_USER, user)  # a concurrent call may have finished first
    return cast("User", user)


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
        return _user_passes_test(
            view, "login_required", is_authenticated, login_url, redirect_field_name
        )

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


def protect_lifted_view(handler: LiftedHandler, view: object) -> LiftedHandler:
    """Wrap a lifted view's handler with what Django's middleware would have done around it.

    Websocket handshakes from a foreign ``Origin`` are refused with 403 before the view runs
    (unless ``view`` is marked with :func:`allow_any_origin`), and the others are watched so that
    a shutdown closes their websocket (:func:`~aiodjango.server.watch_websocket`); session
    changes are saved into
    the response the view returns; the database connections the request used are looked after.
    """
    check_origin = not getattr(view, ANY_ORIGIN_ATTRIBUTE, False)

    async def protected(request: web.Request) -> web.StreamResponse:
        if is_websocket_handshake(request):
            origin = request.headers.get(hdrs.ORIGIN)
            if check_origin and origin is not None and not origin_allowed(origin):
                logger.warning("Forbidden (websocket Origin %r): %s", origin, request.path)
                return forbidden("cross-origin websocket handshake")
            watch_websocket(request)
        use = db.start_request()
        try:
            try:
                response = await handler(request)
            except web.HTTPException as exc:
                # aiohttp 3 exceptions are responses: a redirect after login keeps its cookie.
                if has_unsaved_session(request):
                    await save_session_after_view(request, exc)
                raise
            # Awaited only when needed: views that never touch the session or the database
            # then cost no more than the view itself.
            if has_unsaved_session(request):
                response = await save_session_after_view(request, response)
            return response
        finally:
            if db.finish_request(use):
                await db.look_after_connections(use)

    # Names for tracebacks and route listings; a class's attributes are not copied.
    return functools.update_wrapper(protected, handler, updated=())
