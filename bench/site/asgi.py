"""The project under Django's own ASGI handler (served by uvicorn in the benchmarks)."""

import gc
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.site.settings")

application = get_asgi_application()
gc.freeze()  # as in wsgi.py: the deployment guide's advice, for every server
