"""get_session, get_user and session saving, for each of Django's session engines."""

from __future__ import annotations

import logging
from http.cookies import SimpleCookie
from importlib import import_module
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth.models import User
from pytest_django import Settings

from tests.support.lifted import login
from tests.support.servers import ServeLifted

from . import views

pytestmark = pytest.mark.django_db(transaction=True)


def set_cookies(response: Any) -> SimpleCookie:
    cookies: SimpleCookie = SimpleCookie()
    for header in response.headers.getall("Set-Cookie", []):
        cookies.load(header)
    return cookies


async def stored_session(session_key: str) -> dict[str, Any]:
    """What the session engine holds under ``session_key``, read the way Django reads it."""
    engine = import_module(settings.SESSION_ENGINE)
    return dict(await sync_to_async(engine.SessionStore(session_key).load)())


async def test_no_cookie_means_an_empty_session_and_an_anonymous_user(
    serve_lifted: ServeLifted, session_engine: str
) -> None:
    client = await serve_lifted(whoami=views.whoami)
    response = await client.get("/whoami/")
    assert await response.json() == {
        "username": None,
        "session_key": None,
        "keys": [],
        "cached": True,
    }
    assert "Set-Cookie" not in response.headers


async def test_logged_in_session_gives_the_user(
    serve_lifted: ServeLifted, session_engine: str, alice: User
) -> None:
    client = await serve_lifted(whoami=views.whoami)
    response = await client.get("/whoami/", cookies=await login(alice))
    body = await response.json()
    assert body["username"] == "alice"
    assert "_auth_user_id" in body["keys"]
    assert body["cached"] is True
    assert response.headers["Vary"] == "Cookie"


async def test_unknown_session_key_is_anonymous(
    serve_lifted: ServeLifted, session_engine: str
) -> None:
    client = await serve_lifted(whoami=views.whoami)
    cookie = {settings.SESSION_COOKIE_NAME: "no-such-session-key-0123456789"}
    response = await client.get("/whoami/", cookies=cookie)
    assert (await response.json())["username"] is None


async def test_password_change_ends_other_sessions(
    serve_lifted: ServeLifted, session_engine: str, alice: User
) -> None:
    cookie = await login(alice)
    client = await serve_lifted(whoami=views.whoami)
    assert (await (await client.get("/whoami/", cookies=cookie)).json())["username"] == "alice"

    def change_password() -> None:
        alice.set_password("looking-glass")
        alice.save()

    await sync_to_async(change_password)()
    response = await client.get("/whoami/", cookies=cookie)
    assert (await response.json())["username"] is None
    # The stale session was flushed, so its cookie is deleted, as SessionMiddleware does.
    deleted = set_cookies(response)[settings.SESSION_COOKIE_NAME]
    assert deleted.value == ""
    assert deleted["max-age"] == "0"
    if session_engine != "signed_cookies":
        assert await stored_session(cookie[settings.SESSION_COOKIE_NAME]) == {}


async def test_session_changes_are_saved(
    serve_lifted: ServeLifted, session_engine: str, alice: User
) -> None:
    client = await serve_lifted(count=views.count, whoami=views.whoami)
    client.session.cookie_jar.update_cookies(await login(alice), client.make_url("/"))
    counts = [(await (await client.get("/count/")).json())["count"] for _ in range(3)]
    assert counts == [1, 2, 3]
    session_key = client.session.cookie_jar.filter_cookies(client.make_url("/"))[
        settings.SESSION_COOKIE_NAME
    ].value
    stored = await stored_session(session_key)
    assert stored["count"] == 3
    assert stored["_auth_user_id"] == str(alice.pk)
    # Still the same user after the session was rewritten.
    assert (await (await client.get("/whoami/")).json())["username"] == "alice"


async def test_new_session_gets_a_cookie(serve_lifted: ServeLifted, session_engine: str) -> None:
    client = await serve_lifted(count=views.count)
    response = await client.get("/count/")
    session_key = set_cookies(response)[settings.SESSION_COOKIE_NAME].value
    assert session_key
    assert (await stored_session(session_key))["count"] == 1
    assert (await (await client.get("/count/")).json())["count"] == 2


