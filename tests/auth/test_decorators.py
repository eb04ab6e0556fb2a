"""login_required and permission_required on lifted views, for HTTP and websocket handshakes."""

from __future__ import annotations

import inspect

import aiohttp
import pytest
from aiohttp import web
from django.contrib.auth.models import User
from pytest_django import Settings

from aiodjango.lifted import csrf_protect, login_required, permission_required
from tests.support.lifted import cookie_header, login
from tests.support.servers import ServeLifted

from . import views

pytestmark = pytest.mark.django_db(transaction=True)


async def test_login_required_redirects_anonymous_users_with_next(
    serve_lifted: ServeLifted, settings: Settings
) -> None:
    settings.LOGIN_URL = "/accounts/sign-in/"
    client = await serve_lifted(private=views.private)
    response = await client.get("/private/?tab=1&x=%C3%A9", allow_redirects=False)
    assert response.status == 302
    assert (
        response.headers["Location"]
        == "/accounts/sign-in/?next=/private/%3Ftab%3D1%26x%3D%25C3%25A9"
    )


async def test_login_url_may_be_a_url_name(serve_lifted: ServeLifted, settings: Settings) -> None:
    settings.LOGIN_URL = "hello"  # a URL name in tests.urls, reversed as Django does
    client = await serve_lifted(private=views.private)
    response = await client.get("/private/", allow_redirects=False)
    assert response.headers["Location"] == "/hello/?next=/private/"


async def test_login_url_and_field_name_arguments(serve_lifted: ServeLifted) -> None:
    client = await serve_lifted(private_elsewhere=views.private_elsewhere)
    response = await client.get("/private-elsewhere/", allow_redirects=False)
    assert response.headers["Location"] == "/sign-in/?source=lifted&back=/private-elsewhere/"


async def test_login_page_on_another_site_gets_the_absolute_url(
    serve_lifted: ServeLifted, settings: Settings
) -> None:
    settings.LOGIN_URL = "https://accounts.example.com/login/"
    client = await serve_lifted(private=views.private)
    response = await client.get("/private/", allow_redirects=False)
    back = f"http://127.0.0.1:{client.port}/private/"
    assert response.headers["Location"] == (
        "https://accounts.example.com/login/?next=" + back.replace(":", "%3A")
    )


async def test_login_required_lets_users_in(serve_lifted: ServeLifted, alice: User) -> None:
    client = await serve_lifted(private=views.private)
    response = await client.get("/private/", cookies=await login(alice))
    assert (response.status, await response.text()) == (200, "hello alice")


async def test_login_required_refuses_anonymous_websockets(
    serve_lifted: ServeLifted, alice: User
) -> None:
    client = await serve_lifted(private_socket=views.private_socket)
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await client.ws_connect("/private-socket/")
    assert refused.value.status == 403
    async with client.ws_connect(
        "/private-socket/", headers=cookie_header(await login(alice))
    ) as socket:
        assert await socket.receive_str(timeout=5) == "hello alice"


async def test_permission_required(serve_lifted: ServeLifted, alice: User, bob: User) -> None:
    client = await serve_lifted(change_users=views.change_users)
    response = await client.get("/change-users/", allow_redirects=False)
    assert response.status == 302
    assert response.headers["Location"] == "/accounts/login/?next=/change-users/"
    response = await client.get("/change-users/", cookies=await login(alice), allow_redirects=False)
    assert response.status == 302
    response = await client.get("/change-users/", cookies=await login(bob))
    assert (response.status, await response.text()) == (200, "may change users")


async def test_permission_required_raise_exception_and_several_perms(
    serve_lifted: ServeLifted, bob: User
) -> None:
    client = await serve_lifted(delete_users=views.delete_users)
    # bob may change users but not delete them: all the permissions are needed.
    response = await client.get("/delete-users/", cookies=await login(bob), allow_redirects=False)
    assert response.status == 403
    response = await client.get("/delete-users/", allow_redirects=False)
    assert response.status == 403


async def test_permission_required_refuses_websockets(
    serve_lifted: ServeLifted, alice: User, bob: User
) -> None:
    client = await serve_lifted(change_users_socket=views.change_users_socket)
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await client.ws_connect("/change-users-socket/", headers=cookie_header(await login(alice)))
    assert refused.value.status == 403
    async with client.ws_connect(
        "/change-users-socket/", headers=cookie_header(await login(bob))
    ) as socket:
        assert await socket.receive_str(timeout=5) == "may change users"


async def test_decorators_work_on_class_based_view_methods(
    serve_lifted: ServeLifted, alice: User
) -> None:
    client = await serve_lifted(("*", "/dashboard/", views.Dashboard))
    response = await client.get("/dashboard/", allow_redirects=False)
    assert response.headers["Location"] == "/accounts/login/?next=/dashboard/"
    response = await client.get("/dashboard/", cookies=await login(alice))
    assert await response.text() == "dashboard of alice"
    assert (await client.post("/dashboard/")).status == 403


def test_decorated_views_stay_coroutine_views_with_their_signature() -> None:
    async def article(request: web.Request, year: int, *, slug: str = "") -> web.Response:
        return web.Response()

    for decorated in (
        login_required(article),
        login_required(login_url="/in/")(article),
        permission_required("auth.view_user")(article),
        csrf_protect(article),
        login_required(csrf_protect(article)),
    ):
        assert inspect.iscoroutinefunction(decorated)
        assert inspect.signature(decorated) == inspect.signature(article)
        assert decorated.__name__ == "article"


async def test_decorated_views_pass_their_arguments_on(
    serve_lifted: ServeLifted, alice: User
) -> None:
    @login_required
    async def article(request: web.Request, year: int, *, slug: str = "") -> web.Response:
        return web.Response(text=f"{year}/{slug}")

    async def handler(request: web.Request) -> web.StreamResponse:
        return await article(request=request, year=int(request.match_info["year"]), slug="lifted")

    client = await serve_lifted(("GET", "/articles/{year}/", handler))
    response = await client.get("/articles/2024/", cookies=await login(alice))
    assert await response.text() == "2024/lifted"


def test_sync_views_are_refused_with_a_clear_error() -> None:
    def sync_view(request: web.Request) -> web.Response:
        return web.Response()

    with pytest.raises(TypeError, match=r"login_required\(\) decorates coroutine views"):
        login_required(sync_view)  # type: ignore[type-var]
    with pytest.raises(TypeError, match=r"csrf_protect\(\) decorates coroutine views"):
        csrf_protect(sync_view)  # type: ignore[type-var]
