"""The ``Host`` check for lifted views: ``ALLOWED_HOSTS``, by Django's own ``get_host()``.

Django checks the host of a request when something asks for it (``CommonMiddleware`` always
does) and answers 400 to a host that ``ALLOWED_HOSTS`` refuses (with its ``DEBUG`` defaults when
the setting is empty). Lifted views bypass the middleware, so
:func:`~aiodjango.lifted.protection.protect_lifted_view` asks :func:`host_allowed` before the
view runs. The verdict is Django's, computed once per host value: the common case is a lookup
in a bounded dictionary, emptied when a test changes the settings involved
(:func:`~aiodjango.lifted.middleware.watch_settings`).
"""

from __future__ import annotations

import logging

from aiohttp import hdrs, web
from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.http import HttpRequest

from .requests import DjangoRequest

__all__ = ["disallowed_host", "forget_verdicts", "host_allowed"]

# Django logs refused hosts on this logger (a SuspiciousOperation's), so monitoring of it
# covers lifted views too.
security_logger = logging.getLogger("django.security.DisallowedHost")

_SETTINGS = frozenset({"ALLOWED_HOSTS", "DEBUG", "USE_X_FORWARDED_HOST"})
_X_FORWARDED_HOST = "X-Forwarded-Host"
# Host value -> Django's verdict. Bounded so that a client inventing hosts cannot grow it:
# past the bound, new values are judged each time (the same answer, a little slower).
_verdicts: dict[str, bool] = {}
_VERDICTS_MAX = 1024


def _raw_host(request: web.BaseRequest, forwarded: bool) -> str | None:
    """What Django's ``get_host()`` would judge, when the headers alone tell it.

    ``forwarded`` is ``USE_X_FORWARDED_HOST``, read once per settings by the caller.
    """
    headers = request.headers
    if forwarded and _X_FORWARDED_HOST in headers:
        # As a WSGI server joins repeated headers (aiohttp refuses repeated Host headers).
        return ",".join(headers.getall(_X_FORWARDED_HOST))
    if hdrs.HOST not in headers:
        return None
    # The Host header, or the host a trusted proxy forwarded (aiodjango.server.proxy).
    return request.host


def _judge(raw_host: str) -> bool:
    probe = HttpRequest()
    probe.META = {"HTTP_HOST": raw_host}
    try:
        probe.get_host()
    except DisallowedHost:
        return False
    return True


def host_allowed(request: web.BaseRequest, forwarded: bool) -> bool:
    """Whether Django's ``request.get_host()`` accepts the request's host.

    ``forwarded`` is the ``USE_X_FORWARDED_HOST`` setting.
    """
    raw_host = _raw_host(request, forwarded)
    if raw_host is None:
        # No Host header (HTTP/1.0): Django falls back on the server's name and port.
        try:
            DjangoRequest(request).get_host()
        except DisallowedHost:
            return False
        return True
    verdict = _verdicts.get(raw_host)
    if verdict is None:
        verdict = _judge(raw_host)
        if len(_verdicts) < _VERDICTS_MAX:
            _verdicts[raw_host] = verdict
    return verdict


def disallowed_host(request: web.BaseRequest) -> web.Response:
    """Django's answer to a refused host: 400, logged on ``django.security.DisallowedHost``."""
    host = _raw_host(request, settings.USE_X_FORWARDED_HOST)
    security_logger.error(
        "Invalid HTTP_HOST header: %r. You may need to add %r to ALLOWED_HOSTS.",
        host,
        (host or "").rsplit(":", 1)[0],
    )
    return web.Response(status=400, text="400 Bad Request: invalid Host header\n")


def forget_verdicts(setting: str) -> None:
    """Forget the verdicts when ``setting`` is one they depend on (tests change settings)."""
    if setting in _SETTINGS:
        _verdicts.clear()
