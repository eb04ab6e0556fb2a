"""``get_aio_application``: one aiohttp application for a whole Django project.

It puts three things together, in the order a request meets them:

1. ``STATIC_URL`` served from ``STATIC_ROOT`` by aiohttp (only with ``include_static=True``);
2. the coroutine views of the URLconf, in Django's order (:mod:`aiodjango.routing`): aiohttp
   views lifted out of it, and Django's async views, served on the loop by Django's own
   async handler (:mod:`aiodjango.django_async`);
3. everything else, handed to the Django WSGI application through :class:`~aiodjango.wsgi.WSGIHandler`.

However it is run (``aiodjango-serve``, ``runserver``, gunicorn's aiohttp worker), a shutdown
closes its open websockets with code 1001 before waiting for the requests in flight. The
requests of 2. are capped (:mod:`aiodjango.server.limits`), and its websockets get the
server's defaults (:mod:`aiodjango.server.websocket_defaults`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
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
from .server.limits import (
    DEFAULT_MAX_ASYNC_REQUESTS,
    DEFAULT_MAX_WEBSOCKETS,
    LOOP_LIMITS,
    LoopLimits,
)
from .server.proxy import TrustedPeers, allowed_peers, trust_forwarded_headers
from .server.websocket_defaults import (
    DEFAULT_WEBSOCKET_HEARTBEAT,
    DEFAULT_WEBSOCKET_MAX_MSG_SIZE,
    WEBSOCKET_DEFAULTS,
    WebSocketDefaults,
)
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
    forwarded_allow_ips: str | Iterable[str] | None = None,
    forwarded_host: bool | None = None,
    max_async_requests: int | None = None,
    max_websockets: int | None = None,
    websocket_heartbeat: float | None = None,
    websocket_max_msg_size: int | None = None,
    **handler_options: Any,
) -> web.Application:
    """Build the aiohttp ``Application`` that serves the Django project.

    ``wsgi`` is the project's WSGI application (default: ``get_wsgi_application()``),
    so WSGI middleware wrapped around it keeps working. ``urlconf`` overrides
    ``ROOT_URLCONF`` for finding coroutine views. ``script_name`` is the prefix the
    project is mounted under (default: ``FORCE_SCRIPT_NAME``); lifted views and the
    WSGI application share it. ``server_header`` is the ``Server`` header of every
    response of the process (no version numbers by default). ``forwarded_allow_ips`` are the
    proxies whose forwarded headers are believed and ``forwarded_host`` whether they may set
    the host (default: the ``AIODJANGO_FORWARDED_ALLOW_IPS`` and ``AIODJANGO_FORWARDED_HOST``
    settings, else ``$FORWARDED_ALLOW_IPS`` or 127.0.0.1 and ::1, and no host; see
    :mod:`aiodjango.server.proxy`). ``handler_options`` go to
    :class:`~aiodjango.wsgi.WSGIHandler` (``threads``, ``max_request_body_size``, ...).

    ``max_async_requests`` caps the requests served on the loop at once (lifted views and
    Django's async views together), ``max_websockets`` the open websockets; past either, 503
    with ``Retry-After``. ``websocket_heartbeat`` (seconds, 0 for none) and
    ``websocket_max_msg_size`` (bytes, 0 for no limit) are what websockets get when their view
    gives no value. Each left at None takes its ``AIODJANGO_...`` setting (the name in capitals),
    else aiodjango's default.
    """
    if wsgi is None:
        wsgi = get_wsgi_application()
    if script_name is None:
        script_name = (settings.FORCE_SCRIPT_NAME or "").rstrip("/")

    trusted, host = _forwarded_options(forwarded_allow_ips, forwarded_host)
    watch_connections()
    watch_settings()
    current_middleware()  # loaded now: a MIDDLEWARE entry that does not import fails at startup
    # Checked before the WSGI adapter starts its threads: a bad setting leaves nothing behind.
    limits = LoopLimits(
        _chosen(
            "max_async_requests",
            max_async_requests,
            DEFAULT_MAX_ASYNC_REQUESTS,
            lambda value: LoopLimits(max_async_requests=value),
        ),
        _chosen(
            "max_websockets",
            max_websockets,
            DEFAULT_MAX_WEBSOCKETS,
            lambda value: LoopLimits(max_websockets=value),
        ),
    )
    websocket_defaults = WebSocketDefaults(
        _chosen(
            "websocket_heartbeat",
            websocket_heartbeat,
            DEFAULT_WEBSOCKET_HEARTBEAT,
            lambda value: WebSocketDefaults(heartbeat=value),
        ),
        _chosen(
            "websocket_max_msg_size",
            websocket_max_msg_size,
            DEFAULT_WEBSOCKET_MAX_MSG_SIZE,
            lambda value: WebSocketDefaults(max_msg_size=value),
        ),
    )
    handler = WSGIHandler(wsgi, **handler_options)
    app = web.Application()
    app[WSGI_HANDLER_KEY] = handler
    trust_forwarded_headers(app, trusted, host)
    set_server_header(server_header)
    app[LOOP_LIMITS] = limits
    app[WEBSOCKET_DEFAULTS] = websocket_defaults
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
        # The caps come first: a request past them costs no more than its refusal.
        wrap_view=lambda handler, view: limits.limit(protect_lifted_view(handler, view)),
        django_async=limits.limit_requests(django_async.handle),
    )
    add_wsgi_route(app.router, handler, script_name)

    handler.shutdown_on_cleanup(app)
    # Django's sync middleware and signals of async views, and lifted views' ORM calls.
    serve_sync_calls(app)
    # Lifted views watch their own websocket handshakes (protect_lifted_view): no other
    # response pays for looking.
    close_websockets_on_shutdown(app, watch_responses=False)
    return app


def _forwarded_options(
    allow_ips: str | Iterable[str] | None, host: bool | None
) -> tuple[TrustedPeers, bool]:
    """The trusted peers and the host rule: the arguments, else the settings, else defaults."""
    if allow_ips is not None:
        trusted = allowed_peers(allow_ips)
    else:
        try:
            trusted = allowed_peers(
                getattr(settings, "AIODJANGO_FORWARDED_ALLOW_IPS", None),
                "the AIODJANGO_FORWARDED_ALLOW_IPS setting",
            )
        except ValueError as error:
            raise ImproperlyConfigured(str(error)) from None
    if host is None:
        host = getattr(settings, "AIODJANGO_FORWARDED_HOST", False)
        if not isinstance(host, bool):
            raise ImproperlyConfigured(
                f"the AIODJANGO_FORWARDED_HOST setting must be True or False, not {host!r}"
            )
    return trusted, host


def _chosen(name: str, value: Any, default: Any, check: Callable[[Any], object]) -> Any:
    """The keyword's value, else its setting's (``AIODJANGO_`` and the name in capitals) checked
    by ``check`` and named if wrong, else the default."""
    if value is not None:
        return value
    setting = f"AIODJANGO_{name.upper()}"
    value = getattr(settings, setting, None)
    if value is None:
        return default
    try:
        check(value)
    except ValueError as error:
        raise ImproperlyConfigured(f"{setting}: {error}") from None
    return value


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
