"""Fixtures for the auth tests: a small aiohttp app of protected lifted views, users, sessions."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth.models import Permission, User
from django.db import connections
from django.test import Client
from pytest_django import Settings

from aiodjango.lifted import protect_lifted_view

from ..conftest import AiohttpClient

Serve = Callable[..., Awaitable[TestClient[web.Request, web.Application]]]


@pytest.fixture
def serve(aiohttp_client: AiohttpClient) -> Serve:
    """Serve views on a real socket, each wrapped by ``protect_lifted_view`` as routing does.

    Routes are ``path=view`` pairs for GET and POST; ``("METHOD", path, view)`` tuples for others.
    """

    async def serve(
        *routes: tuple[str, str, Callable[..., Awaitable[web.StreamResponse]]],
        **views: Callable[..., Awaitable[web.StreamResponse]],
    ) -> TestClient[web.Request, web.Application]:
        app = web.Application()
        for name, view in views.items():
            path = "/" + name.replace("_", "-") + "/"
            app.router.add_route("*", path, protect_lifted_view(view, view))
        for method, path, view in routes:
            app.router.add_route(method, path, protect_lifted_view(view, view))
        return await aiohttp_client(app)

    return serve


def close_thread_connections() -> None:
    """Close the connections of the current thread (run in asgiref's thread-sensitive thread)."""
    for connection in connections.all(initialized_only=True):
        connection.close()


@pytest.fixture(autouse=True)
async def shared_thread_clean() -> AsyncIterator[None]:
    """Leave no connection open in asgiref's thread-sensitive thread between tests."""
    await sync_to_async(close_thread_connections)()
    yield
    await sync_to_async(close_thread_connections)()


@pytest.fixture
def alice(django_user_model: type[User]) -> User:
    return django_user_model.objects.create_user("alice", password="wonderland")


@pytest.fixture
def bob(django_user_model: type[User]) -> User:
    """A user allowed to change users."""
    user = django_user_model.objects.create_user("bob", password="builder")
    user.user_permissions.add(Permission.objects.get(codename="change_user"))
    return user


async def login(user: User) -> dict[str, str]:
    """The session cookie of a real Django login of ``user`` (current ``SESSION_ENGINE``)."""

    def force_login() -> dict[str, str]:
        client = Client()
        client.force_login(user)
        return {settings.SESSION_COOKIE_NAME: client.cookies[settings.SESSION_COOKIE_NAME].value}

    return await sync_to_async(force_login)()


@pytest.fixture(params=["db", "cache", "cached_db", "file", "signed_cookies"])
def session_engine(request: pytest.FixtureRequest, settings: Settings, tmp_path: Path) -> str:
    """Each of Django's session engines in turn (the cache ones use the default locmem cache)."""
    settings.SESSION_ENGINE = f"django.contrib.sessions.backends.{request.param}"
    settings.SESSION_FILE_PATH = str(tmp_path)
    return str(request.param)


def cookie_header(cookies: dict[str, str]) -> dict[str, str]:
    """Request headers sending ``cookies`` (websocket handshakes take no ``cookies=``)."""
    return {"Cookie": "; ".join(f"{name}={value}" for name, value in cookies.items())}
