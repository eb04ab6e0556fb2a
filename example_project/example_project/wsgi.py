"""The example project's entry points.

``application`` is the plain Django WSGI application (``WSGI_APPLICATION`` names it);
``app`` is the aiohttp application that serves it together with the lifted
coroutine views. Run ``app`` with ``manage.py runserver`` in development and with
``gunicorn example_project.wsgi:app --worker-class aiohttp.worker.GunicornWebWorker``
in production (after ``manage.py collectstatic``: with ``EXAMPLE_SERVE_STATIC=1`` the
application serves ``STATIC_ROOT`` itself, as when no front server does).
"""

import gc
import os

from django.core.wsgi import get_wsgi_application

from aiodjango import get_aio_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "example_project.settings")

application = get_wsgi_application()
app = get_aio_application(application, include_static=os.environ.get("EXAMPLE_SERVE_STATIC") == "1")
# What loading created lives as long as the process: keep the garbage collector's full passes
# off it, so that many websockets opening at once cause no long pause (see the deployment guide).
gc.freeze()
