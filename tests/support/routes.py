"""The routing tests' shared pieces: URLconfs and paths to try, an app of lifted routes in
front of a fallback, and what Django's ``resolve()`` says each response must be."""

from __future__ import annotations

from types import ModuleType
from typing import Any
from urllib.parse import quote

from aiohttp import web
from django.urls import Resolver404, resolve
from hypothesis import strategies as st

from aiodjango.routing import LiftedRoute, ViewWrapper, add_lifted_routes
from tests.routing.views import EXPECT_LIFTED, REQUEST_ONLY, echo

RICH = "tests.routing.urls_rich"
FALLBACK = "fallback"


async def fallback(request: web.Request) -> web.Response:
    """Stands for the WSGI app: answers whatever the lifted routes leave."""
    return web.Response(text=FALLBACK)


def build_app(
    urlconf: str | ModuleType = RICH,
    *,
    script_name: str = "",
    wrap_view: ViewWrapper | None = None,
) -> tuple[web.Application, list[LiftedRoute]]:
    app = web.Application()
    routes = add_lifted_routes(
        app.router, fallback, urlconf=urlconf, script_name=script_name, wrap_view=wrap_view
    )
    # "(?s:" so that paths with a newline reach the fallback too.
    app.router.add_route("*", "/{tail:(?s:.*)}", fallback)
    return app, routes


def django_answer(path: str, urlconf: str | ModuleType = RICH) -> tuple[str, bool]:
    """What the response to ``path`` must be, per Django's ``resolve()``.

    Returns the expected body and whether it is only the start of it (views that take the
    request alone show aiohttp's ``match_info``, which Django has no word on).
    """
    try:
        match = resolve(path, urlconf)  # type: ignore[arg-type]  # a module works too
    except Resolver404:
        return FALLBACK, False
    label = getattr(match.func, "__name__", "")
    if label not in EXPECT_LIFTED or hasattr(match.func, "view_class"):
        return FALLBACK, False
    if label in REQUEST_ONLY:
        return f"{label}|match_info|", True
    return echo(label, match.args, match.kwargs), False


NAMES = "tests.routing.urls_names"


def urlconf(*patterns: Any) -> ModuleType:
    """A URLconf module made of ``patterns``."""
    module = ModuleType("routing_test_urls")
    module.urlpatterns = list(patterns)  # type: ignore[attr-defined]
    return module


# Paths whose responder must be the view Django resolves: literals, converters, regexes,
# includes, and near misses of each.
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
