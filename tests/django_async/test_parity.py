"""Routing parity with the three kinds in one URLconf: Django's ``resolve()`` is the oracle.

Every path goes over a real socket to the whole application; the answer must come from the
view ``resolve()`` picks, called with its arguments, on the path of its kind: an aiohttp
request for lifted views, Django's ASGI request on the loop for Django async views, its WSGI
request in a worker thread for sync views.
"""

from __future__ import annotations

import itertools
from typing import Any
from urllib.parse import quote

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from django.urls import Resolver404, resolve

from aiodjango import get_aio_application
from aiodjango.routing import ViewKind, decide
from tests.support.servers import AiohttpClient

URLCONF = "tests.django_async.mixed_urls"
REQUEST_CLASS = {
    ViewKind.AIOHTTP: "Request",
    ViewKind.DJANGO_ASYNC: "ASGIRequest",
    ViewKind.DJANGO_SYNC: "WSGIRequest",
}

HEADS = ["", "a", "b", "c", "d", "e", "f", "g", "cbv", "ns", "café", "zz"]
TAILS = ["", "5", "0042", "fixed", "x-y", "x y", "é", "2024", "abc", "a/b", "5/6", "ABC"]
PATHS = sorted(
    {
        "/" + "/".join(part for part in (head, tail) if part) + ("/" if head or tail else "")
        for head, tail in itertools.product(HEADS, TAILS)
    }
    | {"/c/a/b", "/g/2024/x/", "/g/2024", "/e", "/ns/5", "/c/5/6/7/"}
)


@pytest.fixture(autouse=True)
def mixed_urls(settings: Any) -> None:
    settings.ROOT_URLCONF = URLCONF


def expected(path: str) -> tuple[int, str]:
    try:
        match = resolve(path, URLCONF)
    except Resolver404:
        if path.endswith("/"):
            return 404, ""
        try:  # CommonMiddleware's APPEND_SLASH, in the WSGI path
            resolve(path + "/", URLCONF)
        except Resolver404:
            return 404, ""
        return 301, ""
    kind = decide(match.func).kind
    label = getattr(match.func, "__name__", "")
    if label == "view":  # as_view() of the class-based view
        label = match.func.view_class.__name__  # type: ignore[attr-defined]
    # What echo() writes, with the request class of the kind's path through the server.
    kwargs = sorted(match.kwargs.items())
    return 200, f"{label}|{match.args!r}|{kwargs!r}|{REQUEST_CLASS[kind]}"


@pytest.fixture
async def client(aiohttp_client: AiohttpClient) -> TestClient[web.Request, web.Application]:
    return await aiohttp_client(get_aio_application(urlconf=URLCONF))


def test_the_urlconf_mixes_all_three_kinds_and_the_paths_reach_each() -> None:
    """The paths exercise every kind (the parity test could not fail otherwise)."""
    kinds: set[ViewKind | None] = set()
    for path in PATHS:
        try:
            kinds.add(decide(resolve(path, URLCONF).func).kind)
        except Resolver404:
            kinds.add(None)
    assert kinds == {*ViewKind, None}


async def test_each_path_reaches_the_view_django_resolves_on_its_kinds_path(
    client: TestClient[web.Request, web.Application],
) -> None:
    mismatches = []
    for path in PATHS:
        response = await client.get(quote(path, safe="/"), allow_redirects=False)
        body = await response.text()
        status, answer = expected(path)
        if response.status != status or (status == 200 and body != answer):
            mismatches.append((path, status, answer, response.status, body[:120]))
    assert mismatches == [], "\n".join(map(repr, mismatches))
