"""Which views aiohttp serves, and how they are called: decided once per view, at startup.

A view is *lifted* (served by aiohttp with an ``aiohttp.web.Request``) when it is a
coroutine function, a subclass of ``aiohttp.web.View``, or marked with :func:`aiohttp_view`.
Sync views, Django's class-based views (``as_view()``, async ones included), coroutine
functions whose request parameter is annotated as ``django.http.HttpRequest``, and views
marked with :func:`django_view` stay with Django.

A lifted view that takes the request alone is called aiohttp's way, ``view(request)``, and
finds the URL's values as text in ``request.match_info``. One that declares more is called
Django's way, ``view(request, *args, **kwargs)``, with converted values and extra options.
"""

from __future__ import annotations

import functools
import inspect
import typing
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeAlias, TypeVar

from aiohttp import web
from asgiref.sync import iscoroutinefunction
from django.http import HttpRequest

F = TypeVar("F", bound=Callable[..., Any])
Handler: TypeAlias = Callable[[web.Request], Awaitable[web.StreamResponse]]
#: ``wrap_view(handler, view) -> handler``: adds per-view protection around a lifted view.
ViewWrapper: TypeAlias = Callable[[Handler, object], Handler]

_MARK = "_aiodjango_lifted"
_POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)


def aiohttp_view(view: F) -> F:
    """Lift ``view`` into aiohttp, for callables that hide their coroutine (wrappers, partials)."""
    return _mark(view, lifted=True)


def django_view(view: F) -> F:
    """Keep the coroutine function ``view`` in Django: it is served through WSGI, never lifted."""
    return _mark(view, lifted=False)


def _mark(view: F, *, lifted: bool) -> F:
    try:
        setattr(view, _MARK, lifted)
    except (AttributeError, TypeError) as error:
        raise TypeError(
            f"{view!r} cannot be marked as an aiohttp or Django view (it takes no attributes); "
            "mark a function that wraps it instead"
        ) from error
    return view


def is_lifted(view: object) -> bool:
    """The one rule: does aiohttp serve this view, rather than Django through WSGI?

    A mark from :func:`aiohttp_view` or :func:`django_view` decides first (wrappers made with
    ``functools.wraps`` inherit it). Otherwise subclasses of ``aiohttp.web.View`` and
    coroutine functions are lifted, except Django's class-based views and coroutine
    functions whose request parameter is annotated as ``django.http.HttpRequest``.
    """
    mark = getattr(view, _MARK, None)
    if mark is None and isinstance(view, functools.partial):
        mark = getattr(view.func, _MARK, None)
    if isinstance(mark, bool):
        return mark
    if isinstance(view, type):
        return issubclass(view, web.View)
    if getattr(view, "view_class", None) is not None:
        return False  # as_view() of a Django class-based view
    if not iscoroutinefunction(view):
        return False
    return not _declares_django_request(view)


def takes_request_only(view: object) -> bool:
    """Whether ``view`` is called with the request alone, aiohttp style."""
    parameters = _parameters(view)
    return parameters is not None and len(parameters) == 1 and parameters[0].kind in _POSITIONAL


def extras_problem(view: object, extras: Mapping[str, Any]) -> str | None:
    """Why ``view`` cannot receive a pattern's extra options, if it cannot."""
    if not extras:
        return None
    if isinstance(view, type):
        return (
            f"the aiohttp view class {view.__qualname__} cannot receive the extra options "
            f"{dict(extras)!r}; use a coroutine function that takes them"
        )
    if takes_request_only(view):
        return (
            f"the view takes only the request, so it cannot receive the extra options "
            f"{dict(extras)!r}; declare them as parameters or **kwargs"
        )
    return None


def _parameters(view: object) -> list[inspect.Parameter] | None:
    try:
        return list(inspect.signature(view).parameters.values())  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def _declares_django_request(view: object) -> bool:
    parameters = _parameters(view)
    if not parameters or parameters[0].kind not in _POSITIONAL:
        return False
    annotation = parameters[0].annotation
    if isinstance(annotation, str):
        # ``from __future__ import annotations``: evaluate the one annotation that matters,
        # in the namespace of the function that wrote it; an unresolvable one says nothing.
        function = inspect.unwrap(view.func if isinstance(view, functools.partial) else view)  # type: ignore[arg-type]
        namespace = getattr(function, "__globals__", None)
        if namespace is None:
            return False
        try:
            annotation = eval(annotation, namespace)
        except Exception:
            return False
    return _is_request_type(annotation)


def _is_request_type(annotation: object) -> bool:
    """``HttpRequest`` or a subclass, alone or in a union (``HttpRequest | None``)."""
    if isinstance(annotation, type):
        return issubclass(annotation, HttpRequest)
    return any(_is_request_type(argument) for argument in typing.get_args(annotation))
