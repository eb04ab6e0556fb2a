"""A project shaped like a real one, with aiodjango installed: its async views are unannotated."""

import os
from pathlib import Path

from tests.settings import *  # noqa: F403
from tests.settings import MIDDLEWARE

HERE = Path(__file__).resolve().parent

ROOT_URLCONF = "tests.django_async.project.urls"
WSGI_APPLICATION = "tests.django_async.project.wsgi.application"
MIDDLEWARE = [*MIDDLEWARE, "tests.django_async.project.middleware.Stamp"]
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [HERE / "templates"],
        "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
    }
]
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("ASYNC_PROJECT_DB", ":memory:"),
    }
}
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"aiodjango": {"handlers": ["console"], "level": "INFO"}},
}
