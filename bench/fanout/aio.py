"""``gunicorn bench.fanout.aio:app --worker-class aiohttp.worker.GunicornWebWorker``."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.fanout.settings")

import django

django.setup()

from aiodjango import get_aio_application  # noqa: E402

app = get_aio_application()
