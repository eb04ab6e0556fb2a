"""Settings of the benchmark project.

The harness chooses a few things through the environment, so that every server runs the
same project: ``AIODJANGO_BENCH_STACK`` (``bare``: no middleware, ``full``: the middleware of
``startproject``), ``AIODJANGO_BENCH_DB`` (the SQLite file, migrated by the harness) and
``AIODJANGO_BENCH_FILE`` (the file that the FileResponse scenario sends).
"""

import os

STACK = os.environ.get("AIODJANGO_BENCH_STACK", "bare")
if STACK not in ("bare", "full"):
    raise ValueError(f"AIODJANGO_BENCH_STACK must be 'bare' or 'full', got {STACK!r}")

SECRET_KEY = "benchmark-only-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = "bench.site.urls"
WSGI_APPLICATION = "bench.site.wsgi.application"
USE_TZ = True

INSTALLED_APPS = [
    "aiodjango",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
]

# What ``django-admin startproject`` puts in a new project.
MIDDLEWARE = (
    [
        "django.middleware.security.SecurityMiddleware",
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.middleware.common.CommonMiddleware",
        "django.middleware.csrf.CsrfViewMiddleware",
        "django.contrib.auth.middleware.AuthenticationMiddleware",
        "django.contrib.messages.middleware.MessageMiddleware",
        "django.middleware.clickjacking.XFrameOptionsMiddleware",
    ]
    if STACK == "full"
    else []
)

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("AIODJANGO_BENCH_DB", ":memory:"),
        # Persistent connections, as production sites configure them: the page's one query
        # is measured, not opening SQLite on every request.
        "CONN_MAX_AGE": 600,
    }
}

BENCH_FILE = os.environ.get("AIODJANGO_BENCH_FILE", "")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
