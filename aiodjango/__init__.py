"""aiodjango: run a Django project on aiohttp, sync and async views on one port."""

from .wsgi import DEFAULT_THREADS, WSGIHandler, add_wsgi_route

__all__ = ["DEFAULT_THREADS", "WSGIHandler", "add_wsgi_route"]

__version__ = "0.1.0.dev0"
