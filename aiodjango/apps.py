"""The Django app configuration: registers the system checks and the connection watcher."""

from django.apps import AppConfig


class AiodjangoConfig(AppConfig):
    """``"aiodjango"`` in ``INSTALLED_APPS``: the runserver override and the system checks."""

    name = "aiodjango"
    verbose_name = "aiodjango"

    def ready(self) -> None:
        # Importing registers the checks. Database connections are watched from the first one
        # opened, so that lifted views' connections are looked after.
        from . import checks  # noqa: F401
        from .lifted.db import watch_connections
        from .lifted.middleware import watch_settings

        watch_connections()
        watch_settings()
