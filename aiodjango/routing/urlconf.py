"""Lifting coroutine views out of the Django URLconf into aiohttp routes.

At startup the whole URLconf is walked, through ``include()`` at any depth, and every view is
judged once (:func:`~aiodjango.routing.kinds.decide`). Each lifted pattern becomes one aiohttp
resource, added in Django's order and named like Django names it (``"ns:name"``); so does each
pattern of a Django async view, when a handler for those is given (their resource hands the
request to Django's async handler instead of calling the view).

Django decides, aiohttp serves: a lifted resource matches paths with Django's own rules
(:mod:`aiodjango.routing.matching`), so it accepts exactly the URLs its pattern accepts, whatever the
regex contains. Order parity comes from the same rules: the earlier patterns that could match
some of the same URLs are found at startup (:mod:`aiodjango.routing.patterns`), and only a resource
that has such patterns checks them per request. When one of them matches, the resource
declines and the request goes on through aiohttp's routing, to the lifted route Django would
pick or to the WSGI catch-all behind. Most lifted routes have no such pattern and pay nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from aiohttp import web
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.urls import URLPattern, URLResolver, get_resolver

from ..wsgi.handler import check_script_name
from .kinds import Decision, Handler, ViewKind, ViewWrapper, decide, extras_problem
from .patterns import PatternChain
from .resources import EncodedPathResource, LiftedResource

__all__ = [
    "LiftedPattern",
    "LiftedRoute",
    "ViewPattern",
    "add_lifted_routes",
    "find_lifted_patterns",
    "find_view_patterns",
]

_LOCALE_MIDDLEWARE = "django.middleware.locale.LocaleMiddleware"


@dataclass(frozen=True)
class ViewPattern:
    """One pattern of the URLconf with the kind of its view and why."""

    #: As Django describes patterns: ``'api/items/<int:pk>/' [name='api:item']``.
    description: str
    view: Callable[..., Any]
    decision: Decision


@dataclass(frozen=True)
class LiftedPattern:
    """A lifted view's place in the URLconf, as found at startup.

    Django async views served on the loop are routed the same way; their ``kind`` says so.
    """

    #: The pattern with its include() prefixes and its name, as Django describes patterns:
    #: ``'api/items/<int:pk>/' [name='api:item']``.
    description: str
    #: The joined Django route, as ``ResolverMatch.route`` gives it: ``api/items/<int:pk>/``.
    route: str
    view: Callable[..., Any]
    #: Django's name with its namespaces (``"api:item"``), or None.
    view_name: str | None
    #: The aiohttp route template, such as ``/api/items/{pk:[0-9]+}/``; None when the pattern
    #: cannot be written as one (``reason`` says why). Either way the route matches with
    #: Django's own rules.
    aiohttp_path: str | None
    reason: str | None
    #: Earlier patterns that may match some of the same URLs: checked per request.
    overlaps: tuple[str, ...]
    #: An earlier pattern that matches every URL this one matches, if one is known.
    shadowed_by: str | None
    #: Why the view cannot be called as its pattern asks; add_lifted_routes() refuses it.
    error: str | None
    kind: ViewKind = ViewKind.AIOHTTP

    @property
    def unreachable(self) -> bool:
        """Django never picks this view: an earlier pattern takes all its URLs."""
        return self.shadowed_by is not None


@dataclass(frozen=True)
class LiftedRoute:
    """What :func:`add_lifted_routes` added for one lifted pattern."""

    pattern: LiftedPattern
    resource: web.AbstractResource
    #: The aiohttp route name; None when the Django name is missing, used more than once in
    #: the URLconf, refused by aiohttp or already taken in the router: such routes are added
    #: unnamed (use Django's ``reverse()`` for them).
    name: str | None


@dataclass(frozen=True, eq=False)
class _Entry:
    """One ``path()``/``re_path()`` with its include() chain."""

    description: str
    route: str
    view: Callable[..., Any]
    view_name: str | None
    decision: Decision
    chain: PatternChain
    extras: Mapping[str, Any]


@dataclass(frozen=True, eq=False)
class _Lifted:
    entry: _Entry
    pattern: LiftedPattern
    #: The earlier entries that may match some of the same paths.
    earlier: tuple[_Entry, ...]


def find_lifted_patterns(urlconf: str | ModuleType | None = None) -> list[LiftedPattern]:
    """The lifted patterns of the URLconf in Django's order, analysed without a router."""
    return [item.pattern for item in _analyse(urlconf)[1] if item.pattern.kind is ViewKind.AIOHTTP]


def find_view_patterns(urlconf: str | ModuleType | None = None) -> list[ViewPattern]:
    """Every pattern of the URLconf in Django's order, with the kind of its view and why."""
    return [
        ViewPattern(entry.description, entry.view, entry.decision) for entry in _analyse(urlconf)[0]
    ]


