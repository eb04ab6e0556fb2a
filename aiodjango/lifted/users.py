"""The Django user of a lifted view's request, read through Django's own authentication."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from aiohttp import web
from asgiref.sync import sync_to_async
from django.contrib.auth import SESSION_KEY
from django.contrib.auth import get_user as django_get_user
from django.http import HttpRequest

from .._compat import RequestKey
from .sessions import get_session

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser
    from django.contrib.auth.models import AnonymousUser

    User = AbstractBaseUser | AnonymousUser

__all__ = ["get_user"]

_USER = RequestKey("aiodjango.user", object)


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
