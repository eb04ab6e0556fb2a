"""System checks (``manage.py check``) for projects that use aiodjango."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.apps import AppConfig, apps
from django.core.checks import CheckMessage, Warning, register


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
