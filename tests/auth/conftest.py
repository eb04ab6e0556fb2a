"""Fixtures for the auth tests: users, each session engine, a clean ORM thread."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth.models import Permission, User
from pytest_django import Settings

from tests.support.lifted import close_thread_connections


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


@pytest.fixture(params=["db", "cache", "cached_db", "file", "signed_cookies"])
def session_engine(request: pytest.FixtureRequest, settings: Settings, tmp_path: Path) -> str:
    """Each of Django's session engines in turn (the cache ones use the default locmem cache)."""
    settings.SESSION_ENGINE = f"django.contrib.sessions.backends.{request.param}"
    settings.SESSION_FILE_PATH = str(tmp_path)
    return str(request.param)
