"""System checks (``manage.py check``) for projects that use aiodjango."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.apps import AppConfig, apps
from django.core.checks import CheckMessage, Error, Tags, Warning, register
from django.core.exceptions import ImproperlyConfigured

from .lifted import checks as lifted_checks  # noqa: F401  (registers the middleware checks)
from .routing import find_lifted_patterns, find_view_patterns
from .routing.kinds import view_label


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


@register(Tags.urls)
def check_undecided_views(
    *, app_configs: Sequence[AppConfig] | None, databases: Sequence[str] | None, **kwargs: Any
) -> list[CheckMessage]:
    """Coroutine views whose kind nothing tells: lifted by default, which may be wrong."""
    try:
        patterns = find_view_patterns()
    except (ImportError, ImproperlyConfigured):
        return []
    return [
        Warning(
            f"Nothing tells whether the coroutine view {view_label(pattern.view)} for "
            f"{pattern.description} is an aiohttp view or a Django view: it is lifted and "
            "gets an aiohttp request.",
            hint=(
                "For aiohttp, mark it @aiodjango.aiohttp_view or annotate its request as "
                "aiohttp.web.Request; for Django, mark it @aiodjango.django_view or annotate "
                "its request as django.http.HttpRequest."
            ),
            obj=pattern.view,
            id="aiodjango.W003",
        )
        for pattern in patterns
        if pattern.decision.undecided
    ]


@register()
def check_channel_layer_workers(
    *, app_configs: Sequence[AppConfig] | None, databases: Sequence[str] | None, **kwargs: Any
) -> list[CheckMessage]:
    """The in-memory channel layer while several worker processes are asked for."""
    from .groups.workers import in_memory_layer_with_workers

    found = in_memory_layer_with_workers()
    if found is None:
        return []
    place, count = found
    return [
        Warning(
            f"{place} asks for {count} worker processes, but the channel layer is in-memory: "
            "group messages (aiodjango.groups, Channels' group_send) reach only the sockets "
            "of the process that sends them.",
            hint="Set CHANNEL_LAYERS to a Redis layer (channels_redis) shared by all workers.",
            id="aiodjango.W020",
        )
    ]
