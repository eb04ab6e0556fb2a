"""The aiohttp resources lifted views are served from.

A :class:`LiftedResource` takes exactly the paths Django would give its view: it decodes the
path the way Django's WSGI handler decodes PATH_INFO, matches it with Django's rules, and
declines the paths an earlier pattern takes (the *guards*, known at startup). A declined
request goes on through aiohttp's routing, so the order in which aiohttp tries resources never
changes who answers.
"""

from __future__ import annotations

import typing
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any
from urllib.parse import quote

from aiohttp import web
from django.urls import get_script_prefix, reverse
from django.utils.encoding import repercent_broken_unicode
from django.utils.http import RFC3986_SUBDELIMS
from yarl import URL

from .._compat import ResourceInfo
from ..wsgi.environ import path_info
from .kinds import (
    Handler,
    ViewWrapper,
    checked_response,
    misjudged_request,
    takes_request_only,
)
from .matching import ChainMatcher

_Resolve = tuple[web.UrlMappingMatchInfo | None, set[str]]
_ANY_METHOD = frozenset({"*"})

#: The characters Django's ``reverse()`` leaves unquoted in a path.
_PATH_SAFE = RFC3986_SUBDELIMS + "/~:@"


def django_path(raw_path: str, mount: str) -> str | None:
    """The path Django resolves for a request's raw path, or None outside the mount.

    Decoded once, exactly as the WSGI path computes PATH_INFO
    (:func:`~aiodjango.wsgi.environ.path_info`) and Django decodes it: ``%%33%31`` stays
    ``%31``. The mount takes ``/prefix`` and ``/prefix/...``, not ``/prefixed``.
    """
    path = raw_path
    if "%" in path or not path.isascii():
        path = repercent_broken_unicode(path_info(path).encode("latin-1")).decode()
    if mount:
        if not path.startswith(mount):
            return None
        path = path[len(mount) :] or "/"
        if not path.startswith("/"):
            return None
    return path


class LiftedResource(web.Resource):
    """An aiohttp resource that takes exactly the URLs Django would give its lifted view."""

    def __init__(
        self,
        view: Callable[..., Any],
        matcher: ChainMatcher,
        *,
        guards: Sequence[ChainMatcher],
        name: str | None,
        view_name: str | None,
        formatter: str | None,
        canonical: str,
        mount: str,
        urlconf: str | ModuleType | None,
        fallback: Handler,
        wrap_view: ViewWrapper | None,
        handler: Handler | None = None,
    ) -> None:
        """``handler``, when given, serves the requests instead of calling ``view`` (Django's
        async handler for its async views)."""
        super().__init__(name=name)
        self._view = view
        self._matcher = matcher
        self._guards = tuple(guards)
        self._view_name = view_name
        self._formatter = formatter
        # Only the text before the first "{" matters to aiohttp's index of resources.
        self._canonical = canonical
        self._mount = mount
        self._urlconf = urlconf
        self._fallback = fallback
        # The path aiohttp hands over when a request names a plain-text route exactly: it
        # matches without decoding, unless an earlier pattern may take it.
        self._exact_path = (
            None if matcher.literal is None or self._guards else mount + matcher.literal
        )
        if handler is None:
            handler = self._view_handler()
            if wrap_view is not None:
                handler = wrap_view(handler, view)
        #: What aiohttp calls for this resource: the view, maybe wrapped.
        self.handler = handler
        self._route = self.add_route("*", handler)

    def _view_handler(self) -> Handler:
        """Call the view the way its signature asks, with as few layers as possible."""
        view = self._view
        if isinstance(view, type):
            # An aiohttp class-based view is an aiohttp handler as it is.
            return typing.cast(Handler, view)
        if not takes_request_only(view):
            return self._call_with_arguments

        async def call(request: web.Request) -> web.StreamResponse:
            try:
                response = await view(request)
            except AttributeError as error:
                return misjudged_request(view, request, error)
            return checked_response(view, response)

        return call

    async def _call_with_arguments(self, request: web.Request) -> web.StreamResponse:
        """Call the view with Django's converted arguments and the pattern's extra options."""
        path = django_path(request.rel_url.raw_path, self._mount)
        found = self._matcher.arguments(path) if path is not None else None
        if found is None:
            # Only if the URLconf changed under a running app: let Django answer.
            return await self._fallback(request)
        args, kwargs = found
        try:
            response = await self._view(request, *args, **kwargs)
        except AttributeError as error:
            return misjudged_request(self._view, request, error)
        return checked_response(self._view, response)

    async def resolve(self, request: web.Request) -> _Resolve:
        """Match the request's raw path: aiohttp's own ``resolve()`` would hand ``_match`` a
        path with some escapes already decoded, and Django decodes only once."""
        values = self._match(request.rel_url.raw_path)
        if values is None:
            return None, set()
        return web.UrlMappingMatchInfo(values, self._route), set(_ANY_METHOD)

    def _match(self, path: str) -> dict[str, str] | None:
        """The route's values for a raw path, or None when Django picks another view."""
        if path == self._exact_path:
            return {}
        decoded = django_path(path, self._mount)
        if decoded is None:
            return None
        values = self._matcher.match(decoded)
        if values is None:
            return None
        for guard in self._guards:
            if guard.matches(decoded):
                return None  # Django picks an earlier pattern for this path
        return values

    @property
    def canonical(self) -> str:
        return self._mount + self._canonical

    def url_for(self, *args: str, **kwargs: str) -> URL:
        """Build a URL as Django's ``reverse()`` does, under this route's mount."""
        if self.name is not None and self._view_name is not None:
            path = reverse(
                self._view_name,
                urlconf=self._urlconf,  # type: ignore[arg-type]  # a module works too
                args=args or None,
                kwargs=kwargs or None,
            )
            prefix = quote(get_script_prefix(), safe=_PATH_SAFE)
            if path.startswith(prefix):
                path = path[len(prefix) - 1 :]
            return URL.build(path=self._mount + path, encoded=True)
        if self._formatter is None or args:
            raise ValueError(
                f"{self!r} cannot build URLs: its pattern is no aiohttp template; "
                "use django.urls.reverse()"
            )
        path = self._mount + self._formatter.format_map(kwargs)
        return URL.build(path=quote(path, safe=_PATH_SAFE), encoded=True)

    def add_prefix(self, prefix: str) -> None:
        self._mount = prefix + self._mount
        if self._exact_path is not None:
            self._exact_path = prefix + self._exact_path

    def get_info(self) -> ResourceInfo:
        return {"formatter": self.canonical}

    def raw_match(self, path: str) -> bool:
        return False

    def __repr__(self) -> str:
        name = f"'{self.name}' " if self.name is not None else ""
        return f"<LiftedResource {name}{self.canonical}>"


