"""Lifted views under ``i18n_patterns()``, matched in the language of the URL's prefix."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import translation

from aiodjango.routing import find_lifted_patterns
from tests.support.routes import django_answer
from tests.support.servers import MakeClient


@pytest.fixture
def i18n_settings(settings: Any) -> Any:
    settings.USE_I18N = True
    settings.LANGUAGE_CODE = "en"
    settings.LANGUAGES = [("en", "English"), ("fr", "French")]
    settings.MIDDLEWARE = [
        *settings.MIDDLEWARE[:2],
        "django.middleware.locale.LocaleMiddleware",
        *settings.MIDDLEWARE[2:],
    ]
    return settings


def answer_with_locale_middleware(path: str, urlconf: str) -> tuple[str, bool]:
    """resolve() in the language LocaleMiddleware activates for ``path``."""
    with translation.override(translation.get_language_from_path(path)):
        return django_answer(path, urlconf)


@pytest.mark.parametrize(
    ("urlconf", "paths"),
    [
        (
            "tests.routing.urls_i18n",
            ["/en/about/", "/fr/about/", "/de/about/", "/about/", "/en/sync-about/",
             "/fr/translated/", "/en/translated/", "/plain/", "/fr/plain/", "/fr/", "/en-gb/about/"],
        ),
        (
            "tests.routing.urls_i18n_unprefixed",
            ["/about/", "/fr/about/", "/en/about/", "/de/about/"],
        ),
    ],
)  # fmt: skip
async def test_language_prefixes_route_like_django(
    i18n_settings: Any, serve_urlconf: MakeClient, urlconf: str, paths: list[str]
) -> None:
    client = await serve_urlconf(urlconf)
    lifted = 0
    for path in paths:
        response = await client.get(path)
        body = await response.text()
        expected, prefix_only = answer_with_locale_middleware(path, urlconf)
        assert body.startswith(expected) if prefix_only else body == expected, path
        lifted += expected != "fallback"
    assert 0 < lifted < len(paths)


def test_language_dependent_patterns_have_no_template(i18n_settings: Any) -> None:
    patterns = find_lifted_patterns("tests.routing.urls_i18n")
    reasons = {pattern.route: pattern.reason for pattern in patterns}
    assert reasons["plain/"] is None
    assert reasons["en/about/"] == "language prefix"
    assert reasons["en/translated/"] == "language prefix"
