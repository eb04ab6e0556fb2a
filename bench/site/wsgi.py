"""The project's WSGI application, and ``app``: the same project on aiohttp through aiodjango.

``AIODJANGO_BENCH_THREADS`` sets the size of aiodjango's worker thread pool, so that it matches
the thread count given to the other servers. ``threaded_app`` serves every Django view, async
ones included, through the WSGI adapter in worker threads: the way async views went before
they were served on the loop, kept for comparison.

Every server imports this module (or ``asgi``, or ``raw``) in its worker process, which then
calls ``gc.freeze()`` as the deployment guide recommends: what loading created is never walked
by the collector again.
"""

import gc
import os

from aiohttp import web
from django.core.wsgi import get_wsgi_application

from aiodjango import WSGIHandler, add_wsgi_route, get_aio_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.site.settings")

application = get_wsgi_application()
THREADS = int(os.environ.get("AIODJANGO_BENCH_THREADS", "4"))
app = get_aio_application(application, threads=THREADS)

threaded_app = web.Application()
add_wsgi_route(threaded_app.router, WSGIHandler(application, threads=THREADS))

gc.freeze()  # last: everything loaded above is out of the collector's sight
