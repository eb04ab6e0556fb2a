"""Django's matching rules outside Django: the one-regex shortcut changes nothing."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver
from hypothesis import given, settings
from hypothesis import strategies as st

from aiodjango.routing.matching import ChainMatcher
from aiodjango.routing.patterns import PatternChain
from tests.support.routes import NAMES, PATHS, RICH, paths

Chain = tuple[tuple[object, ...], tuple[Mapping[str, Any], ...]]


def chains(urlconf: str) -> Iterator[Chain]:
    def walk(patterns: Any, levels: tuple[object, ...], extras: tuple[Any, ...]) -> Iterator[Chain]:
        for item in patterns:
            if isinstance(item, URLResolver):
                yield from walk(
                    item.url_patterns, (*levels, item.pattern), (*extras, item.default_kwargs)
                )
            elif isinstance(item, URLPattern):
                yield (*levels, item.pattern), (*extras, item.default_args)

    yield from walk(get_resolver(urlconf).url_patterns, (), ())


def pairs() -> list[tuple[ChainMatcher, ChainMatcher]]:
    """For each chain with a one-regex shortcut: a matcher with it and one without."""
    found = []
    for urlconf in (RICH, NAMES):
        for levels, extras in chains(urlconf):
            chain = PatternChain(levels, extras, language_from_path=False)
            if chain.shape.regex is not None:
                found.append((chain.matcher, ChainMatcher(levels, extras)))
    return found


PAIRS = pairs()


def test_most_chains_get_the_shortcut() -> None:
    assert len(PAIRS) > 40


def test_the_shortcut_matches_what_django_rules_match() -> None:
    matched = 0
    for path in PATHS:
        for fast, slow in PAIRS:
            assert fast.match(path) == slow.match(path), path
            assert fast.matches(path) == (slow.match(path) is not None), path
            matched += fast.match(path) is not None
    assert matched > 40


@settings(max_examples=300, deadline=None, database=None)
@given(example=paths(), extra=st.sampled_from(["", "/", "x/", "%"]))
def test_the_shortcut_agrees_on_generated_paths(example: tuple[str, str], extra: str) -> None:
    path = example[0] + extra
    for fast, slow in PAIRS:
        assert fast.match(path) == slow.match(path), path