async def test_cookie_settings_are_honoured(serve_lifted: ServeLifted, settings: Settings) -> None:
    settings.SESSION_COOKIE_NAME = "lifted_sid"
    settings.SESSION_COOKIE_AGE = 600
    settings.SESSION_COOKIE_PATH = "/count/"
    settings.SESSION_COOKIE_DOMAIN = "example.com"
    settings.SESSION_COOKIE_SECURE = True
    settings.SESSION_COOKIE_HTTPONLY = True
    settings.SESSION_COOKIE_SAMESITE = "Strict"
    client = await serve_lifted(count=views.count)
    cookie = set_cookies(await client.get("/count/"))["lifted_sid"]
    assert cookie["max-age"] == "600"
    assert cookie["expires"]
    assert cookie["path"] == "/count/"
    assert cookie["domain"] == "example.com"
    assert cookie["secure"] is True
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Strict"


async def test_browser_length_sessions_have_no_expiry(
    serve_lifted: ServeLifted, settings: Settings
) -> None:
    settings.SESSION_EXPIRE_AT_BROWSER_CLOSE = True
    settings.SESSION_COOKIE_HTTPONLY = False
    settings.SESSION_COOKIE_SAMESITE = False
    client = await serve_lifted(count=views.count)
    cookie = set_cookies(await client.get("/count/"))[settings.SESSION_COOKIE_NAME]
    assert (cookie["max-age"], cookie["expires"], cookie["httponly"]) == ("", "", "")
    assert cookie["samesite"] == ""


async def test_failed_responses_do_not_save(serve_lifted: ServeLifted, session_engine: str) -> None:
    client = await serve_lifted(count=views.count, count_then_fail=views.count_then_fail)
    await client.get("/count/")
    response = await client.get("/count-then-fail/")
    assert response.status == 503
    assert "Set-Cookie" not in response.headers
    assert (await (await client.get("/count/")).json())["count"] == 2


async def test_raised_http_exceptions_carry_the_session(
    serve_lifted: ServeLifted, session_engine: str
) -> None:
    client = await serve_lifted(count_then_redirect=views.count_then_redirect, count=views.count)
    response = await client.get("/count-then-redirect/", allow_redirects=False)
    assert response.status == 302
    assert settings.SESSION_COOKIE_NAME in set_cookies(response)
    assert (await (await client.get("/count/")).json())["count"] == 2


async def test_streams_save_explicitly_before_preparing(
    serve_lifted: ServeLifted, session_engine: str, caplog: pytest.LogCaptureFixture
) -> None:
    client = await serve_lifted(count_streamed=views.count_streamed, count=views.count)
    response = await client.get("/count-streamed/?save")
    assert await response.text() == "counted"
    assert settings.SESSION_COOKIE_NAME in set_cookies(response)
    assert (await (await client.get("/count/")).json())["count"] == 2

    # Without save_session() the changes cannot reach the client: a warning says so.
    with caplog.at_level(logging.WARNING, logger="aiodjango.sessions"):
        response = await client.get("/count-streamed/")
    assert await response.text() == "counted"
    assert "Set-Cookie" not in response.headers
    assert "Session changes not saved for /count-streamed/" in caplog.text
    assert (await (await client.get("/count/")).json())["count"] == 3


async def test_emptied_session_deletes_the_cookie(
    serve_lifted: ServeLifted, session_engine: str, alice: User
) -> None:
    cookie = await login(alice)
    client = await serve_lifted(logout=views.logout, whoami=views.whoami)
    client.session.cookie_jar.update_cookies(cookie, client.make_url("/"))
    assert (await (await client.get("/whoami/")).json())["username"] == "alice"
    response = await client.get("/logout/")
    assert set_cookies(response)[settings.SESSION_COOKIE_NAME]["max-age"] == "0"
    assert (await (await client.get("/whoami/")).json())["username"] is None
    if session_engine != "signed_cookies":  # a signed cookie holds the data, nothing is stored
        assert await stored_session(cookie[settings.SESSION_COOKIE_NAME]) == {}


async def test_backend_no_longer_configured_is_anonymous(
    serve_lifted: ServeLifted, settings: Settings, alice: User
) -> None:
    cookie = await login(alice)
    settings.AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.AllowAllUsersModelBackend"]
    client = await serve_lifted(whoami=views.whoami)
    assert (await (await client.get("/whoami/", cookies=cookie)).json())["username"] is None


async def test_custom_backend_is_used(serve_lifted: ServeLifted, settings: Settings) -> None:
    settings.AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.AllowAllUsersModelBackend"]
    inactive = await sync_to_async(User.objects.create_user)("carol", is_active=False)
    cookie = await login(inactive)
    client = await serve_lifted(whoami=views.whoami)
    assert (await (await client.get("/whoami/", cookies=cookie)).json())["username"] == "carol"
