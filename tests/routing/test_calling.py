"""Lifted views are called the way their signature asks, and may answer as aiohttp allows."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import WSMsgType, web
from django.core.exceptions import ImproperlyConfigured
from django.urls import path

from aiodjango.routing import Handler, add_lifted_routes, find_lifted_patterns
from tests.support.routes import FALLBACK, RICH, fallback, urlconf
from tests.support.servers import AiohttpClient, MakeClient

from . import views as v

RESPONSES = "tests.routing.urls_responses"


async def body(client: Any, url: str, method: str = "GET") -> str:
    response = await client.request(method, url)
    return str(await response.text())


async def test_declared_parameters_get_converted_values(serve_urlconf: MakeClient) -> None:
    client = await serve_urlconf(RICH)
    assert await body(client, "/shop/items/007/") == "item|()|[('pk', 7)]"
    thing = "075194d3-6885-417e-a8a8-6c931e272f00"
    assert await body(client, f"/api/v1/things/{thing}/") == (
        f"thing|()|[('token', UUID('{thing}'))]"
    )
    assert await body(client, "/numbers/4/") == "even|()|[('n', 4)]"
    assert await body(client, "/numbers/3/") == "odd|()|[('n', 3)]"


async def test_the_request_alone_gets_text_in_match_info(serve_urlconf: MakeClient) -> None:
    client = await serve_urlconf(RESPONSES)
    assert await body(client, "/raw/007/") == "raw_values|match_info|[('pk', '007')]"
    client = await serve_urlconf(RICH)
    assert await body(client, "/api/v1/search/a%20b/") == ("search|match_info|[('term', 'a b')]")
    assert await body(client, "/classy/9/") == "Classy|match_info|[('pk', '9')]"
    assert await body(client, "/classy/9/", "POST") == "Classy|post"
    assert await body(client, "/wrapped/") == "wrapped|match_info|[]"


async def test_positional_groups_become_positional_arguments(serve_urlconf: MakeClient) -> None:
    client = await serve_urlconf(RICH)
    assert await body(client, "/pos/12/ab/") == "positional|('12', 'ab')|[]"
    assert await body(client, "/year/2024/abc/") == "nested_positional|('2024', 'abc')|[]"
    # As in Django, an include()'s positional values are dropped once a named one exists.
    assert await body(client, "/mix/7/abc/") == "named_wins|('abc',)|[('y', '7')]"


async def test_extra_options_are_passed_like_django_does(serve_urlconf: MakeClient) -> None:
    client = await serve_urlconf(RICH)
    assert await body(client, "/page/") == "page|()|[('page', 1)]"
    assert await body(client, "/page/3/") == "page|()|[('extra', 'x'), ('page', 3)]"
    assert await body(client, "/opts/a/1/") == "opts_a|()|[('n', 1), ('source', 'include')]"
    assert await body(client, "/opts/b/") == "opts_b|()|[('b', 2), ('source', 'include')]"
    assert await body(client, "/opt/page-2/") == "optional|()|[('num', '2')]"
    assert await body(client, "/opt/") == "optional|()|[]"


async def test_views_kept_in_django_are_not_lifted(serve_urlconf: MakeClient) -> None:
    client = await serve_urlconf(RICH)
    for url in ["/django-cbv/", "/annotated/", "/kept/", "/sync/", "/shop/items/new/"]:
        assert await body(client, url) == FALLBACK, url


async def test_lifted_views_answer_with_any_aiohttp_response(serve_urlconf: MakeClient) -> None:
    client = await serve_urlconf(RESPONSES)
    response = await client.get("/forbidden/")
    assert response.status == 403
    assert await response.text() == "no entry"
    response = await client.get("/streamed/")
    assert response.status == 200
    assert await response.text() == "one two three"


async def test_a_websocket_is_served_through_a_lifted_route(serve_urlconf: MakeClient) -> None:
    client = await serve_urlconf(RESPONSES)
    async with client.ws_connect("/ws/lobby/") as socket:
        await socket.send_str("hello")
        message = await socket.receive(timeout=10)
        assert message.type == WSMsgType.TEXT
        assert message.data == "echo hello lobby"


async def test_wrap_view_wraps_each_lifted_view_inside_the_order_check(
    serve_urlconf: MakeClient,
) -> None:
    wrapped: list[object] = []

    def wrap_view(handler: Handler, view: object) -> Handler:
        wrapped.append(view)

        async def protected(request: web.Request) -> web.StreamResponse:
            response = await handler(request)
            response.headers["X-Wrapped"] = getattr(view, "__name__", "?")
            return response

        return protected

    client = await serve_urlconf(RICH, wrap_view=wrap_view)
    assert wrapped == [pattern.view for pattern in find_lifted_patterns(RICH)]
    response = await client.get("/shop/items/x-y/")
    assert response.headers["X-Wrapped"] == "item_by_slug"
    # The slug route declines what Django gives to an earlier view, before any wrapper runs.
    response = await client.get("/shop/items/new/")
    assert await response.text() == FALLBACK
    assert "X-Wrapped" not in response.headers


@pytest.mark.parametrize(
    ("view", "complaint"),
    [
        (v.request_only("no_room_for_extras"), "takes only the request"),
        (v.Classy, "view class Classy"),
    ],
)
def test_extra_options_a_view_cannot_receive_stop_startup(view: Any, complaint: str) -> None:
    conf = urlconf(path("extras/", view, {"colour": "blue"}))
    [pattern] = find_lifted_patterns(conf)
    assert pattern.error is not None
    assert complaint in pattern.error
    with pytest.raises(ImproperlyConfigured, match=r"'extras/'.*colour"):
        add_lifted_routes(web.UrlDispatcher(), fallback, urlconf=conf)


def test_a_bad_script_name_is_refused() -> None:
    for script_name in ["prefix", "/prefix/", "/pre%20fix"]:
        with pytest.raises(ValueError, match="script_name"):
            add_lifted_routes(web.UrlDispatcher(), fallback, urlconf=RICH, script_name=script_name)


async def test_lifted_routes_follow_a_sub_application_prefix(
    aiohttp_client: AiohttpClient,
) -> None:
    sub = web.Application()
    add_lifted_routes(sub.router, fallback, urlconf="tests.routing.urls_names")
    sub.router.add_route("*", "/{tail:(?s:.*)}", fallback)
    app = web.Application()
    app.add_subapp("/sub", sub)
    client = await aiohttp_client(app)
    assert await body(client, "/sub/outer/inner/leaf/5/") == "item|()|[('pk', 5)]"
    assert await body(client, "/sub/twin-b/") == FALLBACK
    assert str(sub.router["outer:inner:leaf"].url_for(pk="5")) == "/sub/outer/inner/leaf/5/"
