"""The shape of Django URL patterns, read with Python's own regex parser at startup.

An entry of the URLconf is a chain of patterns: the ``include()`` prefixes down to one
``path()``/``re_path()``. Its shape tells aiodjango

* the literal text every matching URL starts with (which aiohttp indexes routes by);
* the aiohttp route template, when the chain is nothing but literal text and named groups
  (``items/<int:pk>/`` is ``/items/{pk:[0-9]+}/``), and a single regex equivalent to the
  chain for matching it in one call;
* whether two entries can ever match the same URL, and whether one takes every URL of
  another: the facts order parity is built on.

Matching itself follows Django's rules (:mod:`aiodjango.matching`): the shape only decides
how fast it can be done, never which URLs match.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.urls import converters as django_converters

from .matching import ChainMatcher
from .regexes import Group, LevelShape, Literal, Token, analyse_level

#: Converters whose ``to_python`` never rejects a value their regex matched.
_INFALLIBLE_CONVERTERS = (
    django_converters.IntConverter,
    django_converters.StringConverter,
    django_converters.SlugConverter,
    django_converters.UUIDConverter,
    django_converters.PathConverter,
)

#: aiohttp's own rule for a ``{name:regex}`` part of a route (one level of nested braces).
_AIOHTTP_PART = re.compile(r"\{[_a-zA-Z][_a-zA-Z0-9]*:[^{}]+(?:\{[^{}]*\}[^{}]*)*\}")


@dataclass(frozen=True)
class _Segment:
    """One ``/``-separated piece of a pattern that never lets a group cross a ``/``."""

    literal: str | None
    regex: re.Pattern[str]


@dataclass(frozen=True)
class Shape:
    """What a chain of patterns looks like, for routing decisions made at startup."""

    #: Decoded text every matching path starts with (at least ``"/"``).
    prefix: str
    #: Literal text and named groups, when that is all the chain is made of.
    tokens: tuple[Token, ...] | None
    #: The chain must match up to the end of the path.
    end: bool
    #: The aiohttp route template (``/items/{pk:[0-9]+}/``), or None (see ``reason``).
    template: str | None
    #: ``template`` without the regexes (``/items/{pk}/``), for building URLs.
    formatter: str | None
    reason: str | None
    segments: tuple[_Segment, ...] | None
    #: No converter of the chain can reject a value its regex matched.
    infallible: bool
    language_dependent: bool
    #: The chain matches every path that starts with ``prefix`` followed by at least this
    #: many characters (newlines aside); None when it does not.
    covers: int | None
    #: One regex that fully matches exactly the paths the chain matches, or None.
    regex: str | None
    #: A newline may follow the end of the match (an old-style ``$``).
    newline_tolerant: bool = False

    @property
    def literal_path(self) -> str | None:
        """The one path this chain matches, if it is plain text."""
        if (
            self.end
            and not self.newline_tolerant
            and self.tokens is not None
            and len(self.tokens) <= 1
        ):
            if not self.tokens:
                return self.prefix
            if isinstance(self.tokens[0], Literal):
                return "/" + self.tokens[0].text
        return None


class PatternChain:
    """One URLconf entry: its shape and its matcher."""

    __slots__ = ("matcher", "shape")

    def __init__(
        self,
        patterns: Sequence[object],
        extras: Sequence[Mapping[str, Any]],
        *,
        language_from_path: bool,
        level_shapes: dict[int, LevelShape] | None = None,
    ) -> None:
        cache = {} if level_shapes is None else level_shapes
        levels = []
        for pattern in patterns:
            if id(pattern) not in cache:
                cache[id(pattern)] = analyse_level(pattern)
            levels.append(cache[id(pattern)])
        self.shape = _combine(levels, patterns)
        fallible = {
            name: converter
            for pattern in patterns
            for name, converter in getattr(pattern, "converters", {}).items()
            if not isinstance(converter, _INFALLIBLE_CONVERTERS)
        }
        self.matcher = ChainMatcher(
            patterns,
            extras,
            combined=self.shape.regex,
            fallible=fallible,
            language_dependent=self.shape.language_dependent,
            language_from_path=language_from_path,
            literal=self.shape.literal_path,
        )

    def may_overlap(self, other: PatternChain) -> bool:
        """Whether some path could match both chains (True when unsure)."""
        mine, theirs = self.shape, other.shape
        if not (mine.prefix.startswith(theirs.prefix) or theirs.prefix.startswith(mine.prefix)):
            return False
        if mine.literal_path is not None:
            return other.matcher.matches(mine.literal_path)
        if theirs.literal_path is not None:
            return self.matcher.matches(theirs.literal_path)
        if mine.segments is None or theirs.segments is None:
            return True
        # Both end at the end of the path and keep every group inside one segment: each
        # matching path has exactly their number of segments, and each segment must fit both.
        if len(mine.segments) != len(theirs.segments):
            return False
        for a, b in zip(mine.segments, theirs.segments, strict=True):
            if a.literal is not None and b.literal is not None:
                if a.literal != b.literal:
                    return False
            elif a.literal is not None:
                if not b.regex.fullmatch(a.literal):
                    return False
            elif b.literal is not None and not a.regex.fullmatch(b.literal):
                return False
        return True

    def shadows(self, later: PatternChain) -> bool:
        """Whether this chain matches every path ``later`` matches (False when unsure).

        Paths with a newline are left aside: ``.`` does not match one.
        """
        mine, theirs = self.shape, later.shape
        if not mine.infallible or mine.language_dependent:
            return False
        # Same tokens, and a template: the chain is the plain regex of its tokens.
        if mine.template is not None and (mine.tokens, mine.end, mine.newline_tolerant) == (
            theirs.tokens,
            theirs.end,
            theirs.newline_tolerant,
        ):
            return True
        if mine.covers is None or not theirs.prefix.startswith(mine.prefix):
            return False
        return len(theirs.prefix) - len(mine.prefix) >= mine.covers


def _combine(levels: Sequence[LevelShape], patterns: Sequence[object]) -> Shape:
    prefix = "/"
    covers = None
    for position, level in enumerate(levels):
        prefix += level.prefix
        if position == len(levels) - 1:
            covers = level.rest_anything
        plain = level.tokens is not None and all(isinstance(t, Literal) for t in level.tokens)
        if not plain or level.end:
            break
    language_dependent = any(level.language_dependent for level in levels)
    infallible = all(
        isinstance(converter, _INFALLIBLE_CONVERTERS)
        for pattern in patterns
        for converter in getattr(pattern, "converters", {}).values()
    )

    end = levels[-1].end if levels else False
    tokens: list[Token] = []
    for position, level in enumerate(levels):
        reason = level.reason
        if level.tokens is not None and level.end and position < len(levels) - 1:
            reason = "include() pattern ending with '$'"
        if level.tokens is None or reason is not None:
            return Shape(
                prefix,
                None,
                end,
                None,
                None,
                reason,
                None,
                infallible,
                language_dependent,
                covers,
                None,
            )
        for token in level.tokens:
            if tokens and isinstance(token, Literal) and isinstance(tokens[-1], Literal):
                tokens[-1] = Literal(tokens[-1].text + token.text)
            else:
                tokens.append(token)

    template, formatter, reason = _template(tokens, end)
    if template is not None and not all(_ends_at_slash(level) for level in levels[:-1]):
        # Django keeps an include()'s first match; one aiohttp regex for the whole chain
        # could move the boundary between the levels to find a match Django would not.
        template = formatter = None
        reason = "include() prefix that does not end with '/' after one-segment groups"
    tolerant = levels[-1].newline_tolerant
    segments = _segments(tokens) if end and not tolerant else None
    names = [token.name for token in tokens if isinstance(token, Group)]
    regex = None
    if len(set(names)) == len(names) and all(level.body is not None for level in levels):
        # Atomic groups: like Django's resolver, an include() level keeps its first match.
        parts = [f"(?>{level.body})" for level in levels[:-1]]
        last = levels[-1].body
        assert last is not None
        parts.append(f"(?:{last})\n?" if tolerant else last if end else f"(?:{last})(?s:.*)")
        regex = _compilable("/" + "".join(parts))
    return Shape(
        prefix,
        tuple(tokens),
        end,
        template,
        formatter,
        reason,
        segments,
        infallible,
        language_dependent,
        covers,
        regex,
        tolerant,
    )


def _ends_at_slash(level: LevelShape) -> bool:
    """Whether the level's match must end right after its last ``/``: its groups stay within
    one segment and it ends with a literal ``/``."""
    tokens = level.tokens or ()
    return (
        bool(tokens)
        and isinstance(tokens[-1], Literal)
        and tokens[-1].text.endswith("/")
        and all(token.slash_free for token in tokens if isinstance(token, Group))
    )


def _template(tokens: Sequence[Token], end: bool) -> tuple[str | None, str | None, str | None]:
    """The aiohttp route template and URL formatter of a chain, or why there is none."""
    if not end:
        return None, None, "no '$' at the end: Django matches every path that starts with it"
    template = formatter = "/"
    names: set[str] = set()
    for token in tokens:
        if isinstance(token, Literal):
            if "{" in token.text or "}" in token.text:
                return None, None, "literal '{' or '}'"
            template += token.text
            formatter += token.text
            continue
        if token.name in names:
            return None, None, f"group name {token.name!r} used twice"
        names.add(token.name)
        part = f"{{{token.name}:{token.regex}}}"
        if not token.name.isascii() or not _AIOHTTP_PART.fullmatch(part):
            return None, None, f"group {token.name!r} cannot be written as an aiohttp route part"
        template += part
        formatter += f"{{{token.name}}}"
    return template, formatter, None


def _segments(tokens: Sequence[Token]) -> tuple[_Segment, ...] | None:
    """The chain cut at its slashes, if none of its groups can match one."""
    if not all(token.slash_free for token in tokens if isinstance(token, Group)):
        return None
    texts: list[str] = [""]
    regexes: list[str] = [""]
    dynamic: list[bool] = [False]
    for token in tokens:
        if isinstance(token, Group):
            regexes[-1] += f"(?:{token.regex})"
            dynamic[-1] = True
            continue
        for number, piece in enumerate(token.text.split("/")):
            if number:
                texts.append("")
                regexes.append("")
                dynamic.append(False)
            texts[-1] += piece
            regexes[-1] += re.escape(piece)
    try:
        return tuple(
            _Segment(None if group else text, re.compile(regex))
            for text, regex, group in zip(texts, regexes, dynamic, strict=True)
        )
    except re.error:  # a group's regex that only makes sense in its whole pattern
        return None


def _compilable(regex: str) -> str | None:
    try:
        re.compile(regex)
    except re.error:
        return None
    return regex
