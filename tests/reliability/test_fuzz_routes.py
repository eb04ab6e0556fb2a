"""Fuzzing route conversion: random URLconfs, the responder must be the view ``resolve()`` picks.

Hypothesis builds a URLconf from random ``path()`` and ``re_path()`` patterns (converters,
named and unnamed groups, anchored or not, with or without ``$``, nested in ``include()``),
each with a coroutine view (lifted) or a sync one (left to Django), sometimes sharing names
Django accepts and aiohttp refuses. The lifted routes go in front of a catch-all standing for
the WSGI application, served on a real socket. For paths made to match the patterns, and
near misses, the answer must come from the view Django's ``resolve()`` names, called with the
arguments it gives, or from the catch-all when Django picks a sync view or nothing.

Each path is sent in a raw form: plainly percent-encoded, or with escapes where none are needed,
escaped escapes (``%2531``), escapes of escapes (``%%33%31``), stray ``%`` signs and broken
UTF-8. Django decodes PATH_INFO once; so must the lifted routes.
"""

from __future__ import annotations

import asyncio
import itertools
import string
import types
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote_to_bytes

import aiohttp
import pytest
from aiohttp import web
from django.core.handlers.wsgi import get_path_info
from django.urls import Resolver404, clear_url_caches, include, path, re_path, resolve
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from yarl import URL

from aiodjango.routing import add_lifted_routes

pytestmark = pytest.mark.slow

FALLBACK = "fallback"

# A slot's kind -> (path() converter or None, re_path() regex or None).
SLOTS: dict[str, tuple[str | None, str | None]] = {
    "int": ("int", "[0-9]+"),
    "str": ("str", "[^/]+"),
    "slug": ("slug", "[-a-zA-Z0-9_]+"),
    "uuid": ("uuid", None),
    "path": ("path", ".+"),
    "two digits": (None, "[0-9]{2}"),
    "lower": (None, "[a-z]+"),
    "x or yz": (None, "x|yz"),
}
LITERALS = ["a", "b", "ab", "item", "x-y", "page", "2024", "café", "v1.0"]


@dataclass(frozen=True)
class Slot:
    kind: str
    name: str | None  # None: an unnamed group (re_path only)


Piece = str | Slot  # literal text, or a slot filled from the path
Segment = tuple[Piece, ...]


@dataclass(frozen=True)
class Level:
    """One pattern of a chain: an include() prefix or an endpoint."""

    regex: bool
    segments: tuple[Segment, ...]
    trailing_slash: bool
    anchored: bool = True  # re_path: starts with "^"
    dollar: bool = False  # re_path endpoint: ends with "$"

    def route(self) -> str:
        if not self.regex:
            text = "/".join("".join(_converter(p) for p in s) for s in self.segments)
            return text + ("/" if self.trailing_slash else "")
        text = "/".join("".join(_group(p) for p in s) for s in self.segments)
        text += "/" if self.trailing_slash else ""
        return ("^" if self.anchored else "") + text + ("$" if self.dollar else "")


def _converter(piece: Piece) -> str:
    if isinstance(piece, str):
        return piece
    return f"<{SLOTS[piece.kind][0]}:{piece.name}>"


def _group(piece: Piece) -> str:
    if isinstance(piece, str):
        return piece.replace(".", r"\.")
    regex = SLOTS[piece.kind][1]
    return f"(?P<{piece.name}>{regex})" if piece.name else f"({regex})"


@st.composite
def levels(draw: st.DrawFn, names: Iterator[str], *, endpoint: bool) -> Level:
    regex = draw(st.booleans())
    kinds = [k for k, (conv, rx) in SLOTS.items() if (rx if regex else conv) is not None]
    if not endpoint:
        kinds = [k for k in kinds if k != "path"]
    unnamed = regex and draw(st.integers(0, 3)) == 0
    segments = []
    for _ in range(draw(st.integers(0 if endpoint else 1, 3))):
        pieces: list[Piece] = []
        for _ in range(draw(st.integers(1, 2))):
            if draw(st.integers(0, 2)):
                pieces.append(draw(st.sampled_from(LITERALS)))
            else:
                pieces.append(Slot(draw(st.sampled_from(kinds)), None if unnamed else next(names)))
        segments.append(tuple(pieces))
    # "path" may only close the last segment: it swallows slashes.
    segments = [s for i, s in enumerate(segments) if i == len(segments) - 1 or not _has_path(s)]
    return Level(
        regex=regex,
        segments=tuple(segments),
        trailing_slash=draw(st.booleans()) if segments else False,
        anchored=draw(st.integers(0, 4)) > 0,
        dollar=regex and endpoint and draw(st.integers(0, 3)) > 0,
    )


