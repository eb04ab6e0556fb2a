"""System checks (``manage.py check``) for projects that use aiodjango."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.apps import AppConfig, apps
from django.core.checks import CheckMessage, Error, Tags, Warning, register
from django.core.exceptions import ImproperlyConfigured

from .lifted import checks as lifted_checks  # noqa: F401  (registers the middleware checks)
from .routing import find_lifted_patterns


@register()
def check_app_order(
    *, app_configs: Sequence[AppConfig] | None, databases: Sequence[str] | None, **kwargs: Any
) -> list[CheckMessage]:
    """aiodjango must come before staticfiles, whose runserver would otherwise win."""
    # The app registry keeps INSTALLED_APPS' order, whatever form the entries take.
    names = [config.name for config in apps.get_app_configs()]
    if "django.contrib.staticfiles" not in names:
        return []
    if names.index("aiodjango") < names.index("django.contrib.staticfiles"):
        return []
    return [
        Warning(
            "'aiodjango' is listed after 'django.contrib.staticfiles' in INSTALLED_APPS, "
            "so 'manage.py runserver' is staticfiles' and not aiodjango's.",
            hint="Move 'aiodjango' above 'django.contrib.staticfiles' in INSTALLED_APPS.",
            id="aiodjango.W001",
        )
    ]


@register(Tags.urls)
def check_lifted_views(
    *, app_configs: Sequence[AppConfig] | None, databases: Sequence[str] | None, **kwargs: Any
) -> list[CheckMessage]:
    """Coroutine views that cannot be served as their pattern asks, or that Django never picks."""
    try:
        patterns = find_lifted_patterns()
    except (ImportError, ImproperlyConfigured):
        # A URLconf that does not load is reported by Django's own URL checks.
        return []
    messages: list[CheckMessage] = []
    for pattern in patterns:
        if pattern.error is not None:
            messages.append(
                Error(
                    f"The coroutine view for {pattern.description} cannot be lifted: "
                    f"{pattern.error}",
                    obj=pattern.view,
                    id="aiodjango.E001",
                )
            )
        if pattern.shadowed_by is not None:
            messages.append(
                Warning(
                    f"The coroutine view for {pattern.description} is unreachable: the earlier "
                    f"pattern {pattern.shadowed_by} matches every URL it matches.",
                    hint="Move the pattern above the one that shadows it, or remove it.",
                    obj=pattern.view,
                    id="aiodjango.W002",
                )
            )
    return messages
