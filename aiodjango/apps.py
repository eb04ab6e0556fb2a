"""The Django app configuration: registers aiodjango's system checks."""

from django.apps import AppConfig


class AiodjangoConfig(AppConfig):
    """``"aiodjango"`` in ``INSTALLED_APPS``: the runserver override and the system checks."""

    name = "aiodjango"
    verbose_name = "aiodjango"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (importing registers the checks)
