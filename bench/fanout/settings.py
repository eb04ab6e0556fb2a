"""Settings of the fan-out benchmark's project: no database, one channel layer on Redis."""

import os

SECRET_KEY = "benchmark-only-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1"]
ROOT_URLCONF = "bench.fanout.urls"
USE_TZ = True
INSTALLED_APPS = ["aiodjango", "django.contrib.auth", "django.contrib.contenttypes"]
MIDDLEWARE: list[str] = []
DATABASES: dict[str, dict[str, str]] = {}
SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
        "CONFIG": {"hosts": [os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")]},
    }
}
