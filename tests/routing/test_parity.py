"""Order parity: a request reaches a lifted view exactly when Django's ``resolve()`` picks it.

Every path is sent over a real socket to an app with the rich URLconf's lifted routes in
front of a fallback, and the responder must be the one ``resolve()`` names, called with the
arguments ``resolve()`` gives.
"""

from __future__ import annotations

import http.client
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, assume, given, settings

from tests.support.routes import FALLBACK, PATHS, RICH, django_answer, paths
from tests.support.servers import LiveServer, MakeClient


def target(path: str) -> str:
    """The request target for a decoded path."""
    return quote(path, safe="/")


@pytest.mark.parametrize("script_name", ["", "/mount"])
async def test_responder_is_the_view_django_resolves(
    serve_urlconf: MakeClient, script_name: str
) -> None:
    client = await serve_urlconf(RICH, script_name=script_name)
    mismatches = []
    for path in PATHS:
        response = await client.get(script_name + target(path))
        body = await response.text()
        expected, prefix_only = django_answer(path)
        if not (body.startswith(expected) if prefix_only else body == expected):
            mismatches.append((path, expected, body))
    assert mismatches == [], "\n".join(map(repr, mismatches))


async def test_lifted_views_and_fallback_both_answer(serve_urlconf: MakeClient) -> None:
    """The path list really exercises both sides (the parity check above could not fail else)."""
    answers = [django_answer(path)[0] for path in PATHS]
    assert answers.count(FALLBACK) > 20
    assert len({answer.split("|")[0] for answer in answers}) > 30


async def test_paths_outside_the_mount_are_left_alone(serve_urlconf: MakeClient) -> None:
    client = await serve_urlconf(RICH, script_name="/mount")
    for path in ["/shop/items/5/", "/mountshop/items/5/", "/mount-x/shop/items/5/", "/"]:
        response = await client.get(path)
        assert await response.text() == FALLBACK, path
    response = await client.get("/mount")
    assert (await response.text()).startswith("home|match_info|")


async def test_encoded_slash_is_a_slash_to_django(serve_urlconf: MakeClient) -> None:
    """``%2F`` decodes to ``/`` for Django; aiohttp's index sees it otherwise."""
    from yarl import URL

    client = await serve_urlconf(RICH)
    for raw, path in [
        ("/shop%2Fitems/5/", "/shop/items/5/"),
        ("/shop/items%2F5/", "/shop/items/5/"),
        ("/api/v1/files/a%2Fb", "/api/v1/files/a/b"),
        ("/blog/a%2Fb/", "/blog/a/b/"),
        ("/caf%C3%A9%2Fau-lait/", "/café/au-lait/"),
        ("/numbers/%34/", "/numbers/4/"),
        ("/shop/items/%FF/", "/shop/items/%FF/"),
        ("/shop/items/100%25/", "/shop/items/100%/"),
    ]:
        response = await client.get(URL(raw, encoded=True))
        body = await response.text()
        expected, prefix_only = django_answer(path)
        assert body.startswith(expected) if prefix_only else body == expected, raw


@settings(
    max_examples=400,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(example=paths())
def test_generated_paths_follow_django(live_rich: LiveServer, example: tuple[str, str]) -> None:
    decoded, raw = example
    assume(not raw.startswith("//"))  # a target "//host/..." would name an authority
    connection = http.client.HTTPConnection("127.0.0.1", live_rich.port, timeout=10)
    try:
        connection.request("GET", raw)
        body = connection.getresponse().read().decode()
    finally:
        connection.close()
    expected, prefix_only = django_answer(decoded)
    assert body.startswith(expected) if prefix_only else body == expected