def add_lifted_routes(
    router: web.UrlDispatcher,
    fallback: Handler,
    *,
    urlconf: str | ModuleType | None = None,
    script_name: str = "",
    wrap_view: ViewWrapper | None = None,
    django_async: Handler | None = None,
) -> list[LiftedRoute]:
    """Add one aiohttp route per lifted pattern, in Django's order, before the WSGI catch-all.

    A lifted route declines the URLs that Django gives to another view, so these go on to the
    routes added after it: add the catch-all for the WSGI app after this call. ``fallback``
    (the WSGI handler) answers the rare request that reached a lifted route but that no lifted
    view can take any more. ``script_name`` is the mount prefix (``""`` or ``"/prefix"``)
    the WSGI app also gets. ``wrap_view(handler, view)`` may wrap each lifted view's handler;
    it only runs for requests Django would give that view. ``django_async`` is the handler
    that serves Django's async views on the loop: with it, their patterns get routes too, in
    the same order and with the same matching, so that these requests skip the WSGI adapter.

    Raises ``ImproperlyConfigured`` for a view that cannot be called as its pattern asks.
    """
    check_script_name(script_name)
    entries, lifted = _analyse(urlconf)
    errors = [f"{i.pattern.description}: {i.pattern.error}" for i in lifted if i.pattern.error]
    if errors:
        raise ImproperlyConfigured("Coroutine views that cannot be served: " + "; ".join(errors))

    name_counts = Counter(entry.view_name for entry in entries if entry.view_name)
    resources: dict[int, LiftedResource] = {}
    routes = []
    for item in lifted:
        entry, shape = item.entry, item.entry.chain.shape
        served_by = None
        if item.pattern.kind is ViewKind.DJANGO_ASYNC:
            if django_async is None:
                continue
            served_by = django_async
        name = entry.view_name
        if name is not None and (
            name_counts[name] > 1 or not _is_route_name(name) or name in router
        ):
            name = None
        resource = LiftedResource(
            entry.view,
            entry.chain.matcher,
            guards=[earlier.chain.matcher for earlier in item.earlier],
            name=name,
            view_name=entry.view_name,
            formatter=shape.formatter,
            canonical=shape.formatter or shape.prefix + "{...}",
            mount=script_name,
            urlconf=urlconf,
            fallback=fallback,
            wrap_view=wrap_view,
            handler=served_by,
        )
        router.register_resource(resource)
        resources[id(entry)] = resource
        routes.append(LiftedRoute(item.pattern, resource, name))

    if resources:
        last = max(index for index, entry in enumerate(entries) if id(entry) in resources)
        scan = [(entry.chain.matcher, resources.get(id(entry))) for entry in entries[: last + 1]]
        router.register_resource(EncodedPathResource(scan, script_name, fallback))
    return routes


def _analyse(urlconf: str | ModuleType | None) -> tuple[list[_Entry], list[_Lifted]]:
    """Every entry of the URLconf, and those served on the loop, each with its overlaps."""
    resolver = get_resolver(urlconf)  # type: ignore[arg-type]  # a module works too
    language_from_path = _LOCALE_MIDDLEWARE in settings.MIDDLEWARE
    level_shapes: dict[int, Any] = {}
    entries = []
    for levels, extras, view, view_name, route in _walk(resolver.url_patterns, (), (), (), ""):
        chain = PatternChain(
            levels, extras, language_from_path=language_from_path, level_shapes=level_shapes
        )
        description = f"'{route}'" + (f" [name='{view_name}']" if view_name else "")
        merged = {key: value for layer in extras for key, value in layer.items()}
        entries.append(_Entry(description, route, view, view_name, decide(view), chain, merged))

    lifted = []  # the entries served on the loop: aiohttp views and Django async views
    for position, entry in enumerate(entries):
        kind = entry.decision.kind
        if kind is ViewKind.DJANGO_SYNC:
            continue
        earlier = tuple(e for e in entries[:position] if e.chain.may_overlap(entry.chain))
        shadowed_by = next((e for e in earlier if e.chain.shadows(entry.chain)), None)
        shape = entry.chain.shape
        pattern = LiftedPattern(
            description=entry.description,
            route=entry.route,
            view=entry.view,
            view_name=entry.view_name,
            aiohttp_path=shape.template,
            reason=shape.reason,
            overlaps=tuple(e.description for e in earlier),
            shadowed_by=shadowed_by.description if shadowed_by is not None else None,
            error=extras_problem(entry.view, entry.extras) if kind is ViewKind.AIOHTTP else None,
            kind=kind,
        )
        lifted.append(_Lifted(entry, pattern, earlier))
    return entries, lifted


_WalkItem = tuple[
    tuple[object, ...], tuple[Mapping[str, Any], ...], Callable[..., Any], str | None, str
]


def _walk(
    patterns: Sequence[object],
    levels: tuple[object, ...],
    extras: tuple[Mapping[str, Any], ...],
    namespaces: tuple[str, ...],
    route: str,
) -> Iterator[_WalkItem]:
    """Every ``path()``/``re_path()`` with its chain, in the order Django's resolver tries them."""
    for item in patterns:
        if isinstance(item, URLResolver):
            inner = (*namespaces, item.namespace) if item.namespace else namespaces
            yield from _walk(
                item.url_patterns,
                (*levels, item.pattern),
                (*extras, item.default_kwargs),
                inner,
                _join_route(route, str(item.pattern)),
            )
        elif isinstance(item, URLPattern):
            view_name = ":".join((*namespaces, item.name)) if item.name else None
            yield (
                (*levels, item.pattern),
                (*extras, item.default_args),
                item.callback,
                view_name,
                _join_route(route, str(item.pattern)),
            )
        else:
            raise ImproperlyConfigured(f"Unknown entry in the URLconf: {item!r}")


def _join_route(route: str, text: str) -> str:
    """Join routes as Django does for ``ResolverMatch.route``."""
    return route + text.removeprefix("^") if route else text


def _is_route_name(name: str) -> bool:
    """Whether aiohttp accepts ``name`` as a route name (identifiers, no keywords, joined by
    ``.``, ``:``, ``-``), asked of aiohttp itself: it has no public check but its router's."""
    try:
        web.UrlDispatcher().add_resource("/", name=name)
    except ValueError:
        return False
    return True