def _has_path(segment: Segment) -> bool:
    return any(isinstance(p, Slot) and p.kind == "path" for p in segment)


@dataclass(frozen=True)
class Endpoint:
    chain: tuple[Level, ...]  # the include() prefixes, then its own pattern
    label: str
    lifted: bool
    name: str | None
    extras: dict[str, Any]
    #: Called aiohttp's way, view(request): it answers with its label and match_info.
    request_only: bool = False


@dataclass(frozen=True)
class Include:
    level: Level
    items: tuple[Endpoint | Include, ...]


@st.composite
def urlconfs(draw: st.DrawFn) -> tuple[Endpoint | Include, ...]:
    labels = (f"v{i}" for i in itertools.count())
    names = (f"g{i}" for i in itertools.count())  # group names, unique in the URLconf

    def draw_items(prefix: tuple[Level, ...], count: int) -> tuple[Endpoint | Include, ...]:
        items: list[Endpoint | Include] = []
        for _ in range(count):
            if len(prefix) < 2 and draw(st.integers(0, 3)) == 0:
                level = draw(levels(names, endpoint=False))
                inner = draw_items((*prefix, level), draw(st.integers(1, 3)))
                items.append(Include(level, inner))
                continue
            extras = {"extra": 1} if draw(st.integers(0, 5)) == 0 else {}
            items.append(
                Endpoint(
                    chain=(*prefix, draw(levels(names, endpoint=True))),
                    label=next(labels),
                    lifted=draw(st.booleans()),
                    # Repeated, dotted and keyword names: Django takes them, aiohttp does not.
                    name=draw(st.sampled_from([None, "same", "class", "a-b.c", "2fa", None])),
                    extras=extras,
                    request_only=not extras and draw(st.booleans()),
                )
            )
        return tuple(items)

    return draw_items((), draw(st.integers(1, 6)))


def endpoints_of(items: tuple[Endpoint | Include, ...]) -> list[Endpoint]:
    found: list[Endpoint] = []
    for item in items:
        found.extend(endpoints_of(item.items) if isinstance(item, Include) else [item])
    return found


