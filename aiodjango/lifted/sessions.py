"""Django sessions for lifted views: loaded from the session cookie, saved into the response.

Lifted views bypass ``SessionMiddleware``; :func:`get_session` and :func:`save_session` do its
two halves with the engine named by ``SESSION_ENGINE``. Stores that may block (database, cache,
files) are read and written through asgiref's ``sync_to_async`` in the thread-sensitive thread,
where Django's async ORM runs too; a request without a session cookie and the signed-cookie
engine involve no I/O and stay on the event loop.
"""

from __future__ import annotations

import logging
import time
from importlib import import_module
from typing import cast

from aiohttp import hdrs, web
from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase, UpdateError
from django.contrib.sessions.backends.signed_cookies import SessionStore as SignedCookieSession
from django.contrib.sessions.exceptions import SessionInterrupted
from django.utils.http import http_date

from .._compat import RequestKey

__all__ = ["get_session", "has_unsaved_session", "save_session", "save_session_after_view"]

logger = logging.getLogger("aiodjango.sessions")


class _SessionState:
    """The session loaded for one request, and whether it was saved since it last changed."""

    __slots__ = ("saved", "session")

    def __init__(self, session: SessionBase) -> None:
        self.session = session
        self.saved = False


_SESSION = RequestKey("aiodjango.session", _SessionState)


def _signed(session: SessionBase) -> bool:
    """True for the signed-cookie engine, whose loading and saving is pure computation."""
    return isinstance(session, SignedCookieSession)


async def get_session(request: web.BaseRequest) -> SessionBase:
    """The Django session named by the request's session cookie, loaded (once per request).

    Any ``SESSION_ENGINE`` works. Without a cookie the session is new and empty. Changes are
    saved by :func:`~aiodjango.lifted.protection.protect_lifted_view` after the view, or by
    :func:`save_session`.
    """
    state = request.get(_SESSION)
    if state is None:
        engine = import_module(settings.SESSION_ENGINE)
        session: SessionBase = engine.SessionStore(
            request.cookies.get(settings.SESSION_COOKIE_NAME)
        )
        # Reading the keys loads the session data, as Django's first access would.
        if session.session_key is None or _signed(session):
            session.keys()
        else:
            await sync_to_async(session.keys, thread_sensitive=True)()
        state = request.get(_SESSION)  # a concurrent call may have finished first
        if state is None:
            state = request[_SESSION] = _SessionState(session)
    return state.session


async def save_session(request: web.BaseRequest, response: web.StreamResponse) -> None:
    """Save the request's session and set (or delete) its cookie, as ``SessionMiddleware`` does.

    Call it before the response is prepared (before ``await ws.prepare(request)`` for a
    websocket, before the first write of a stream); lifted views that return their response
    unprepared need not call it. Does nothing when the session was never read.
    """
    state = request.get(_SESSION)
    if state is None:
        return
    if response.prepared:
        raise RuntimeError(
            "save_session() needs a response whose headers are not sent yet: "
            "call it before preparing the response"
        )
    session = state.session
    state.saved = True
    cookie_name = settings.SESSION_COOKIE_NAME
    samesite = settings.SESSION_COOKIE_SAMESITE or None
    empty = session.is_empty()
    if empty and cookie_name in request.cookies:
        response.set_cookie(
            cookie_name,
            "",
            max_age=0,
            expires="Thu, 01 Jan 1970 00:00:00 GMT",
            domain=settings.SESSION_COOKIE_DOMAIN,
            path=settings.SESSION_COOKIE_PATH,
            # Browsers drop these cookies unless the deletion is Secure too (like Django).
            secure=cookie_name.startswith(("__Secure-", "__Host-"))
            or (samesite is not None and samesite.lower() == "none")
            or None,
            samesite=samesite,
        )
        _vary_on_cookie(response)
        return
    if session.accessed:
        _vary_on_cookie(response)
    if empty or not (session.modified or settings.SESSION_SAVE_EVERY_REQUEST):
        return
    if response.status >= 500:
        return  # like Django: a failed request does not commit its session changes
    max_age: int | None = None
    expires: str | None = None
    if not session.get_expire_at_browser_close():
        max_age = session.get_expiry_age()
        expires = http_date(time.time() + max_age)
    try:
        if _signed(session):
            session.save()
        else:
            await sync_to_async(session.save, thread_sensitive=True)()
    except UpdateError:
        raise SessionInterrupted(
            "The request's session was deleted before the request completed."
        ) from None
    session.modified = False
    response.set_cookie(
        cookie_name,
        cast(str, session.session_key),
        max_age=max_age,
        expires=expires,
        domain=settings.SESSION_COOKIE_DOMAIN,
        path=settings.SESSION_COOKIE_PATH,
        secure=settings.SESSION_COOKIE_SECURE or None,
        httponly=settings.SESSION_COOKIE_HTTPONLY or None,
        samesite=samesite,
    )
    _vary_on_cookie(response)


def has_unsaved_session(request: web.BaseRequest) -> bool:
    """Whether the request loaded a session that was not saved since it last changed.

    Checked without a coroutine, so that views which never read the session pay nothing.
    """
    if not len(request):
        return False  # nothing stored on the request: quicker than a lookup that misses
    state = request.get(_SESSION)
    return state is not None and not (state.saved and not state.session.modified)


async def save_session_after_view(
    request: web.BaseRequest, response: web.StreamResponse
) -> web.StreamResponse:
    """What ``SessionMiddleware`` does after a view: save changes into the returned response.

    A response the view already prepared cannot take a cookie any more: changes are then lost,
    with a warning, unless the view called :func:`save_session` itself.
    """
    if not has_unsaved_session(request):
        return response
    state = request[_SESSION]
    if response.prepared:
        if state.session.modified:
            logger.warning(
                "Session changes not saved for %s: the view prepared its response before "
                "calling save_session()",
                request.path,
            )
        return response
    try:
        await save_session(request, response)
    except SessionInterrupted as exc:
        return web.Response(status=400, text=f"400 Bad Request: {exc}\n")
    return response


def _vary_on_cookie(response: web.StreamResponse) -> None:
    vary = response.headers.get(hdrs.VARY, "")
    fields = {field.strip().lower() for field in vary.split(",")}
    if "cookie" not in fields and "*" not in fields:
        response.headers[hdrs.VARY] = f"{vary}, Cookie" if vary.strip() else "Cookie"
