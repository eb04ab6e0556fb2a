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
from hypothesis import strategies as st

from .conftest import FALLBACK, RICH, LiveServer, MakeClient, django_answer

UUID = "075194d3-6885-417e-a8a8-6c931e272f00"

PATHS = [
    "/",
    "/shop",
    "/shop/",
    "/shop/items/5/",
    "/shop/items/007/",
    "/shop/items/new/",
    "/shop/items/new-ish/",
    "/shop/items/a_b/",
    "/shop/items/5",
    "/shop/items/5/extra/",
    "/branch/north/",
    "/branch/north/items/12/",
    "/branch/north/items/new/",
    "/branch/north/items/x-y/",
    "/branch/no th/items/1/",
    "/api/v1/things/" + UUID + "/",
    "/api/v1/things/" + UUID.upper() + "/",
    "/api/v1/things/" + UUID[:-1] + "/",
    "/api/v1/files/a",
    "/api/v1/files/a/b/c.txt",
    "/api/v1/files/",
    "/api/v1/search/term/",
    "/api/v1/search/a b/",
    "/api/v1/status/",
    "/api/health/",
    "/blog/hello/",
    "/blog/hello world/",
    "/blog/héllo/",
    "/news/today/",
    "/news/archive/",
    "/numbers/4/",
    "/numbers/3/",
    "/numbers/0/",
    "/numbers/x/",
    "/articles/2024/05/",
    "/articles/24/05/",
    "/articles/2024/5/",
    "/pos/12/ab/",
    "/pos/12/AB/",
    "/alpha/1/",
    "/beta/22/",
    "/gamma/3/",
    "/opt/",
    "/opt/page-2/",
    "/opt/page-/",
    "/look/home/",
    "/look/admin/",
    "/look/administrator/",
    "/shout/",
    "/SHOUT/",
    "/ShOuT/",
    "/dotted.name/",
    "/dottedxname/",
    "/prefix-only",
    "/prefix-only/and/more",
    "/prefix-onl",
    "/year/2024/abc/",
    "/year/20245/abc/",
    "/mix/7/abc/",
    "/page/",
    "/page/3/",
    "/opts/a/1/",
    "/opts/b/",
    "/café/au-lait/",
    "/cafe/au-lait/",
    "/a b/",
    "/classy/9/",
    "/django-cbv/",
    "/annotated/",
    "/kept/",
    "/wrapped/",
    "/catch/",
    "/catch/me/",
    "/sync/",
    "/tail/abc/",
    "/some/where/tail/abc/",
    "/tail/abc/x/",
    "/nowhere/",
    "/ab-cd-ef/",
    "/ab-cd-ef-gh/",
    "/ab-/cd-ef/",
    "/shop/items/5/\n",
    "/opt/\n",
    "/lenient/",
    "/lenient/\n",
    "/lenient/\n\n",
]


def target(path: str) -> str:
    """The request target for a decoded path."""
    return quote(path, safe="/")


@pytest.mark.parametrize("script_name", ["", "/mount"])
async def test_responder_is_the_view_django_resolves(
    make_client: MakeClient, script_name: str
) -> None:
    client = await make_client(RICH, script_name=script_name)
    mismatches = []
    for path in PATHS:
        response = await client.get(script_name + target(path))
        body = await response.text()
        expected, prefix_only = django_answer(path)
        if not (body.startswith(expected) if prefix_only else body == expected):
            mismatches.append((path, expected, body))
    assert mismatches == [], "\n".join(map(repr, mismatches))


async def test_lifted_views_and_fallback_both_answer(make_client: MakeClient) -> None:
    """The path list really exercises both sides (the parity check above could not fail else)."""
    answers = [django_answer(path)[0] for path in PATHS]
    assert answers.count(FALLBACK) > 20
    assert len({answer.split("|")[0] for answer in answers}) > 30


async def test_paths_outside_the_mount_are_left_alone(make_client: MakeClient) -> None:
    client = await make_client(RICH, script_name="/mount")
    for path in ["/shop/items/5/", "/mountshop/items/5/", "/mount-x/shop/items/5/", "/"]:
        response = await client.get(path)
        assert await response.text() == FALLBACK, path
    response = await client.get("/mount")
    assert (await response.text()).startswith("home|match_info|")


async def test_encoded_slash_is_a_slash_to_django(make_client: MakeClient) -> None:
    """``%2F`` decodes to ``/`` for Django; aiohttp's index sees it otherwise."""
    from yarl import URL

    client = await make_client(RICH)
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


# Generated paths: a known beginning, then segments that hit the URLconf's literals and
# groups or miss them narrowly, glued with "/" or an encoded slash, sent with a sync client to
# a server in its own thread.
HEADS = [
    "", "shop", "shop/items", "branch/x-1", "branch/x-1/items", "api/v1", "api/v1/things",
    "api/v1/files", "api/v1/search", "blog", "news", "numbers", "articles/2024", "pos/12",
    "alpha", "opt", "look", "year/2024", "mix/7", "page", "opts/a", "café", "classy",
    "catch", "some/tail", "tail", "prefix-only", "ab-cd-ef", "ab-",
]  # fmt: skip
SEGMENTS = [
    "5", "007", "4", "3", "new", "x-y", "a_b", "ab", "AB", "05", "page-2", "admin", "archive",
    "me", "b", UUID, "a b", "é", "", "shout", "SHOUT", "status", "dotted.name", "health",
]  # fmt: skip
known_segment = st.sampled_from(SEGMENTS)
segment = st.one_of(
    known_segment,
    known_segment,
    known_segment,
    st.text(alphabet="aé09-_.% \n~", min_size=1, max_size=3).filter(lambda s: s not in (".", "..")),
)
glue = st.sampled_from(["/"] * 7 + ["%2F"])


@st.composite
def paths(draw: st.DrawFn) -> tuple[str, str]:
    """A decoded path and its request target."""
    head = draw(st.sampled_from(HEADS))
    decoded = raw = "/" + head
    for text in draw(st.lists(segment, max_size=2)):
        joint = draw(glue) if decoded != "/" else ""
        decoded += ("/" if joint else "") + text
        raw += joint + quote(text, safe="")
    if decoded != "/" and draw(st.integers(0, 4)):
        decoded += "/"
        raw += draw(glue)
    return decoded, quote(raw, safe="/%")


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
