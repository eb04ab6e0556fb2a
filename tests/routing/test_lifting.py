"""The one rule that says which views aiohttp serves (``is_lifted``) and its two marks."""

from __future__ import annotations

import functools
from typing import Any

import django
import pytest
from aiohttp import web
from asgiref.sync import markcoroutinefunction
from django.http import HttpRequest, HttpResponse
from django.views import View
from django.views.decorators.csrf import csrf_exempt

from aiodjango.routing import aiohttp_view, django_view, is_lifted

from . import future_views


async def coroutine_view(request: web.Request) -> web.Response:
    return web.Response(text="ok")


def sync_view(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok")


class AiohttpView(web.View):
    async def get(self) -> web.Response:
        return web.Response(text="ok")


class SyncDjangoView(View):
    def get(self, request: HttpRequest) -> HttpResponse:
        return HttpResponse("ok")


class AsyncDjangoView(View):
    async def get(self, request: HttpRequest) -> HttpResponse:
        return HttpResponse("ok")


async def annotated_django(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok")


def test_coroutine_functions_are_lifted() -> None:
    assert is_lifted(coroutine_view)
    assert is_lifted(functools.partial(coroutine_view))
    assert is_lifted(future_views.aiohttp_request)
    assert is_lifted(future_views.unannotated)


def test_aiohttp_class_based_views_are_lifted() -> None:
    assert is_lifted(AiohttpView)


def test_sync_views_stay_with_django() -> None:
    assert not is_lifted(sync_view)
    assert not is_lifted(HttpResponse)


def test_django_class_based_views_stay_with_django_even_async_ones() -> None:
    async_view = AsyncDjangoView.as_view()
    assert AsyncDjangoView.view_is_async
    assert not is_lifted(SyncDjangoView.as_view())
    assert not is_lifted(async_view)


@pytest.mark.parametrize(
    "view",
    [
        annotated_django,
        future_views.django_request,
        future_views.django_request_subclass,
        future_views.optional_django_request,
        future_views.union_django_request,
    ],
)
def test_a_request_annotated_as_django_httprequest_keeps_the_view_in_django(view: Any) -> None:
    assert not is_lifted(view)


def test_an_unresolvable_string_annotation_is_no_obstacle() -> None:
    assert is_lifted(future_views.unresolvable)


def test_django_decorators_that_keep_the_coroutine_keep_the_view_lifted() -> None:
    if django.VERSION >= (5, 0):
        assert is_lifted(csrf_exempt(coroutine_view))
    else:
        # Django 4.2's csrf_exempt wraps any view in a sync function, hiding the coroutine:
        # such wrappers are what the aiohttp_view mark is for.
        assert not is_lifted(csrf_exempt(coroutine_view))
        assert is_lifted(aiohttp_view(csrf_exempt(coroutine_view)))
    assert not is_lifted(csrf_exempt(annotated_django))


def test_django_view_mark_keeps_a_coroutine_view_in_django() -> None:
    @django_view
    async def kept(request: Any) -> HttpResponse:
        return HttpResponse("ok")

    @django_view
    class KeptAiohttpView(web.View):
        pass

    assert not is_lifted(kept)
    assert not is_lifted(functools.partial(kept))
    assert not is_lifted(KeptAiohttpView)


def test_aiohttp_view_mark_lifts_a_wrapper_that_hides_the_coroutine() -> None:
    def hiding(request: web.Request) -> Any:
        return coroutine_view(request)

    assert not is_lifted(hiding)
    assert is_lifted(aiohttp_view(hiding))


def test_asgiref_coroutine_marker_counts_as_a_coroutine_function() -> None:
    def marked(request: web.Request) -> Any:
        return coroutine_view(request)

    assert is_lifted(markcoroutinefunction(marked))


def test_the_outermost_mark_wins_and_wrappers_inherit_it() -> None:
    @aiohttp_view
    @django_view
    async def both(request: Any) -> web.Response:
        return web.Response()

    @functools.wraps(both)
    def wrapper(request: Any) -> Any:
        return both(request)

    assert is_lifted(both)
    assert is_lifted(wrapper)
    assert not is_lifted(django_view(wrapper))


def test_marking_an_object_without_attributes_is_refused_clearly() -> None:
    with pytest.raises(TypeError, match="cannot be marked"):
        aiohttp_view(len)
