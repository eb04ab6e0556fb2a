"""Who a test client is: session cookies from Django's own test client, and a CSRF token.

Django's :class:`django.test.Client` already knows how to log a user in without a request
(``force_login``), with credentials (``login``) and out (``logout``), sending the auth signals
and honouring every session engine. These functions run it and hand back the cookie it
computed, so that a client talking to a real server carries the same session. They use the
ORM: call them in a thread (``sync_to_async``), never on the event loop.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.test import Client
from django.utils.crypto import get_random_string

__all__ = [
    "csrf_header",
    "forced_login_cookie",
    "login_cookie",
    "logout_session",
    "new_csrf_secret",
]

# Django's CSRF_SECRET_LENGTH and its alphabet: a secret sent as is (unmasked) is accepted.
_CSRF_SECRET_LENGTH = 32
_CSRF_ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def _session_cookie(client: Client) -> str:
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def forced_login_cookie(user: Any, backend: str | None = None) -> str:
    """The session cookie of ``user`` logged in without credentials (``Client.force_login``)."""
    client = Client()
    client.force_login(user, backend)
    return _session_cookie(client)


def login_cookie(**credentials: Any) -> str | None:
    """The session cookie after ``Client.login(**credentials)``; None if they were refused."""
    client = Client()
    if not client.login(**credentials):
        return None
    return _session_cookie(client)


def logout_session(cookie: str | None) -> None:
    """Log out the session whose cookie is ``cookie`` (``Client.logout``): flush it, signal it."""
    client = Client()
    if cookie is not None:
        client.cookies[settings.SESSION_COOKIE_NAME] = cookie
    client.logout()


def new_csrf_secret() -> str:
    """A fresh CSRF secret, what Django's middleware would put in the CSRF cookie."""
    return get_random_string(_CSRF_SECRET_LENGTH, _CSRF_ALPHABET)


def csrf_header() -> str:
    """The request header Django reads the CSRF token from (``CSRF_HEADER_NAME``)."""
    name = str(settings.CSRF_HEADER_NAME)
    if name.startswith("HTTP_"):
        name = name[len("HTTP_") :]
    return name.replace("_", "-")
