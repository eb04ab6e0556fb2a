"""The Django app configuration: the system checks, the connection watcher, the groups' signals."""

from django.apps import AppConfig


class AiodjangoConfig(AppConfig):
    """``"aiodjango"`` in ``INSTALLED_APPS``: the runserver override and the system checks."""

    name = "aiodjango"
    verbose_name = "aiodjango"

    def ready(self) -> None:
        # Importing registers the checks. Database connections are watched from the first one
        # opened, so that lifted views' connections are looked after.
        from django.core.signals import request_started

        from . import checks  # noqa: F401
        from .groups.identity import connect_signals
        from .groups.sending import use_serving_loop
        from .lifted.db import watch_connections
        from .lifted.middleware import watch_settings

        watch_connections()
        watch_settings()
        # Sockets close when their login ends; Django views' async_to_sync runs on the loop
        # that serves the group members (see aiodjango.groups).
        connect_signals()
        request_started.connect(use_serving_loop, dispatch_uid="aiodjango.groups")