def echo(label: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    return f"{label}|{args!r}|{sorted(kwargs.items())!r}"


def request_only_echo(label: str) -> str:
    return f"{label}|request only"


def make_view(label: str, lifted: bool, request_only: bool = False) -> Any:
    if lifted and request_only:
        # Its values are match_info's text, which Django's converted arguments cannot be
        # compared with: the label shows who answered.
        async def view(request: web.Request) -> web.Response:
            return web.Response(text=request_only_echo(label))

    elif lifted:

        async def view(  # type: ignore[misc]
            request: web.Request, *args: Any, **kwargs: Any
        ) -> web.Response:
            return web.Response(text=echo(label, args, kwargs))

    else:

        def view(request: Any, *args: Any, **kwargs: Any) -> Any:  # type: ignore[misc]
            raise AssertionError("a Django view is never called here")

    view.__name__ = view.__qualname__ = label
    return view


def entries(items: tuple[Endpoint | Include, ...]) -> list[Any]:
    """The ``path()``/``re_path()``/``include()`` entries of a URLconf."""
    result: list[Any] = []
    for item in items:
        if isinstance(item, Include):
            make = re_path if item.level.regex else path
            result.append(make(item.level.route(), include(entries(item.items))))
        else:
            level = item.chain[-1]
            make = re_path if level.regex else path
            view = make_view(item.label, item.lifted, item.request_only)
            result.append(make(level.route(), view, item.extras, name=item.name))
    return result


def build_urlconf(items: tuple[Endpoint | Include, ...]) -> types.ModuleType:
    module = types.ModuleType("fuzzed_urls")
    module.urlpatterns = entries(items)  # type: ignore[attr-defined]
    return module


def fillers(kind: str) -> st.SearchStrategy[str]:
    return {
        "int": st.integers(0, 99999).map(str),
        "str": st.text(alphabet="ab-_.~é 09", min_size=1, max_size=4),
        "slug": st.text(
            alphabet=string.ascii_letters + string.digits + "-_", min_size=1, max_size=4
        ),
        "uuid": st.uuids().map(str),
        "path": st.lists(st.sampled_from(["a", "b.c", "0", "é"]), min_size=1, max_size=3).map(
            "/".join
        ),
        "two digits": st.integers(0, 99).map(lambda n: f"{n:02d}"),
        "lower": st.text(alphabet="abcz", min_size=1, max_size=3),
        "x or yz": st.sampled_from(["x", "yz"]),
    }[kind]


@st.composite
def paths_for(draw: st.DrawFn, endpoint: Endpoint) -> str:
    """A path the endpoint's chain matches, or a near miss of one."""
    text = ""
    for level in endpoint.chain:
        for index, segment in enumerate(level.segments):
            if index:
                text += "/"
            for piece in segment:
                text += piece if isinstance(piece, str) else draw(fillers(piece.kind))
        text += "/" if level.trailing_slash else ""
    miss = draw(st.integers(0, 6))
    if miss == 1:
        text = text[:-1] if text.endswith("/") else text + "/"
    elif miss == 2:
        text += draw(st.sampled_from(["x", "x/", "/1/"]))
    elif miss == 3 and text:
        text = text.replace(draw(st.sampled_from(list(text))), draw(st.sampled_from("0a/-")), 1)
    elif miss == 4:
        text += "\n"  # "$" matches before a final newline in Python's regexes
    return "/" + text


def _escape(text: str) -> str:
    return "".join(f"%{byte:02X}" for byte in text.encode())


@st.composite
def raw_forms(draw: st.DrawFn, target: str) -> str:
    """``target`` as a client may send it: the raw path, percent-escapes and all."""
    shape = draw(st.integers(0, 6))
    if shape == 0 or len(target) < 2:
        return quote(target, safe="/")
    index = draw(st.integers(1, len(target) - 1))
    char = target[index]
    head, tail = quote(target[:index], safe="/"), quote(target[index + 1 :], safe="/")
    escaped = _escape(char)
    middle = {
        1: escaped,  # an escape where none is needed ("/" as %2F too)
        2: escaped.replace("%", "%25"),  # an escaped escape: Django sees "%31", not "1"
        # An escape of an escape's digits after a "%": once decoded, "%31"; twice, "1".
        3: "".join("%" + _escape(escape[1:]) for escape in escaped.split("%")[1:]),
        4: "%" + quote(char, safe="/"),  # a stray "%"
        5: "%E9" + quote(char, safe="/"),  # broken UTF-8
        6: "%zz" + quote(char, safe="/"),  # no escape at all
    }[shape]
    return head + middle + tail


Example = tuple[tuple[Endpoint | Include, ...], list[str]]


@st.composite
def examples(draw: st.DrawFn) -> Example:
    items = draw(urlconfs())
    paths = [draw(paths_for(endpoint)) for endpoint in endpoints_of(items) for _ in range(2)]
    paths += draw(st.lists(st.sampled_from(["/", "/a/", "/ab", "/item/1/", "/café/"]), max_size=2))
    return items, [draw(raw_forms(target)) for target in paths]


async def fallback(request: web.Request) -> web.Response:
    return web.Response(text=FALLBACK)


def django_path(raw: str) -> str:
    """The path Django resolves for a raw request path: PEP 3333's PATH_INFO, Django's decoding."""
    return get_path_info({"PATH_INFO": unquote_to_bytes(raw).decode("latin-1")})


def django_answer(
    raw: str,
    urlconf: types.ModuleType,
    lifted: set[str],
    request_only: frozenset[str] = frozenset(),
) -> str:
    try:
        match = resolve(django_path(raw), urlconf)  # type: ignore[arg-type]  # a module works too
    except Resolver404:
        return FALLBACK
    if match.func.__name__ not in lifted:
        return FALLBACK
    if match.func.__name__ in request_only:
        return request_only_echo(match.func.__name__)
    return echo(match.func.__name__, match.args, match.kwargs)


async def answers(urlconf: types.ModuleType, paths: list[str]) -> list[str]:
    app = web.Application()
    add_lifted_routes(app.router, fallback, urlconf=urlconf)
    app.router.add_route("*", "/{tail:(?s:.*)}", fallback)
    runner = web.AppRunner(app)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        base = f"http://127.0.0.1:{runner.addresses[0][1]}"
        async with aiohttp.ClientSession() as session:
            bodies = []
            for raw in paths:
                url = URL(base + raw, encoded=True)
                async with session.get(url) as response:
                    bodies.append(await response.text())
            return bodies
    finally:
        await runner.cleanup()


@settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(example=examples())
def test_lifted_routes_follow_resolve(example: Example) -> None:
    items, paths = example
    endpoints = endpoints_of(items)
    urlconf = build_urlconf(items)
    lifted = {e.label for e in endpoints if e.lifted}
    request_only = frozenset(e.label for e in endpoints if e.lifted and e.request_only)
    try:
        got = asyncio.run(answers(urlconf, paths))
        expected = [django_answer(raw, urlconf, lifted, request_only) for raw in paths]
    finally:
        clear_url_caches()
    mismatches = [
        (target, want, have)
        for target, want, have in zip(paths, expected, got, strict=True)
        if want != have
    ]
    routes = [" / ".join(level.route() for level in e.chain) for e in endpoints]
    assert mismatches == [], f"routes: {routes}"
    event(f"lifted answers: {sum(answer != FALLBACK for answer in got) > 0}")


def test_escapes_are_decoded_once() -> None:
    """The shapes of the audit: each path reaches what Django's resolve() gives for it."""
    items = (
        Endpoint((Level(False, (("items",), (Slot("int", "pk"),)), True),), "item", True, None, {}),
        # Called aiohttp's way, reading match_info, as the audit's view was.
        Endpoint(
            (Level(False, (("ids",), (Slot("int", "pk"),)), True),), "id", True, None, {}, True
        ),
        Endpoint(
            (Level(False, (("names",), (Slot("str", "name"),)), True),), "name", True, None, {}
        ),
        # Django takes /percent/%31/ for this lifted view: it must not end up in Django's hands.
        Endpoint((Level(True, (("percent",), ("%31",)), True),), "percent", True, None, {}),
    )
    urlconf = build_urlconf(items)
    paths = [
        "/ids/%%33%31/",
        "/ids/%31/",
        "/items/%%33%31/",
        "/items/%31/",
        "/items/%2531/",
        "/names/%%33%31/",
        "/names/%2531/",
        "/percent/%%33%31/",
        "/percent/%2531/",
        "/percent/1/",
    ]
    try:
        got = asyncio.run(answers(urlconf, paths))
        lifted = {"id", "item", "name", "percent"}
        expected = [django_answer(raw, urlconf, lifted, frozenset({"id"})) for raw in paths]
    finally:
        clear_url_caches()
    assert got == expected
    assert got[:2] == [FALLBACK, request_only_echo("id")]
    got = got[2:]
    assert got[:3] == [FALLBACK, echo("item", (), {"pk": 1}), FALLBACK]
    assert got[3:5] == [echo("name", (), {"name": "%31"})] * 2
    assert got[5:] == [echo("percent", (), {})] * 2 + [FALLBACK]


def test_uuid_slot_matches() -> None:
    """The fuzzer's uuid filler gives what Django's converter takes (or the fuzz proves less)."""
    urlconf = build_urlconf(
        (Endpoint((Level(False, ((Slot("uuid", "u"),),), True),), "v0", True, None, {}),)
    )
    value = uuid.uuid4()
    try:
        assert resolve(f"/{value}/", urlconf).kwargs == {"u": value}  # type: ignore[arg-type]
    finally:
        clear_url_caches()
