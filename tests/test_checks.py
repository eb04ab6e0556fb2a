"""aiodjango's system checks, run as ``manage.py check`` runs them."""

from __future__ import annotations

from django.core import checks
from django.test import override_settings

from aiodjango.checks import check_lifted_views

APPS_WITHOUT_AIODJANGO_FIRST = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.staticfiles",
    "aiodjango",
]


def messages_with_id(prefix: str) -> list[checks.CheckMessage]:
    return [message for message in checks.run_checks() if (message.id or "").startswith(prefix)]


def test_no_warning_when_aiodjango_comes_first() -> None:
    assert messages_with_id("aiodjango.W001") == []


@override_settings(INSTALLED_APPS=APPS_WITHOUT_AIODJANGO_FIRST)
def test_warns_when_staticfiles_comes_first() -> None:
    (warning,) = messages_with_id("aiodjango.W001")
    assert warning.level == checks.WARNING
    assert "django.contrib.staticfiles" in warning.msg
    assert "Move 'aiodjango' above" in (warning.hint or "")


@override_settings(
    INSTALLED_APPS=[
        "aiodjango.apps.AiodjangoConfig",
        "django.contrib.auth",
        "django.contrib.contenttypes",
        "django.contrib.staticfiles",
    ]
)
def test_app_config_paths_count_as_the_app() -> None:
    assert messages_with_id("aiodjango.W001") == []


@override_settings(
    INSTALLED_APPS=["aiodjango", "django.contrib.auth", "django.contrib.contenttypes"]
)
def test_no_warning_without_staticfiles() -> None:
    assert messages_with_id("aiodjango.W001") == []


@override_settings(ROOT_URLCONF="tests.check_urls")
def test_a_lifted_view_that_cannot_take_its_options_is_an_error() -> None:
    (error,) = messages_with_id("aiodjango.E001")
    assert error.level == checks.ERROR
    assert "'options/' [name='with-options']" in error.msg
    assert error.obj.__name__ == "request_only"


@override_settings(ROOT_URLCONF="tests.check_urls")
def test_a_shadowed_lifted_view_is_a_warning() -> None:
    (warning,) = messages_with_id("aiodjango.W002")
    assert warning.level == checks.WARNING
    assert "'hidden/' [name='hidden']" in warning.msg
    assert "unreachable" in warning.msg
    assert "^.*$" in warning.msg


def test_the_test_urlconf_has_nothing_to_report() -> None:
    assert messages_with_id("aiodjango.E") == []
    assert messages_with_id("aiodjango.W002") == []


@override_settings(ROOT_URLCONF="tests.no_such_urls")
def test_a_urlconf_that_does_not_import_is_left_to_django() -> None:
    assert check_lifted_views(app_configs=None, databases=None) == []
