"""aiodjango: run a Django project on aiohttp, sync and async views on one port.

Everything a project uses is importable from here; each name lives in the module of
its concept (``wsgi``, ``server``, ``routing``, ``application``, ``auth``).
"""

from .application import get_aio_application
from .auth import (
    allow_any_origin,
    csrf_protect,
    get_session,
    get_user,
    login_required,
    permission_required,
    save_session,
)
from .routing import aiohttp_view, django_view
from .server import Server, configure_server, serve
from .wsgi import DEFAULT_THREADS, WSGIHandler, add_wsgi_route

__all__ = [
    "DEFAULT_THREADS",
    "Server",
    "WSGIHandler",
    "add_wsgi_route",
    "aiohttp_view",
    "allow_any_origin",
    "configure_server",
    "csrf_protect",
    "django_view",
    "get_aio_application",
    "get_session",
    "get_user",
    "login_required",
    "permission_required",
    "save_session",
    "serve",
]

__version__ = "0.1.0.dev0"
