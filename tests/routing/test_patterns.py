"""What startup learns about each lifted pattern: its aiohttp template, overlaps, reachability."""

from __future__ import annotations

from types import ModuleType

import pytest
from aiohttp import web
from django.urls import Resolver404, include, path, re_path, resolve

from aiodjango.routing import LiftedPattern, find_lifted_patterns
from tests.support.routes import PATHS, RICH, django_answer, urlconf
from tests.support.servers import MakeClient

from . import views as v


def by_route(conf: str | ModuleType = RICH) -> dict[str, LiftedPattern]:
    return {pattern.route: pattern for pattern in find_lifted_patterns(conf)}


def test_patterns_become_aiohttp_templates() -> None:
    templates = {route: p.aiohttp_path for route, p in by_route().items()}
    uuid = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
    assert templates[""] == "/"
    assert templates["shop/"] == "/shop/"
    assert templates["shop/items/<int:pk>/"] == "/shop/items/{pk:[0-9]+}/"
    assert templates["shop/items/<slug:slug>/"] == "/shop/items/{slug:[-a-zA-Z0-9_]+}/"
    assert templates["blog/<str:title>/"] == "/blog/{title:[^/]+}/"
    assert templates["api/v1/things/<uuid:token>/"] == "/api/v1/things/{token:" + uuid + "}/"
    assert templates["api/v1/files/<path:rest>"] == "/api/v1/files/{rest:.+}"
    assert templates["numbers/<routing_even:n>/"] == "/numbers/{n:[0-9]+}/"
    assert templates["api/v1/search/(?P<term>[^/]+)/$"] == "/api/v1/search/{term:[^/]+}/"
    assert (
        templates["^articles/(?P<year>[0-9]{4})/(?P<month>[0-9]{2})/$"]
        == "/articles/{year:[0-9]{4}}/{month:[0-9]{2}}/"
    )
    assert templates[r"^dotted\.name/$"] == "/dotted.name/"
    assert (
        templates["branch/<slug:branch>/items/<int:pk>/"]
        == "/branch/{branch:[-a-zA-Z0-9_]+}/items/{pk:[0-9]+}/"
    )
    assert templates["café/<str:name>/"] == "/café/{name:[^/]+}/"
    assert templates["a b/"] == "/a b/"


@pytest.mark.parametrize(
    ("route", "reason"),
    [
        ("^pos/([0-9]+)/([a-z]+)/$", "positional"),
        ("^(?:alpha|beta)/(?P<n>[0-9]+)/$", "alternation"),
        ("^opt/(?:page-(?P<num>[0-9]+)/)?$", "optional"),
        ("^look/(?!admin/)(?P<name>[a-z]+)/$", "lookahead"),
        ("(?i)^shout/$", "flags"),
        ("^prefix-only", "starts with it"),
        ("tail/(?P<t>[a-z]+)/$", "anywhere"),
        ("^year/([0-9]{4})/([a-z]+)/$", "positional"),
        ("^(?P<first>[a-z-]+)-(?P<second>[a-z]+-[a-z]+)/$", "does not end with '/'"),
    ],
)
def test_patterns_that_are_no_aiohttp_template_say_why(route: str, reason: str) -> None:
    pattern = by_route()[route]
    assert pattern.aiohttp_path is None
    assert pattern.reason is not None
    assert reason in pattern.reason


def test_templates_match_what_the_django_pattern_matches() -> None:
    """Used as plain aiohttp routes, the ASCII templates take the same URLs as Django."""
    router = web.UrlDispatcher()
    checked = 0
    for pattern in find_lifted_patterns(RICH):
        if pattern.aiohttp_path is None or pattern.overlaps or not pattern.aiohttp_path.isascii():
            continue
        if "<routing_even:" in pattern.route:
            continue  # its converter refuses odd numbers that its regex accepts
        info = router.add_resource(pattern.aiohttp_path).get_info()
        for url in PATHS:
            if "pattern" in info:
                native = info["pattern"].fullmatch(url) is not None
            else:
                native = info["path"] == url
            try:
                match = resolve(url, RICH)
                django = match.func is pattern.view and match.route == pattern.route
            except Resolver404:
                django = False
            assert native == django, (pattern.route, url)
            checked += native
    assert checked > 15


