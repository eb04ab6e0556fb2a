"""What Django's middleware does around a view, done for lifted views, which bypass it.

:func:`protect_lifted_view`, which routing applies to every lifted view, refuses websocket
handshakes from foreign origins (:mod:`aiodjango.lifted.origin`), saves the session
(:mod:`aiodjango.lifted.sessions`) and looks after database connections
(:mod:`aiodjango.lifted.db`). The rest is opt-in per view: the user
(:mod:`aiodjango.lifted.users`), login and permission rules (:mod:`aiodjango.lifted.decorators`)
and CSRF (:mod:`aiodjango.lifted.csrf`).
"""

from __future__ import annotations

import functools
import logging

from aiohttp import hdrs, web

from ..routing.kinds import Handler
from ..server.websockets import watch_websocket
from . import db
from .origin import ANY_ORIGIN_ATTRIBUTE, is_websocket_handshake, origin_allowed
from .requests import forbidden
from .sessions import has_unsaved_session, save_session_after_view

__all__ = ["protect_lifted_view"]

logger = logging.getLogger("aiodjango.auth")


def protect_lifted_view(handler: Handler, view: object) -> Handler:
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
