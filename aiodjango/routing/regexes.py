"""What one Django URL pattern's regular expression is made of, read with Python's parser.

Each level of a URLconf entry (an ``include()`` prefix or the final ``path()``/``re_path()``)
is parsed once at startup with ``re._parser``, the parser the ``re`` module itself uses (see
``aiodjango._compat``). The
result, a :class:`LevelShape`, says which literal text the level starts with, whether it is
nothing but literal text and named groups (and which), whether it must reach the end of the
path, and whether it can join other levels in a single regex. Whatever the analysis cannot
vouch for is left out, so the answers are conservative.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

from django.urls.resolvers import LocalePrefixPattern, RegexPattern, RoutePattern

from .._compat import check_django, is_endpoint, pattern_text
from .._compat import regex_constants as _constants
from .._compat import regex_parser as _parser

check_django()

_NAMED_GROUP_OPENING = re.compile(r"\(\?P<(\w+)>")


@dataclass(frozen=True)
class Literal:
    """Fixed text of a pattern, unescaped (``a\\-b`` is ``a-b``)."""

    text: str


@dataclass(frozen=True)
class Group:
    """A named group: ``(?P<name>regex)``, or a ``path()`` converter."""

    name: str
    regex: str
    #: The group can never match a ``/``, so it stays within one path segment.
    slash_free: bool


Token: TypeAlias = Literal | Group


@dataclass(frozen=True)
class LevelShape:
    """One level of a URLconf entry, as far as its regex tells."""

    #: Literal text every match of the level starts with.
    prefix: str
    #: The level as literal text and named groups, if that is all it is; else None.
    tokens: tuple[Token, ...] | None
    #: The level must match up to the end of the path.
    end: bool
    #: Why ``tokens`` is None.
    reason: str | None
    #: The level matches differently in each language (i18n prefixes, translated routes).
    language_dependent: bool = False
    #: After ``prefix`` the level takes any text of at least this many characters (``.*``,
    #: ``.+``, a ``path`` converter, or no end anchor), newlines aside.
    rest_anything: int | None = None
    #: The regex without its anchors, when it can be part of one regex for the whole chain:
    #: nothing in it looks at the text before it (lookbehinds, ``^``, ``\b``, references).
    body: str | None = None
    #: The end is a ``$`` that Django searches with: a final newline may follow the match.
    newline_tolerant: bool = False


def analyse_level(pattern: object) -> LevelShape:
    """Read one pattern object: a RoutePattern, RegexPattern, LocalePrefixPattern or other."""
    if isinstance(pattern, RoutePattern):
        if pattern_text(pattern) is None:
            return LevelShape("", None, False, "translated route", language_dependent=True)
        return _analyse_regex(pattern.regex.pattern, fullmatch=False)
    if isinstance(pattern, RegexPattern):
        text = pattern_text(pattern)
        if text is None:
            return LevelShape("", None, False, "translated regex", language_dependent=True)
        # Django's own rule: an endpoint regex ending with "$" must match the whole path.
        fullmatch = is_endpoint(pattern) and text.endswith("$")
        return _analyse_regex(text, fullmatch=fullmatch)
    if isinstance(pattern, LocalePrefixPattern):
        return LevelShape("", None, False, "language prefix", language_dependent=True)
    return LevelShape("", None, False, f"{type(pattern).__name__} pattern")


def _analyse_regex(text: str, *, fullmatch: bool) -> LevelShape:
    try:
        parsed = _parser.parse(text)
    except re.error as error:
        return LevelShape("", None, False, f"regex error: {error}")
    if parsed.state.flags & ~_constants.SRE_FLAG_UNICODE:
        return LevelShape("", None, False, "inline flags such as (?i)")
    items = _items(parsed)
    if not items or items[0] not in (
        (_constants.AT, _constants.AT_BEGINNING),
        (_constants.AT, _constants.AT_BEGINNING_STRING),
    ):
        return LevelShape("", None, False, "no '^': Django looks for it anywhere in the path")
    items = items[1:]
    end = fullmatch
    end_anchor = None
    if items and items[-1] in (
        (_constants.AT, _constants.AT_END),
        (_constants.AT, _constants.AT_END_STRING),
    ):
        end_anchor = items.pop()[1]
        end = True
    # Without fullmatch, "$" also matches before a newline that ends the path.
    newline_tolerant = not fullmatch and end_anchor is _constants.AT_END

    group_names = {index: name for name, index in parsed.state.groupdict.items()}
    sources: dict[str, str] | None = None
    tokens: list[Token] = []
    literal: list[str] = []
    prefix: str | None = None
    reason: str | None = None
    for op, av in items:
        if op is _constants.LITERAL:
            literal.append(chr(av))
            continue
        if prefix is None:
            prefix = "".join(literal)
        if op is _constants.SUBPATTERN:
            if sources is None:
                sources = _named_group_sources(text)
            group = _named_group(av, group_names, sources)
            if isinstance(group, str):
                reason = group
                break
            if literal:
                tokens.append(Literal("".join(literal)))
                literal = []
            tokens.append(group)
            continue
        reason = _OBSTACLES.get(op, f"regex construct {op}")
        break
    else:
        if literal:
            tokens.append(Literal("".join(literal)))
    if prefix is None:
        prefix = "".join(literal)
    rest = items[len(prefix) :]  # one LITERAL item per character of the prefix
    rest_anything = _rest_anything(rest, end)
    if reason is not None:
        return LevelShape(
            prefix,
            None,
            end,
            reason,
            rest_anything=rest_anything,
            newline_tolerant=newline_tolerant,
        )
    body = None if _looks_behind(items) else _body(text, len(items), end_anchor)
    return LevelShape(
        prefix,
        tuple(tokens),
        end,
        None,
        rest_anything=rest_anything,
        body=body,
        newline_tolerant=newline_tolerant,
    )


def _body(text: str, length: int, end_anchor: object) -> str | None:
    """The regex ``text`` without its start and end anchors, if they can be cut off as text.

    The parser also reads anchors inside non-capturing groups (``(?:^)``) and around
    comments; then the text is left alone. ``length`` is the number of parsed items the
    result must have.
    """
    if "(?#" in text:
        return None
    for anchor in ("^", "\\A"):
        if text.startswith(anchor):
            body = text[len(anchor) :]
            break
    else:
        return None
    if end_anchor is not None:
        anchor = "$" if end_anchor is _constants.AT_END else "\\Z"
        if not body.endswith(anchor):
            return None
        body = body[: -len(anchor)]
    try:
        parsed = _parser.parse(body)
    except re.error:
        return None
    return body if len(_items(parsed)) == length else None


def _looks_behind(items: Sequence[tuple[Any, Any]]) -> bool:
    """Whether a parsed regex depends on text before where it starts matching."""
    for op, av in items:
        if op is _constants.AT:
            depends = av not in (_constants.AT_END, _constants.AT_END_STRING)
        elif op in (_constants.GROUPREF, _constants.GROUPREF_EXISTS):
            depends = True  # group numbers change once the levels are joined
        elif op in (_constants.ASSERT, _constants.ASSERT_NOT) and av[0] < 0:
            depends = True
        else:
            depends = any(_looks_behind(_items(child)) for child in _children(op, av))
        if depends:
            return True
    return False


def _children(op: Any, av: Any) -> list[_parser.SubPattern]:
    """The parsed regexes nested in one item of a parsed regex."""
    if op in (_constants.MAX_REPEAT, _constants.MIN_REPEAT, _constants.POSSESSIVE_REPEAT):
        return [av[2]]
    if op is _constants.SUBPATTERN:
        return [av[3]]
    if op in (_constants.ASSERT, _constants.ASSERT_NOT):
        return [av[1]]
    if op is _constants.ATOMIC_GROUP:
        return [av]
    if op is _constants.BRANCH:
        return list(av[1])
    return []


def _rest_anything(rest: list[tuple[Any, Any]], end: bool) -> int | None:
    """The least length of text ``rest`` requires, if it takes any text at all."""
    if not rest:
        return None if end else 0
    if len(rest) != 1:
        return None
    op, av = rest[0]
    if op is _constants.SUBPATTERN and not av[1] and not av[2]:
        return _rest_anything(_items(av[3]), end=True)
    if op in (_constants.MAX_REPEAT, _constants.POSSESSIVE_REPEAT):
        low, high, inner = av
        if high is _constants.MAXREPEAT and low <= 1 and _items(inner) == [(_constants.ANY, None)]:
            return int(low)
    return None


_OBSTACLES = {
    _constants.BRANCH: "alternation '|'",
    _constants.IN: "character set outside a named group",
    _constants.ANY: "'.' outside a named group",
    _constants.NOT_LITERAL: "character set outside a named group",
    _constants.MAX_REPEAT: "optional or repeated part outside a named group",
    _constants.MIN_REPEAT: "optional or repeated part outside a named group",
    _constants.POSSESSIVE_REPEAT: "optional or repeated part outside a named group",
    _constants.ATOMIC_GROUP: "atomic group",
    _constants.ASSERT: "lookahead or lookbehind",
    _constants.ASSERT_NOT: "lookahead or lookbehind",
    _constants.AT: "anchor inside the pattern",
    _constants.GROUPREF: "back-reference",
    _constants.GROUPREF_EXISTS: "conditional group",
}


def _named_group_sources(text: str) -> dict[str, str]:
    """The source text of each named group's body, found by scanning the regex's brackets."""
    sources: dict[str, str] = {}
    opened: list[tuple[str | None, int]] = []
    position, length = 0, len(text)
    while position < length:
        char = text[position]
        if char == "\\":
            position += 2
            continue
        if char == "[":
            # A "]" right after "[" or "[^" is a literal member of the set.
            position += 1
            if text.startswith("^", position):
                position += 1
            if text.startswith("]", position):
                position += 1
            while position < length and text[position] != "]":
                position += 2 if text[position] == "\\" else 1
        elif text.startswith("(?#", position):
            position = text.find(")", position)
            if position < 0:
                break
        elif char == "(":
            opening = _NAMED_GROUP_OPENING.match(text, position)
            if opening is not None:
                opened.append((opening.group(1), opening.end()))
                position = opening.end()
                continue
            opened.append((None, position + 1))
        elif char == ")" and opened:
            name, start = opened.pop()
            if name is not None:
                sources[name] = text[start:position]
        position += 1
    return sources


def _named_group(av: Any, names: dict[int, str], sources: dict[str, str]) -> Group | str:
    """The Group for a parsed ``(?P<name>...)``, or why this group is not one."""
    index, add_flags, del_flags, body = av
    if index is None:
        return "non-capturing group"
    name = names.get(index)
    if name is None:
        return "positional (unnamed) group"
    if add_flags or del_flags:
        return "inline flags"
    source = sources.get(name)
    try:
        nested = source is None or bool(re.compile(source).groupindex)
    except re.error:  # a back-reference to a group outside it
        return "back-reference"
    if nested or source is None:
        return "named group inside a named group"
    return Group(name, source, slash_free=not _may_consume_slash(body))


_SLASH = ord("/")
_CATEGORIES_WITH_SLASH = {
    _constants.CATEGORY_NOT_DIGIT,
    _constants.CATEGORY_NOT_SPACE,
    _constants.CATEGORY_NOT_WORD,
    _constants.CATEGORY_NOT_LINEBREAK,
}


def _items(parsed: _parser.SubPattern) -> list[tuple[Any, Any]]:
    """The top-level (opcode, argument) pairs of a parsed regex."""
    return list(parsed.data)


def _may_consume_slash(body: _parser.SubPattern) -> bool:
    """Whether a parsed regex could consume a ``/`` (True when unsure)."""
    for op, av in _items(body):
        if op is _constants.LITERAL:
            consumes = av == _SLASH
        elif op is _constants.NOT_LITERAL or op is _constants.ANY:
            consumes = av != _SLASH
        elif op is _constants.IN:
            consumes = _set_contains_slash(av)
        elif op in (_constants.AT, _constants.ASSERT, _constants.ASSERT_NOT):
            consumes = False  # anchors and lookarounds consume nothing
        elif op is _constants.SUBPATTERN and (av[1] or av[2]):
            consumes = True  # scoped flags: not worth reading
        elif children := _children(op, av):
            consumes = any(_may_consume_slash(child) for child in children)
        else:
            consumes = True  # back-references, and anything unknown
        if consumes:
            return True
    return False


def _set_contains_slash(members: Sequence[tuple[Any, Any]]) -> bool:
    negate = hit = False
    for op, av in members:
        if op is _constants.NEGATE:
            negate = True
        elif op is _constants.LITERAL:
            hit = hit or av == _SLASH
        elif op is _constants.RANGE:
            hit = hit or av[0] <= _SLASH <= av[1]
        elif op is _constants.CATEGORY:
            hit = hit or av in _CATEGORIES_WITH_SLASH
        else:
            return True
    return hit != negate