def test_earlier_patterns_that_may_match_the_same_urls_are_known() -> None:
    patterns = by_route()
    assert patterns["shop/items/<slug:slug>/"].overlaps == (
        "'shop/items/<int:pk>/' [name='shop:item']",
        "'shop/items/new/' [name='shop:new']",
    )
    assert patterns["blog/<str:title>/"].overlaps == ("'blog/<slug:slug>/'",)
    assert patterns["numbers/<int:n>/"].overlaps == ("'numbers/<routing_even:n>/'",)
    for route in ["", "shop/", "shop/items/<int:pk>/", "news/<str:slug>/", "page/", "a b/"]:
        assert patterns[route].overlaps == (), route


def test_segments_and_literals_tell_patterns_apart() -> None:
    patterns = by_route(
        urlconf(
            path("items/<int:pk>/", v.sync("s1")),
            path("items/<int:pk>/edit/", v.django_style("edit")),
            path("items/new/", v.django_style("new_after_int")),
            path("items/<str:name>/", v.django_style("overlapping")),
            re_path(r"^other/(?P<x>[a-z]+)/$", v.django_style("other")),
        )
    )
    assert patterns["items/<int:pk>/edit/"].overlaps == ()
    assert patterns["items/new/"].overlaps == ()
    assert patterns["items/<str:name>/"].overlaps == (
        "'items/<int:pk>/'",
        "'items/new/'",
    )
    assert patterns["^other/(?P<x>[a-z]+)/$"].overlaps == ()


def test_shadowed_patterns_are_unreachable() -> None:
    patterns = by_route(
        urlconf(
            path("same/", v.sync("same_sync")),
            path("same/", v.request_only("same_async")),
            re_path(r"^api/", include([path("v/", v.sync("deep"))])),
            re_path(r"^api/v1/", v.sync("api_prefix")),
            path("api/v1/x/", v.request_only("under_prefix")),
            path("<path:anything>", v.sync("catch_all_converter")),
            path("", v.request_only("empty_is_not_caught")),
            path("deep/x/", v.request_only("caught")),
        )
    )
    assert patterns["same/"].shadowed_by == "'same/'"
    assert patterns["api/v1/x/"].shadowed_by == "'^api/v1/'"
    assert patterns["deep/x/"].shadowed_by == "'<path:anything>'"
    assert patterns["deep/x/"].unreachable
    assert not patterns[""].unreachable


def test_a_converter_that_can_refuse_leaves_later_patterns_reachable() -> None:
    patterns = by_route(
        urlconf(
            path("<routing_even:n>/", v.sync("even_only")),
            path("<int:n>/", v.django_style("odd_reachable")),
        )
    )
    pattern = patterns["<int:n>/"]
    assert pattern.overlaps == ("'<routing_even:n>/'",)
    assert not pattern.unreachable


ODD = urlconf(
    re_path(r"(?:^)odd/a/$", v.request_only("odd_anchor_in_group")),
    re_path(r"^odd/b/(?:$)", v.request_only("odd_end_in_group")),
    re_path(r"^(?#comment)odd/c/$", v.request_only("odd_comment")),
    re_path(r"(?x) ^ odd/d/ (?P<n> [0-9]+ ) / $", v.django_style("odd_verbose")),
    re_path(r"^odd/e/(?P<a>(x)\2)/$", v.django_style("odd_backreference")),
    re_path(r"^odd/f/(?P<a>[a-z]+)/(?P=a)/$", v.django_style("odd_named_reference")),
    re_path(r"^odd/g/(?P<a>[a-z]+)\b/$", v.django_style("odd_boundary")),
    re_path(r"^odd/", include([re_path(r"^(?<=/)h/$", v.request_only("odd_lookbehind"))])),
    re_path(r"^odd/i/(?P<b>[\]/]+)/$", v.django_style("odd_bracket")),
)

ODD_PATHS = [
    "/odd/a/",
    "/odd/b/",
    "/odd/b/\n",
    "/odd/c/",
    "/odd/d/5/",
    "/odd/ d/5/",
    "/odd/e/xx/",
    "/odd/e/x/",
    "/odd/f/ab/ab/",
    "/odd/f/ab/cd/",
    "/odd/g/ab/",
    "/odd/h/",
    "/odd/i/]/]/",
    "/odd/i/a/",
]


async def test_odd_regexes_start_and_route_like_django(serve_urlconf: MakeClient) -> None:
    client = await serve_urlconf(ODD)
    lifted = 0
    for url in ODD_PATHS:
        response = await client.get(url)
        text = await response.text()
        expected, prefix_only = django_answer(url, ODD)
        assert text.startswith(expected) if prefix_only else text == expected, url
        lifted += expected != "fallback"
    assert lifted > 8
