"""Route names and ``url_for``: the same names and the same URLs as Django's ``reverse()``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from aiohttp import web
from django.urls import reverse, set_script_prefix

from aiodjango.routing import add_lifted_routes
from tests.support.routes import NAMES, build_app, fallback
from tests.support.servers import MakeClient


@pytest.fixture
def script_prefix() -> Iterator[None]:
    yield
    set_script_prefix("/")


@pytest.mark.parametrize("script_name", ["", "/mount"])
@pytest.mark.parametrize(
    ("name", "args", "kwargs"),
    [
        ("home", (), {}),
        ("outer:m", (), {"s": "a-b"}),
        ("outer:inner:leaf", (), {"pk": "42"}),
        ("cafe", (), {"name": "crème brûlée"}),
        ("re", (), {"a": "12", "b": "xy"}),
        ("pos", ("7",), {}),
    ],
)
def test_url_for_equals_reverse(
    script_prefix: None, script_name: str, name: str, args: tuple[str, ...], kwargs: Any
) -> None:
    app, _ = build_app(NAMES, script_name=script_name)
    # Django's WSGI handler sets the script prefix of each request from SCRIPT_NAME.
    set_script_prefix(script_name + "/")
    url = app.router[name].url_for(*args, **kwargs)
    expected = reverse(name, urlconf=NAMES, args=args or None, kwargs=kwargs or None)
    assert str(url) == expected
    assert expected.startswith(script_name + "/")


def test_names_aiohttp_refuses_or_django_repeats_leave_routes_unnamed() -> None:
    app, routes = build_app(NAMES)
    names = {route.pattern.route: route.name for route in routes}
    assert names["quiet/"] is None
    assert names["twofa/"] is None
    assert names["dup/"] is None
    assert names["dup/<int:pk>/"] is None
    assert names["twin-a/"] is None
    assert names["unnamed/<slug:s>/"] is None
    assert names["home/"] == "home"
    assert names["outer/inner/leaf/<int:pk>/"] == "outer:inner:leaf"
    for name in ["quiet-async", "2fa", "dup", "twin"]:
        assert name not in app.router


def test_django_reverse_takes_the_last_pattern_of_a_repeated_name() -> None:
    """Why a repeated name cannot be one aiohttp route: reverse() may mean either pattern."""
    assert reverse("twin", urlconf=NAMES) == "/twin-b/"
    assert reverse("dup", urlconf=NAMES) == "/dup/"
    assert reverse("dup", urlconf=NAMES, kwargs={"pk": 3}) == "/dup/3/"


async def test_unnamed_routes_still_serve(serve_urlconf: MakeClient) -> None:
    client = await serve_urlconf(NAMES)
    for url, start in [
        ("/quiet/", "quiet|"),
        ("/twofa/", "twofa|"),
        ("/dup/", "dup_first|"),
        ("/dup/3/", "dup_second|"),
        ("/twin-a/", "twin_a|"),
        ("/twin-b/", "fallback"),
    ]:
        response = await client.get(url)
        assert (await response.text()).startswith(start), url


def test_unnamed_routes_build_urls_from_their_template() -> None:
    _, routes = build_app(NAMES, script_name="/mount")
    [unnamed] = [route for route in routes if route.pattern.route == "unnamed/<slug:s>/"]
    assert str(unnamed.resource.url_for(s="x-y")) == "/mount/unnamed/x-y/"
    assert unnamed.resource.canonical == "/mount/unnamed/{s}/"


def test_a_name_already_in_the_router_is_left_to_its_owner() -> None:
    router = web.UrlDispatcher()

    async def other(request: web.Request) -> web.Response:
        return web.Response()

    router.add_get("/elsewhere/", other, name="home")
    routes = add_lifted_routes(router, fallback, urlconf=NAMES)
    [home] = [route for route in routes if route.pattern.route == "home/"]
    assert home.name is None
    assert str(router["home"].url_for()) == "/elsewhere/"


def test_routes_are_added_in_django_order() -> None:
    app, routes = build_app(NAMES)
    lifted = [route.resource for route in routes]
    added = [resource for resource in app.router.resources() if resource in lifted]
    assert added == lifted
    assert [route.pattern.route for route in routes][:3] == [
        "home/",
        "outer/inner/leaf/<int:pk>/",
        "outer/m/<slug:s>/",
    ]
