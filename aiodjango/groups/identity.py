"""The logout rule: a socket opened by a user does not outlive that user's login.

Every socket that joins groups also joins its session's group and its user's group. Logging out
closes the session's sockets; a password change, deactivation or deletion of the user closes
the user's sockets, in every process, through the channel layer. Signals cannot see everything
(a session deleted in the database or expired): a lifted view that acts for the user long after
the handshake calls :func:`refresh_user` first, which reads the session and the user again.
"""

from __future__ import annotations

import hashlib
import logging
import re
import weakref
from importlib import import_module
from typing import TYPE_CHECKING, Any

from aiohttp import web
from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth import get_user as django_get_user
from django.contrib.auth import get_user_model, user_logged_out
from django.db import transaction
from django.db.models.signals import post_delete, post_save, pre_save
from django.http import HttpRequest

from ..lifted import get_session, get_user
from .sending import close_group

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser
    from django.contrib.auth.models import AnonymousUser

__all__ = [
    "LOGGED_OUT",
    "connect_signals",
    "identity_groups",
    "refresh_user",
    "session_group",
    "user_group",
]

logger = logging.getLogger("aiodjango.groups")

#: The close code and reason a socket gets when its login ends (1008: policy violation).
LOGGED_OUT = (1008, "logged out")
_GROUP_SAFE = re.compile(r"[A-Za-z0-9_.-]{1,64}")


def user_group(user: AbstractBaseUser | Any) -> str:
    """The group every socket of ``user`` (a user, or a primary key) is in."""
    pk = getattr(user, "pk", user)
    text = str(pk)
    if not _GROUP_SAFE.fullmatch(text):
        text = hashlib.sha256(text.encode()).hexdigest()[:40]
    return f"aiodjango.user.{text}"


def session_group(session_key: str) -> str:
    """The group of the sockets opened with one session (named by a hash: keys are secrets)."""
    digest = hashlib.sha256(f"aiodjango.session:{session_key}".encode()).hexdigest()[:40]
    return f"aiodjango.session.{digest}"


async def identity_groups(request: web.Request) -> list[str]:
    """The session's and the user's groups of the request (none for an anonymous visitor)."""
    user = await get_user(request)
    if not user.is_authenticated:
        return []
    groups = [user_group(user)]
    session_key = (await get_session(request)).session_key
    if session_key:
        groups.append(session_group(session_key))
    return groups


async def refresh_user(request: web.BaseRequest) -> AbstractBaseUser | AnonymousUser:
    """The user of the request's session as it is now, not as it was at the handshake.

    ``AnonymousUser`` once the session was logged out or flushed, the user deactivated or
    deleted, or the password changed (Django's session hash check). Reads the session store and
    the database each time, in the thread where Django's async ORM runs.
    """
    session_key = request.cookies.get(settings.SESSION_COOKIE_NAME)

    def read() -> AbstractBaseUser | AnonymousUser:
        carrier = HttpRequest()
        carrier.session = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
        return django_get_user(carrier)

    return await sync_to_async(read, thread_sensitive=True)()


# Users saved with a new password or deactivated, until their save is committed.
_credentials_changed: weakref.WeakSet[Any] = weakref.WeakSet()


def _close_after_commit(group: str) -> None:
    transaction.on_commit(lambda: close_group(group, *LOGGED_OUT))


def _on_logged_out(sender: object, request: HttpRequest | None, **kwargs: object) -> None:
    # Sent before the session is flushed: its key still names the session's group.
    session = getattr(request, "session", None)
    if session is not None and session.session_key:
        close_group(session_group(session.session_key), *LOGGED_OUT)


def _before_user_save(
    sender: type[Any], instance: Any, raw: bool, update_fields: Any, **kwargs: object
) -> None:
    watched = [f for f in ("password", "is_active") if hasattr(instance, f)]
    if raw or instance.pk is None or not watched:
        return
    if update_fields is not None and not set(watched) & set(update_fields):
        return  # such as the last_login update at every login
    before = sender._default_manager.filter(pk=instance.pk).values(*watched).first()
    if before is None:
        return
    if before.get("password") != getattr(instance, "password", None) or (
        before.get("is_active") and not getattr(instance, "is_active", True)
    ):
        _credentials_changed.add(instance)


def _after_user_save(sender: type[Any], instance: Any, **kwargs: object) -> None:
    if instance in _credentials_changed:
        _credentials_changed.discard(instance)
        _close_after_commit(user_group(instance))


def _after_user_delete(sender: type[Any], instance: Any, **kwargs: object) -> None:
    _close_after_commit(user_group(instance))


def connect_signals() -> None:
    """Close sockets on logout, password change, deactivation and deletion (from ready())."""
    user_model = get_user_model()
    uid = "aiodjango.groups.identity"
    user_logged_out.connect(_on_logged_out, dispatch_uid=uid)
    pre_save.connect(_before_user_save, sender=user_model, dispatch_uid=uid)
    post_save.connect(_after_user_save, sender=user_model, dispatch_uid=uid)
    post_delete.connect(_after_user_delete, sender=user_model, dispatch_uid=uid)
