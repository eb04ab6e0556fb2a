"""Django's rules for matching a path against one URLconf entry, applied outside Django.

A lifted route must accept exactly the paths Django's resolver would send down its chain of
patterns (the ``include()`` prefixes, then the ``path()``/``re_path()``). :class:`ChainMatcher`
does what ``URLResolver.resolve`` does for that one chain: each level is matched with Django's
own compiled pattern against what the previous level left of the path, converters run their
``to_python`` (a ``ValueError`` means "no match"), and arguments are merged level by level.

For the common chains, literal text and named groups only, one compiled regular expression
does the same work in one call: each include() level sits in an atomic group, so, as in
Django, no level gives back what it matched to let a later one succeed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeAlias

from django.urls.resolvers import RegexPattern, RoutePattern
from django.utils import translation

from .._compat import pattern_text

# A level's match: the rest of the path, positional args, the named values as text, and the
# named values as Django passes them (converted with ``to_python``).
_Step: TypeAlias = tuple[str, tuple[Any, ...], dict[str, str], dict[str, Any]]
_LevelMatch: TypeAlias = Callable[[str], _Step | None]


class ChainMatcher:
    """Apply a chain of patterns to a path with the rules of Django's ``URLResolver.resolve``.

    ``match()`` gives the named values as text (aiohttp's ``match_info``); ``arguments()``
    gives the ``args``/``kwargs`` Django would call the view with. Paths are Django paths:
    decoded, starting with ``/``, without the script name.

    ``combined`` is a regex equivalent to the whole chain (it must be, see
    :mod:`aiodjango.patterns`); ``fallible`` names the converters of its groups whose
    ``to_python`` may still refuse a value. ``literal`` is the one path the chain matches,
    when it is plain text: matching is then a comparison.
    """

    __slots__ = (
        "_combined",
        "_extras",
        "_fallible",
        "_language_dependent",
        "_language_from_path",
        "_levels",
        "literal",
    )

    def __init__(
        self,
        patterns: Sequence[object],
        extras: Sequence[Mapping[str, Any]],
        *,
        combined: str | None = None,
        fallible: Mapping[str, Any] | None = None,
        language_dependent: bool = False,
        language_from_path: bool = False,
        literal: str | None = None,
    ) -> None:
        self.literal = None if language_dependent else literal
        self._levels = tuple(_level_matcher(pattern) for pattern in patterns)
        self._extras = tuple(extras)
        self._combined = re.compile(combined) if combined is not None else None
        self._fallible = tuple((fallible or {}).items())
        self._language_dependent = language_dependent
        self._language_from_path = language_from_path

    def matches(self, path: str) -> bool:
        if self.literal is not None:
            return path == self.literal
        if self._combined is not None and not self._fallible:
            return self._combined.fullmatch(path) is not None
        return self.match(path) is not None

    def match(self, path: str) -> dict[str, str] | None:
        if self.literal is not None:
            return {} if path == self.literal else None
        if self._combined is not None:
            found = self._combined.fullmatch(path)
            if found is None:
                return None
            values = found.groupdict()
            for name, converter in self._fallible:
                try:
                    converter.to_python(values[name])
                except ValueError:
                    return None
            return values
        steps = self._steps(path)
        if steps is None:
            return None
        if len(steps) == 1:
            return steps[0][2]
        values = {}
        for step in steps:
            values.update(step[2])
        return values

    def arguments(self, path: str) -> tuple[tuple[Any, ...], dict[str, Any]] | None:
        steps = self._steps(path)
        if steps is None:
            return None
        _, args, _, captured = steps[-1]
        kwargs = {**captured, **self._extras[-1]}
        # Fold outwards the way each URLResolver merges its own match into the inner one: an
        # inner keyword wins, and an outer level's positional values are kept only while
        # there are no keywords at all.
        for (_, level_args, _, level_kwargs), extras in zip(
            reversed(steps[:-1]), reversed(self._extras[:-1]), strict=True
        ):
            merged = {**level_kwargs, **extras, **kwargs}
            if not merged:
                args = level_args + args
            kwargs = merged
        return args, kwargs

    def _steps(self, path: str) -> list[_Step] | None:
        if not self._language_dependent:
            return self._walk(path)
        # Like LocaleMiddleware: the language of the URL's prefix, else LANGUAGE_CODE.
        language = translation.get_language_from_path(path) if self._language_from_path else None
        with translation.override(language):
            return self._walk(path)

    def _walk(self, path: str) -> list[_Step] | None:
        # The root resolver's own pattern is ``^/``.
        if not path.startswith("/"):
            return None
        rest = path[1:]
        steps = []
        for level in self._levels:
            step = level(rest)
            if step is None:
                return None
            steps.append(step)
            rest = step[0]
        return steps


def _level_matcher(pattern: object) -> _LevelMatch:
    """A function applying one level the way Django's pattern class does."""
    if isinstance(pattern, RoutePattern):
        return _route_matcher(pattern)
    if isinstance(pattern, RegexPattern):
        regex_match = pattern.match

        def regex_level(path: str) -> _Step | None:
            found = regex_match(path)
            if found is None:
                return None
            rest, args, kwargs = found
            return rest, args, kwargs, kwargs

        return regex_level

    # LocalePrefixPattern, or a pattern class of the project's own.
    pattern_match: Callable[[str], tuple[str, tuple[Any, ...], dict[str, Any]] | None]
    pattern_match = pattern.match  # type: ignore[attr-defined]

    def other_level(path: str) -> _Step | None:
        found = pattern_match(path)
        if found is None:
            return None
        rest, args, kwargs = found
        return rest, args, {key: str(value) for key, value in kwargs.items()}, kwargs

    return other_level


def _route_matcher(pattern: RoutePattern) -> _LevelMatch:
    """``RoutePattern.match``, keeping the matched text beside the converted values."""
    converters = pattern.converters
    # A translated route has one regex per language, looked up on each use.
    fixed = pattern.regex if pattern_text(pattern) is not None else None

    def route_level(path: str) -> _Step | None:
        found = (fixed or pattern.regex).search(path)
        if found is None:
            return None
        text = found.groupdict()
        try:
            values = {key: converters[key].to_python(value) for key, value in text.items()}
        except ValueError:
            # Django treats a converter's ValueError as "no match" and tries the next pattern.
            return None
        return path[found.end() :], (), text, values

    return route_level
