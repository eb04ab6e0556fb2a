"""csrf_protect: Django's CSRF rules for the unsafe methods of lifted views."""

from __future__ import annotations

import aiohttp
import pytest
from django.conf import settings
from django.http import HttpRequest
from django.middleware.csrf import get_token
from pytest_django import Settings

from tests.support.servers import ServeLifted

from . import views

pytestmark = pytest.mark.django_db(transaction=True)


def new_csrf_pair() -> tuple[str, str]:
    """A CSRF cookie value and a (masked) token for it, as Django hands them to a page."""
    request = HttpRequest()
    token = get_token(request)
    return request.META["CSRF_COOKIE"], token


async def test_post_without_token_is_refused_with_djangos_page(serve_lifted: ServeLifted) -> None:
    client = await serve_lifted(submit=views.submit)
    response = await client.post("/submit/", data={"message": "hi"})
    assert response.status == 403
    assert "CSRF verification failed" in await response.text()
    # With a cookie but no token, still refused.
    cookie, _token = new_csrf_pair()
    response = await client.post(
        "/submit/", data={"message": "hi"}, cookies={settings.CSRF_COOKIE_NAME: cookie}
    )
    assert response.status == 403


async def test_cookie_and_header_are_accepted(serve_lifted: ServeLifted) -> None:
    client = await serve_lifted(submit=views.submit)
    cookie, token = new_csrf_pair()
    response = await client.put(
        "/submit/",
        data=b"payload",
        cookies={settings.CSRF_COOKIE_NAME: cookie},
        headers={"X-CSRFToken": token},
    )
    assert (response.status, await response.text()) == (200, "accepted payload")


async def test_unmasked_secret_in_the_header_is_accepted(serve_lifted: ServeLifted) -> None:
    """JavaScript that copies the cookie into the header, as Django documents."""
    client = await serve_lifted(submit=views.submit)
    cookie, _token = new_csrf_pair()
    response = await client.delete(
        "/submit/", cookies={settings.CSRF_COOKIE_NAME: cookie}, headers={"X-CSRFToken": cookie}
    )
    assert response.status == 200


async def test_form_field_is_accepted_and_the_view_still_reads_the_form(
    serve_lifted: ServeLifted,
) -> None:
    client = await serve_lifted(submit=views.submit)
    cookie, token = new_csrf_pair()
    response = await client.post(
        "/submit/",
        data={"csrfmiddlewaretoken": token, "message": "hello"},
        cookies={settings.CSRF_COOKIE_NAME: cookie},
    )
    assert (response.status, await response.text()) == (200, "accepted hello")
    form = aiohttp.FormData()
    form.add_field("csrfmiddlewaretoken", token)
    form.add_field("message", "multipart")
    form.add_field("file", b"data", filename="a.txt")
    response = await client.post("/submit/", data=form, cookies={settings.CSRF_COOKIE_NAME: cookie})
    assert (response.status, await response.text()) == (200, "accepted multipart")


async def test_wrong_token_is_refused(serve_lifted: ServeLifted) -> None:
    client = await serve_lifted(submit=views.submit)
    cookie, _token = new_csrf_pair()
    _other_cookie, other_token = new_csrf_pair()
    for headers, data in (
        ({"X-CSRFToken": other_token}, b"x"),
        ({"X-CSRFToken": "not-a-token"}, b"x"),
        ({}, {"csrfmiddlewaretoken": other_token}),
    ):
        response = await client.post(
            "/submit/", data=data, headers=headers, cookies={settings.CSRF_COOKIE_NAME: cookie}
        )
        assert response.status == 403, headers


async def test_safe_methods_are_not_checked(serve_lifted: ServeLifted) -> None:
    client = await serve_lifted(submit=views.submit)
    assert (await client.get("/submit/")).status == 200
    assert (await client.options("/submit/")).status == 200


