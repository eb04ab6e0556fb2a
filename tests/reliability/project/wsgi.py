"""The reliability project's applications: Django's WSGI one, and the aiohttp one around it."""

import os

from aiohttp import web
from django.core.wsgi import get_wsgi_application

from aiodjango import get_aio_application

from .environment import adapter_options, record_finish

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.reliability.project.settings")


async def _record_cleanup(app: web.Application) -> None:
    record_finish()


application = get_wsgi_application()
app = get_aio_application(application, **adapter_options())
app.on_cleanup.append(_record_cleanup)
