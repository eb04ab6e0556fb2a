"""The same project without aiodjango: Django's own runserver serves it, the reference."""

from .settings import *  # noqa: F403
from .settings import INSTALLED_APPS

INSTALLED_APPS = [app for app in INSTALLED_APPS if app != "aiodjango"]
