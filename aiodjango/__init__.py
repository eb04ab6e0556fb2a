"""aiodjango: run a Django project on aiohttp, sync and async views on one port.

Everything a project uses is importable from here. Names are loaded on first use, so that
``import aiodjango.wsgi`` (or the ``aiodjango-serve`` command serving a Flask app) imports no
Django module. Each name lives in the part of its concept: :mod:`aiodjango.wsgi` (the WSGI
adapter), :mod:`aiodjango.server` (serving), :mod:`aiodjango.routing` (the URLconf as aiohttp
routes), :mod:`aiodjango.lifted` (what lifted views get in place of middleware) and
:mod:`aiodjango.application` (putting it together).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .application import get_aio_application
    from .lifted import (
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

__version__ = "0.1.0.dev0"

# Public name -> the module that defines it.
_EXPORTS = {
    "DEFAULT_THREADS": "aiodjango.wsgi",
    "Server": "aiodjango.server",
    "WSGIHandler": "aiodjango.wsgi",
    "add_wsgi_route": "aiodjango.wsgi",
    "aiohttp_view": "aiodjango.routing",
    "allow_any_origin": "aiodjango.lifted",
    "configure_server": "aiodjango.server",
    "csrf_protect": "aiodjango.lifted",
    "django_view": "aiodjango.routing",
    "get_aio_application": "aiodjango.application",
    "get_session": "aiodjango.lifted",
    "get_user": "aiodjango.lifted",
    "login_required": "aiodjango.lifted",
    "permission_required": "aiodjango.lifted",
    "save_session": "aiodjango.lifted",
    "serve": "aiodjango.server",
}

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
assert sorted(__all__) == sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'aiodjango' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
