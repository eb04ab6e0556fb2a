"""What Django's middleware does around a view, done for lifted views, which bypass it.

:func:`protect_lifted_view`, which routing applies to every lifted view, checks the ``Host``
(:mod:`aiodjango.lifted.hosts`), applies the project's security middleware
(:mod:`aiodjango.lifted.middleware`: HTTPS redirect, security headers, login required),
refuses websocket handshakes from foreign origins (:mod:`aiodjango.lifted.origin`), saves the
session (:mod:`aiodjango.lifted.sessions`), looks after database connections
(:mod:`aiodjango.lifted.db`) and marks event streams for proxies not to buffer. The rest is
opt-in per view: the user (:mod:`aiodjango.lifted.users`), login and permission rules
(:mod:`aiodjango.lifted.decorators`) and CSRF (:mod:`aiodjango.lifted.csrf`).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from aiohttp import hdrs, web
from multidict import CIMultiDict

from .._compat import watch_prepare
from ..routing.kinds import Handler
from ..server.websockets import is_websocket_handshake, watch_websocket
from . import db
from .hosts import disallowed_host, host_allowed
from .middleware import current_middleware, login_probe, login_redirect, ssl_redirect
from .origin import allows_any_origin, origin_allowed
from .requests import aiohttp_response, forbidden
from .sessions import has_unsaved_session, save_session_after_view
from .users import get_user

__all__ = ["protect_lifted_view"]

logger = logging.getLogger("aiodjango.auth")

#: The media type of server-sent events.
EVENT_STREAM = "text/event-stream"
#: nginx's per-response switch for its response buffering.
X_ACCEL_BUFFERING = "X-Accel-Buffering"


def protect_lifted_view(handler: Handler, view: object) -> Handler:
    """Wrap a lifted view's handler with what Django's middleware would have done around it.

    Before the view: a ``Host`` that ``ALLOWED_HOSTS`` refuses gets 400; ``SECURE_SSL_REDIRECT``
    redirects plain HTTP; with ``LoginRequiredMiddleware``, anonymous users are sent to the login
    page (unless ``view`` is marked ``login_not_required``); several ``Cookie`` headers are
    joined into one, as Django joins them. Websocket handshakes from a foreign ``Origin``, or
    with several, are refused with 403 (unless ``view`` is marked with
    :func:`allow_any_origin`), and the others are watched so that a shutdown closes their
    websocket (:func:`~aiodjango.server.watch_websocket`). After it: HTTP responses get the
    headers of ``SecurityMiddleware`` and ``XFrameOptionsMiddleware`` as they are prepared,
    and ``text/event-stream`` responses ``X-Accel-Buffering: no`` (unless the view set it);
    session changes are saved into the response the view returns; the database connections
    the request used are looked after.
    """
    check_origin = not allows_any_origin(view)
    shown_to_login_middleware = login_probe(view)

    async def protected(request: web.Request) -> web.StreamResponse:
        middleware = current_middleware()
        websocket = is_websocket_handshake(request)
        if not websocket:
            # Every response prepared for the request, the view's own streams included.
            watch_prepare(request, _add_headers)
        if not host_allowed(request, middleware.forwarded_host):
            return disallowed_host(request)
        if len(request.headers.getall(hdrs.COOKIE, ())) > 1:
            try:
                request = _one_cookie_header(request)
            except UnicodeEncodeError:  # header bytes that are not UTF-8, as aiohttp kept them
                return web.Response(status=400, text="400 Bad Request: malformed headers\n")
        if middleware.ssl_redirect is not None:
            location = ssl_redirect(middleware.ssl_redirect, request)
            if location is not None:
                return web.Response(status=301, headers={hdrs.LOCATION: location})
        if websocket:
            origins = request.headers.getall(hdrs.ORIGIN, ())
            if len(origins) > 1:
                logger.warning("Forbidden (several websocket Origins): %s", request.path)
                return forbidden("several Origin headers")
            if check_origin and origins and not origin_allowed(request, origins[0]):
                logger.warning("Forbidden (websocket Origin %r): %s", origins[0], request.path)
                return forbidden("cross-origin websocket handshake")
            watch_websocket(request)
        if middleware.login_required is not None:
            refusal = await _login_refusal(
                middleware.login_required, request, shown_to_login_middleware, websocket
            )
            if refusal is not None:
                return refusal
        return await _call_view(handler, request)

    # Names for tracebacks and route listings; a class's attributes are not copied.
    return functools.update_wrapper(protected, handler, updated=())


async def _call_view(handler: Handler, request: web.Request) -> web.StreamResponse:
    """Call the view; save the session into its response and look after the database."""
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


def _add_headers(request: web.Request, response: web.StreamResponse) -> None:
    """The headers a response gets as it is prepared: the security middleware's, and
    ``X-Accel-Buffering: no`` on an event stream, so that a proxy such as nginx passes each
    event on at once instead of holding it in its response buffer."""
    middleware = current_middleware()
    if middleware.adds_headers:
        middleware.add_headers(request, response)
    if response.content_type == EVENT_STREAM:
        response.headers.setdefault(X_ACCEL_BUFFERING, "no")


def _one_cookie_header(request: web.Request) -> web.Request:
    """The request with its ``Cookie`` headers joined into one, the way Django reads them."""
    headers = CIMultiDict(request.headers)
    joined = "; ".join(headers.popall(hdrs.COOKIE))
    headers[hdrs.COOKIE] = joined
    # A clone forgets what a trusted proxy said unless told again (aiodjango.server.proxy).
    remote, scheme = request.remote or "", request.scheme
    if hdrs.HOST in headers:
        clone = request.clone(headers=headers, remote=remote, scheme=scheme, host=request.host)
    else:
        clone = request.clone(headers=headers, remote=remote, scheme=scheme)
    assert isinstance(clone, web.Request)
    return clone


async def _login_refusal(
    middleware: Any, request: web.Request, view: Callable[..., Any], websocket: bool
) -> web.StreamResponse | None:
    """``LoginRequiredMiddleware``'s verdict: None to let the request in, else the refusal."""
    if getattr(view, "login_required", True) is False:
        return None  # marked login_not_required: no need to load the user
    redirect = login_redirect(middleware, request, view, await get_user(request))
    if redirect is None:
        return None
    if websocket:
        return forbidden("login required")  # a handshake cannot follow a redirect
    return aiohttp_response(redirect)
