"""The rule that gives every view one of three kinds, with its reason, and what it leads to."""

from __future__ import annotations

import functools
import io
import logging
import types
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from django.core.checks import run_checks
from django.core.management import call_command
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import path
from django.views import View

from aiodjango import aiohttp_view, django_view
from aiodjango.routing import ViewKind, add_lifted_routes, decide
from tests.support.servers import AiohttpClient

from .project import views as project

AIOHTTP, ASYNC, SYNC = ViewKind.AIOHTTP, ViewKind.DJANGO_ASYNC, ViewKind.DJANGO_SYNC


async def uses_json_response(request):  # type: ignore[no-untyped-def]
    return JsonResponse({})


async def uses_render(request):  # type: ignore[no-untyped-def]
    return render(request, "page.html")


async def uses_module_attribute(request):  # type: ignore[no-untyped-def]
    import django.http

    return django.http.HttpResponse("x")


async def uses_it_in_an_inner_function(request):  # type: ignore[no-untyped-def]
    def answer() -> Any:
        return HttpResponse("x")

    return answer()


async def imports_a_shortcut(request):  # type: ignore[no-untyped-def]
    from django.shortcuts import redirect

    return redirect("/")


async def reads_request_user(request):  # type: ignore[no-untyped-def]
    return await project._respond(request.user)


async def uses_web(request):  # type: ignore[no-untyped-def]
    return web.json_response({})


async def uses_websocket(request):  # type: ignore[no-untyped-def]
    socket = web.WebSocketResponse()
    await socket.prepare(request)
    return socket


async def reads_match_info(request):  # type: ignore[no-untyped-def]
    return await project._respond(request.match_info["x"])


async def calls_an_api_with_aiohttps_client(request):  # type: ignore[no-untyped-def]
    async with aiohttp.ClientSession() as session:
        return await project._respond(session)


async def uses_both(request):  # type: ignore[no-untyped-def]
    return web.Response() if request else HttpResponse()


async def annotated_django(request: HttpRequest) -> Any:
    return await project._respond(request)


async def annotated_aiohttp(request: web.Request) -> Any:
    return await project._respond(request)


class AsyncCBV(View):
    async def get(self, request: Any) -> HttpResponse:
        return HttpResponse()


class SyncCBV(View):
    def get(self, request: Any) -> HttpResponse:
        return HttpResponse()


def made_in_closure() -> Any:
    respond = HttpResponse

    async def closure(request):  # type: ignore[no-untyped-def]
        return respond()

    return closure


@pytest.mark.parametrize(
    ("view", "kind", "reason"),
    [
        (uses_json_response, ASYNC, "uses django.http.JsonResponse"),
        (uses_render, ASYNC, "uses django.shortcuts.render"),
        (uses_module_attribute, ASYNC, "uses django.http"),
        (uses_it_in_an_inner_function, ASYNC, "uses django.http.HttpResponse"),
        (imports_a_shortcut, ASYNC, "django.shortcuts.redirect"),
        (made_in_closure(), ASYNC, "uses django.http.HttpResponse"),
        (reads_request_user, ASYNC, "uses the attribute .user"),
        (uses_web, AIOHTTP, "uses aiohttp.web.json_response"),
        (uses_websocket, AIOHTTP, "uses aiohttp.web.WebSocketResponse"),
        (reads_match_info, AIOHTTP, "uses the attribute .match_info"),
        (annotated_django, ASYNC, "request annotated as HttpRequest"),
        (annotated_aiohttp, AIOHTTP, "request annotated as aiohttp.web.Request"),
        (AsyncCBV.as_view(), ASYNC, "as_view() of the async class-based view AsyncCBV"),
        (SyncCBV.as_view(), SYNC, "as_view() of the class-based view SyncCBV"),
        (project.sync_view, SYNC, "a sync view"),
        # Marked copies: a mark sticks to the function it is put on.
        (django_view(functools.partial(uses_web)), ASYNC, "marked @django_view"),
        (aiohttp_view(functools.partial(uses_json_response)), AIOHTTP, "marked @aiohttp_view"),
        (project.Clock.as_view(), ASYNC, "as_view() of the async class-based view Clock"),
    ],
)
def test_each_view_gets_a_kind_and_a_reason(view: Any, kind: ViewKind, reason: str) -> None:
    decision = decide(view)
    assert decision.kind is kind
    assert reason in decision.reason
    assert not decision.undecided


