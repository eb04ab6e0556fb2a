"""Helpers for tests of lifted views: Django logins, cookies, the ORM thread's connections."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth.models import User
from django.db import connections
from django.test import Client


async def in_orm_thread(function: Callable[[], Any]) -> Any:
    """Run ``function`` in asgiref's thread-sensitive thread, where lifted views' ORM work runs."""
    return await sync_to_async(function)()


def close_thread_connections() -> None:
    """Close the connections of the current thread (run in asgiref's thread-sensitive thread)."""
    for connection in connections.all(initialized_only=True):
        connection.close()


async def login(user: User) -> dict[str, str]:
    """The session cookie of a real Django login of ``user`` (current ``SESSION_ENGINE``)."""

    def force_login() -> dict[str, str]:
        client = Client()
        client.force_login(user)
        return {settings.SESSION_COOKIE_NAME: client.cookies[settings.SESSION_COOKIE_NAME].value}

    return await sync_to_async(force_login)()


def cookie_header(cookies: dict[str, str]) -> dict[str, str]:
    """Request headers sending ``cookies`` (websocket handshakes take no ``cookies=``)."""
    return {"Cookie": "; ".join(f"{name}={value}" for name, value in cookies.items())}
