"""Which of three kinds each view is, and how a lifted view is called: decided once, at startup.

*aiohttp* views are lifted: aiohttp serves them with an ``aiohttp.web.Request``. *Django
async* views are served on the event loop by Django's own async handler, and *Django sync*
views by the WSGI adapter in a worker thread. :func:`decide` holds the rule and gives its
reason; ``manage.py aiodjango_views`` shows it for every pattern.

A lifted view that takes the request alone is called aiohttp's way, ``view(request)``, and
finds the URL's values as text in ``request.match_info``. One that declares more is called
Django's way, ``view(request, *args, **kwargs)``, with converted values and extra options.
"""

from __future__ import annotations

import enum
import functools
import inspect
import logging
import typing
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeAlias, TypeVar

from aiohttp import web
from asgiref.sync import iscoroutinefunction
from django.http import HttpRequest, HttpResponseBase

from .usage import DJANGO_REQUEST_ATTRIBUTES, read_usage

logger = logging.getLogger("aiodjango.routing")

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
    """Keep ``view`` in Django: a coroutine function is served by Django on the loop, never lifted."""
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


class ViewKind(enum.Enum):
    """Who serves a view: the three kinds, each with its own path through the server."""

    AIOHTTP = "aiohttp"
    DJANGO_ASYNC = "Django async, on the loop"
    DJANGO_SYNC = "Django, in a worker thread"


@dataclass(frozen=True)
class Decision:
    """A view's kind and the reason for it, as ``manage.py aiodjango_views`` shows them."""

    kind: ViewKind
    reason: str
    #: Nothing told the kind: the default (lift) applied, and ``manage.py check`` warns.
    undecided: bool = False


def decide(view: object) -> Decision:
    """The one rule: which of the three kinds ``view`` is, and why. Run once per view.

    A mark from :func:`aiohttp_view` or :func:`django_view` decides first (wrappers made with
    ``functools.wraps`` inherit it); then the view's shape: ``aiohttp.web.View`` subclasses,
    Django's ``as_view()``, sync callables; then the annotation of a coroutine function's
    request parameter (``web.Request`` or ``HttpRequest``); then what its code uses
    (:mod:`~aiodjango.routing.usage`). Where nothing tells, it is lifted, as it always was.
    """
    is_async = iscoroutinefunction(view)
    django = ViewKind.DJANGO_ASYNC if is_async else ViewKind.DJANGO_SYNC
    mark = getattr(view, _MARK, None)
    if mark is None and isinstance(view, functools.partial):
        mark = getattr(view.func, _MARK, None)
    if mark is True:
        return Decision(ViewKind.AIOHTTP, "marked @aiohttp_view")
    if mark is False:
        return Decision(django, "marked @django_view")
    if isinstance(view, type):
        if issubclass(view, web.View):
            return Decision(ViewKind.AIOHTTP, "an aiohttp.web.View subclass")
        return Decision(ViewKind.DJANGO_SYNC, "a class, called by Django")
    view_class = getattr(view, "view_class", None)
    if view_class is not None:
        label = "async " if is_async else ""
        return Decision(django, f"as_view() of the {label}class-based view {view_class.__name__}")
    if not is_async:
        return Decision(ViewKind.DJANGO_SYNC, "a sync view")
    annotation = _request_annotation(view)
    if _is_request_type(annotation, HttpRequest):
        return Decision(ViewKind.DJANGO_ASYNC, "request annotated as HttpRequest")
    if _is_request_type(annotation, web.BaseRequest):
        return Decision(ViewKind.AIOHTTP, "request annotated as aiohttp.web.Request")
    side, why = read_usage(view).side()
    if side == "django":
        return Decision(ViewKind.DJANGO_ASYNC, why)
    if side == "aiohttp":
        return Decision(ViewKind.AIOHTTP, why)
    return Decision(ViewKind.AIOHTTP, f"{why}: lifted by default", undecided=True)


def is_lifted(view: object) -> bool:
    """Whether aiohttp serves this view (:func:`decide` says :attr:`ViewKind.AIOHTTP`)."""
    return decide(view).kind is ViewKind.AIOHTTP


def checked_response(view: object, response: object) -> web.StreamResponse:
    """``response`` if it is aiohttp's; for a Django response, a logged error and a 500.

    A Django response from a lifted view means the rule judged the view wrongly: the log
    names the view and the fix instead of leaving aiohttp to fail on an unknown object.
    """
    if isinstance(response, HttpResponseBase):
        return _misjudged(view, f"it returned a Django {type(response).__name__}")
    return typing.cast(web.StreamResponse, response)  # aiohttp reports anything else


def misjudged_request(view: object, request: web.Request, error: AttributeError) -> web.Response:
    """A 500 and a clear logged error for a lifted view that read an attribute only Django's
    request has (``request.user``); any other AttributeError is raised again."""
    if error.obj is not request or error.name not in DJANGO_REQUEST_ATTRIBUTES:
        raise error
    return _misjudged(view, f"it reads request.{error.name}, which only Django's request has")


def view_label(view: object) -> str:
    """The view's dotted name, for messages: ``shop.views.item``."""
    name = getattr(view, "__qualname__", None) or repr(view)
    module = getattr(view, "__module__", None)
    return f"{module}.{name}" if module else name


def _misjudged(view: object, what: str) -> web.Response:
    logger.error(
        "The view %s is served by aiohttp with an aiohttp request (%s), but %s. Mark it "
        "@django_view, or annotate its request parameter as django.http.HttpRequest, to have "
        "Django serve it.",
        view_label(view),
        decide(view).reason,
        what,
    )
    return web.Response(status=500, text="Internal Server Error\n")


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


def _request_annotation(view: object) -> object:
    """The annotation of the view's request parameter, resolved; None when there is none."""
    parameters = _parameters(view)
    if not parameters or parameters[0].kind not in _POSITIONAL:
        return None
    annotation = parameters[0].annotation
    if isinstance(annotation, str):
        # ``from __future__ import annotations``: evaluate the one annotation that matters,
        # in the namespace of the function that wrote it; an unresolvable one says nothing.
        function = inspect.unwrap(view.func if isinstance(view, functools.partial) else view)  # type: ignore[arg-type]
        namespace = getattr(function, "__globals__", None)
        if namespace is None:
            return None
        try:
            return eval(annotation, namespace)
        except Exception:
            return None
    return annotation


def _is_request_type(annotation: object, base: type) -> bool:
    """``base`` or a subclass, alone or in a union (``HttpRequest | None``)."""
    if isinstance(annotation, type):
        return issubclass(annotation, base)
    return any(_is_request_type(argument, base) for argument in typing.get_args(annotation))