async def test_foreign_origin_is_refused_even_with_a_token(
    serve_lifted: ServeLifted, settings: Settings
) -> None:
    client = await serve_lifted(submit=views.submit)
    cookie, token = new_csrf_pair()

    async def post(origin: str) -> int:
        response = await client.post(
            "/submit/",
            data=b"x",
            cookies={settings.CSRF_COOKIE_NAME: cookie},
            headers={"X-CSRFToken": token, "Origin": origin},
        )
        return response.status

    assert await post(f"http://127.0.0.1:{client.port}") == 200
    assert await post("http://evil.example") == 403
    assert await post("https://app.example.com") == 403
    settings.CSRF_TRUSTED_ORIGINS = ["https://*.example.com"]
    assert await post("https://app.example.com") == 200
    assert await post("http://app.example.com") == 403


async def test_https_requests_need_a_good_referer(
    serve_lifted: ServeLifted, settings: Settings
) -> None:
    """Behind a TLS proxy (SECURE_PROXY_SSL_HEADER), Django's strict Referer check applies."""
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    client = await serve_lifted(submit=views.submit)
    cookie, token = new_csrf_pair()
    host = f"127.0.0.1:{client.port}"

    async def post(**headers: str) -> int:
        response = await client.post(
            "/submit/",
            data=b"x",
            cookies={settings.CSRF_COOKIE_NAME: cookie},
            headers={"X-CSRFToken": token, "X-Forwarded-Proto": "https", **headers},
        )
        return response.status

    assert await post() == 403
    assert await post(Referer="https://evil.example/page") == 403
    assert await post(Referer=f"http://{host}/page") == 403
    assert await post(Referer=f"https://{host}/page") == 200
    assert await post(Origin=f"https://{host}") == 200
    assert await post(Origin=f"http://{host}") == 403


async def test_csrf_settings_are_honoured(serve_lifted: ServeLifted, settings: Settings) -> None:
    settings.CSRF_HEADER_NAME = "HTTP_X_XSRF_TOKEN"
    settings.CSRF_COOKIE_NAME = "xsrf"
    client = await serve_lifted(submit=views.submit)
    cookie, token = new_csrf_pair()
    response = await client.post(
        "/submit/", data=b"x", cookies={"xsrf": cookie}, headers={"X-CSRFToken": token}
    )
    assert response.status == 403
    response = await client.post(
        "/submit/", data=b"x", cookies={"xsrf": cookie}, headers={"X-XSRF-Token": token}
    )
    assert response.status == 200
    # An underscore in a header name cannot pass for the dash (header spoofing).
    response = await client.post(
        "/submit/", data=b"x", cookies={"xsrf": cookie}, headers={"X_XSRF_Token": token}
    )
    assert response.status == 403


async def test_csrf_secret_in_the_session(serve_lifted: ServeLifted, settings: Settings) -> None:
    settings.CSRF_USE_SESSIONS = True
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"
    from django.contrib.sessions.backends.signed_cookies import SessionStore

    secret, token = new_csrf_pair()
    session = SessionStore()
    session["_csrftoken"] = secret
    session.save()
    client = await serve_lifted(submit=views.submit)
    response = await client.post(
        "/submit/",
        data=b"x",
        cookies={settings.SESSION_COOKIE_NAME: str(session.session_key)},
        headers={"X-CSRFToken": token},
    )
    assert response.status == 200
    response = await client.post("/submit/", data=b"x", headers={"X-CSRFToken": token})
    assert response.status == 403


async def test_custom_failure_view(serve_lifted: ServeLifted, settings: Settings) -> None:
    settings.CSRF_FAILURE_VIEW = "tests.auth.test_csrf.failure"
    client = await serve_lifted(submit=views.submit)
    response = await client.post("/submit/", data=b"x")
    assert response.status == 419
    assert await response.text() == "no: CSRF cookie not set."
    assert response.headers["X-Reason"] == "csrf"


def failure(request: HttpRequest, reason: str = "") -> object:
    from django.http import HttpResponse

    response = HttpResponse(f"no: {reason}", status=419, content_type="text/plain")
    response["X-Reason"] = "csrf"
    return response