class EncodedPathResource(web.Resource):
    """Lifted views for paths whose encoded form kept aiohttp's index from their route.

    aiohttp finds candidate resources by the leading segments of the path as it sees it, in
    an encoded form, while Django matches the decoded path: ``/a%2Fb/`` is ``/a/b/`` to
    Django. Added after the lifted routes, this resource looks at the paths that still
    contain a ``%``, in Django's order, and gives the request to the lifted view Django picks.
    """

    def __init__(
        self,
        scan: Sequence[tuple[ChainMatcher, LiftedResource | None]],
        mount: str,
        fallback: Handler,
    ) -> None:
        super().__init__(name=None)
        self._scan = tuple(scan)
        self._mount = mount
        self._fallback = fallback
        self._route = self.add_route("*", self._handle)

    def _find(self, path: str) -> tuple[LiftedResource, dict[str, str]] | None:
        decoded = django_path(path, self._mount)
        if decoded is None:
            return None
        for matcher, resource in self._scan:
            values = matcher.match(decoded)
            if values is not None:
                return None if resource is None else (resource, values)
        return None

    async def resolve(self, request: web.Request) -> _Resolve:
        """Look at the raw path, as :meth:`LiftedResource.resolve` does."""
        values = self._match(request.rel_url.raw_path)
        if values is None:
            return None, set()
        return web.UrlMappingMatchInfo(values, self._route), set(_ANY_METHOD)

    def _match(self, path: str) -> dict[str, str] | None:
        if "%" not in path and path.isascii():
            return None
        found = self._find(path)
        return found[1] if found is not None else None

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        # request.match_info holds the values of the lifted route found, though its
        # ``route`` is this resource's.
        found = self._find(request.rel_url.raw_path)
        if found is None:
            return await self._fallback(request)
        return await found[0].handler(request)

    @property
    def canonical(self) -> str:
        return self._mount + "/{path}"

    def url_for(self, **kwargs: str) -> URL:
        raise ValueError("this resource hands requests to lifted routes; it has no URLs")

    def add_prefix(self, prefix: str) -> None:
        self._mount = prefix + self._mount

    def get_info(self) -> ResourceInfo:
        return {"formatter": self.canonical}

    def raw_match(self, path: str) -> bool:
        return False

    def __repr__(self) -> str:
        return f"<EncodedPathResource {self.canonical}>"
