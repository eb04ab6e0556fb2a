"""Settings of the reliability project: the test settings, with a database of its own."""

from tests.settings import *  # noqa: F403

ROOT_URLCONF = "tests.reliability.project.urls"
WSGI_APPLICATION = "tests.reliability.project.wsgi.application"
DEBUG = False
# The servers started by these tests never touch the suite's database file.
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
