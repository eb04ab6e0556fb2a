"""The project's WSGI application, and ``app``: the same project on aiohttp through aiodjango.

``AIODJANGO_BENCH_THREADS`` sets the size of aiodjango's worker thread pool, so that it matches
the thread count given to the other servers.
"""

import os

from django.core.wsgi import get_wsgi_application

from aiodjango import get_aio_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.site.settings")

application = get_wsgi_application()
app = get_aio_application(application, threads=int(os.environ.get("AIODJANGO_BENCH_THREADS", "4")))