@pytest.mark.parametrize(
    ("view", "reason"),
    [
        (project.undecided, "nothing in its code tells: lifted by default"),
        (calls_an_api_with_aiohttps_client, "nothing in its code tells"),
        (uses_both, "both Django's django.http.HttpResponse and aiohttp's aiohttp.web.Response"),
    ],
)
def test_where_nothing_tells_the_view_is_lifted_and_said_to_be_undecided(
    view: Any, reason: str
) -> None:
    decision = decide(view)
    assert (decision.kind, decision.undecided) == (AIOHTTP, True)
    assert reason in decision.reason


def test_check_warns_about_undecided_views_only(settings: Any) -> None:
    settings.ROOT_URLCONF = "tests.django_async.project.urls"
    warnings = [m for m in run_checks(tags=["urls"]) if m.id == "aiodjango.W003"]
    assert len(warnings) == 1
    assert warnings[0].obj is project.undecided
    assert "'undecided/'" in warnings[0].msg
    assert "@aiodjango.aiohttp_view" in str(warnings[0].hint)
    assert "@aiodjango.django_view" in str(warnings[0].hint)


def test_the_command_lists_patterns_in_djangos_order() -> None:
    out = io.StringIO()
    call_command("aiodjango_views", urlconf="tests.django_async.project.urls", stdout=out)
    lines = out.getvalue().splitlines()
    listed = [line.split("  ")[0] for line in lines[1:]]
    assert listed[:2] == ["'hello/' [name='hello']", "'whoami/'"]
    assert len(listed) == 18
    out = io.StringIO()
    call_command(
        "aiodjango_views", urlconf="tests.django_async.project.urls", kind="aiohttp", stdout=out
    )
    assert [line.split()[0] for line in out.getvalue().splitlines()[1:]] == [
        "'ticker/<str:x>/'",
        "'undecided/'",
    ]


@aiohttp_view
async def lifted_but_answers_django(request: Any) -> Any:
    return HttpResponse("wrong side")


@aiohttp_view
async def lifted_but_reads_user(request: Any) -> Any:
    return web.Response(text=str(request.user))


@aiohttp_view
async def lifted_with_a_bug(request: Any, pk: int) -> Any:
    return web.Response(text=str(request.no_such_attribute))


async def test_a_misjudged_lifted_view_gets_a_clear_error_and_a_500(
    aiohttp_client: AiohttpClient, caplog: pytest.LogCaptureFixture
) -> None:
    urls = types.ModuleType("misjudged_urls")
    urls.urlpatterns = [  # type: ignore[attr-defined]
        path("answers/", lifted_but_answers_django),
        path("reads/", lifted_but_reads_user),
        path("bug/<int:pk>/", lifted_with_a_bug),
    ]
    app = web.Application()

    async def fallback(request: web.Request) -> web.Response:
        return web.Response(text="fallback")

    add_lifted_routes(app.router, fallback, urlconf=urls)
    client = await aiohttp_client(app)
    caplog.set_level(logging.ERROR)
    for target, what in [
        ("/answers/", "but it returned a Django HttpResponse"),
        ("/reads/", "but it reads request.user, which only Django's request has"),
    ]:
        caplog.clear()
        response = await client.get(target)
        assert response.status == 500
        [record] = [r for r in caplog.records if r.name == "aiodjango.routing"]
        message = record.getMessage()
        assert what in message
        assert f"{__name__}.lifted_but_" in message
        assert "marked @aiohttp_view" in message
        assert "Mark it @django_view, or annotate its request parameter" in message
    caplog.clear()
    response = await client.get("/bug/3/")  # any other AttributeError is the view's own
    assert response.status == 500
    assert not [r for r in caplog.records if r.name == "aiodjango.routing"]
    assert "no_such_attribute" in caplog.text
