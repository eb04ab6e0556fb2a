"""A small Django project for tests that start real servers (runserver, gunicorn)."""

from tests.settings import *  # noqa: F403

ROOT_URLCONF = "tests.project.urls"
WSGI_APPLICATION = "tests.project.wsgi.application"
DEBUG = True
