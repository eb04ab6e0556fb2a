"""``get_aio_application``: one aiohttp application for a whole Django project.

It puts three things together, in the order a request meets them:

1. ``STATIC_URL`` served from ``STATIC_ROOT`` by aiohttp (only with ``include_static=True``);
2. the coroutine views of the URLconf, in Django's order (:mod:`aiodjango.routing`): aiohttp
   views lifted out of it, and Django's async views, served on the loop by Django's own
   async handler (:mod:`aiodjango.django_async`);
3. everything else, handed to the Django WSGI application through :class:`~aiodjango.wsgi.WSGIHandler`.

However it is run (``aiodjango-serve``, ``runserver``, gunicorn's aiohttp worker), a shutdown
closes its open websockets with code 1001 before waiting for the requests in flight.
"""

from __future__ import annotations

from importlib import import_module
from types import ModuleType
from typing import Any
from wsgiref.types import WSGIApplication

from aiohttp import web
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.wsgi import get_wsgi_application
from django.utils.module_loading import import_string

from .django_async import DjangoAsyncHandler
from .lifted.db import watch_connections
from .lifted.middleware import current_middleware, watch_settings
from .lifted.protection import protect_lifted_view
from .routing import add_lifted_routes
from .server.identity import DEFAULT_SERVER_HEADER, set_server_header
from .server.websockets import close_websockets_on_shutdown
from .sync_thread import serve_sync_calls
from .wsgi import WSGIHandler, add_wsgi_route
from .wsgi.environ import URL_SCHEME

#: The aiohttp app key under which the WSGI adapter of an application is kept.
WSGI_HANDLER_KEY = web.AppKey("aiodjango_wsgi_handler", WSGIHandler)


def get_aio_application(
    wsgi: WSGIApplication | None = None,
    *,
    urlconf: str | ModuleType | None = None,
    script_name: str | None = None,
    include_static: bool = False,
    server_header: str = DEFAULT_SERVER_HEADER,
    **handler_options: Any,
) -> web.Application:
    """Build the aiohttp ``Application`` that serves the Django project.

    ``wsgi`` is the project's WSGI application (default: ``get_wsgi_application()``),
    so WSGI middleware wrapped around it keeps working. ``urlconf`` overrides
    ``ROOT_URLCONF`` for finding coroutine views. ``script_name`` is the prefix the
    project is mounted under (default: ``FORCE_SCRIPT_NAME``); lifted views and the
    WSGI application share it. ``server_header`` is the ``Server`` header of every
    response of the process (no version numbers by default). ``handler_options`` go to
    :class:`~aiodjango.wsgi.WSGIHandler` (``threads``, ``max_request_body_size``, ...).
    """
    if wsgi is None:
        wsgi = get_wsgi_application()
    if script_name is None:
        script_name = (settings.FORCE_SCRIPT_NAME or "").rstrip("/")

    watch_connections()
    watch_settings()
    current_middleware()  # loaded now: a MIDDLEWARE entry that does not import fails at startup
    handler = WSGIHandler(wsgi, **handler_options)
    app = web.Application()
    app[WSGI_HANDLER_KEY] = handler
    set_server_header(server_header)
    url_scheme = handler_options.get("url_scheme")
    if url_scheme is not None:
        # The one scheme of every request, for lifted views as for the WSGI application.
        app[URL_SCHEME] = url_scheme

    if include_static:
        add_static_root(app.router)
    django_async = DjangoAsyncHandler(handler, script_name=script_name, url_scheme=url_scheme)
    add_lifted_routes(
        app.router,
        handler,
        urlconf=urlconf,
        script_name=script_name,
        wrap_view=protect_lifted_view,
        django_async=django_async.handle,
    )
    add_wsgi_route(app.router, handler, script_name)

    handler.shutdown_on_cleanup(app)
    # Django's sync middleware and signals of async views, and lifted views' ORM calls.
    serve_sync_calls(app)
    # Lifted views watch their own websocket handshakes (protect_lifted_view): no other
    # response pays for looking.
    close_websockets_on_shutdown(app, watch_responses=False)
    return app


def add_static_root(router: web.UrlDispatcher) -> None:
    """Serve ``STATIC_URL`` from ``STATIC_ROOT`` with aiohttp's static file handling.

    ``STATIC_URL`` is the path browsers ask for (Django already puts the script
    prefix in front of a relative one), so it is used as it is.
    """
    static_url = str(settings.STATIC_URL or "")
    if not settings.STATIC_ROOT:
        raise ImproperlyConfigured(
            "get_aio_application(include_static=True) needs the STATIC_ROOT setting; "
            "run collectstatic into it."
        )
    if "://" in static_url or not static_url.startswith("/"):
        raise ImproperlyConfigured(
            f"get_aio_application(include_static=True) can only serve a local STATIC_URL "
            f"such as '/static/', not {static_url!r}."
        )
    router.add_static(static_url.rstrip("/"), settings.STATIC_ROOT)


def get_internal_aio_application() -> web.Application:
    """The application ``runserver`` serves, like Django's ``get_internal_wsgi_application``.

    ``AIODJANGO_APPLICATION`` names it as a dotted path. Without that setting, the
    ``app`` beside ``WSGI_APPLICATION`` (``project.wsgi.app``) is used when it exists,
    and otherwise one is built from the WSGI application.
    """
    from django.core.servers.basehttp import get_internal_wsgi_application

    app_path: str | None = getattr(settings, "AIODJANGO_APPLICATION", None)
    if app_path is None and settings.WSGI_APPLICATION:
        module_path = str(settings.WSGI_APPLICATION).rpartition(".")[0]
        candidate = getattr(import_module(module_path), "app", None)
        if isinstance(candidate, web.Application):
            return candidate
    if app_path is None:
        return get_aio_application(get_internal_wsgi_application())
    try:
        app = import_string(app_path)
    except ImportError as error:
        raise ImproperlyConfigured(
            f"AIODJANGO_APPLICATION {app_path!r} could not be imported: {error}"
        ) from error
    if not isinstance(app, web.Application):
        raise ImproperlyConfigured(
            f"AIODJANGO_APPLICATION {app_path!r} is a {type(app).__name__}, "
            "not an aiohttp Application (build it with get_aio_application())."
        )
    return app
