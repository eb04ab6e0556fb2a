"""The WSGI adapter: serve any PEP 3333 application (Django, Flask, a bare callable) from aiohttp.

This part of aiodjango imports no Django module. One module per step of a request:
:mod:`~aiodjango.wsgi.body` (reading the request body), :mod:`~aiodjango.wsgi.environ` (building
the environ), :mod:`~aiodjango.wsgi.workers` (the worker threads), :mod:`~aiodjango.wsgi.exchange`
(a request's meeting point between its thread and the loop, a state machine),
:mod:`~aiodjango.wsgi.headers` (checking the response head), :mod:`~aiodjango.wsgi.sending`
(writing the response) and :mod:`~aiodjango.wsgi.handler` (the aiohttp handler tying them).
"""

from .body import read_body
from .environ import make_environ
from .exchange import FileWrapper
from .handler import (
    DEFAULT_BODY_MIN_RATE,
    DEFAULT_BODY_TIMEOUT,
    DEFAULT_INBUF_OVERFLOW,
    DEFAULT_MAX_QUEUED,
    DEFAULT_MAX_REQUEST_BODIES_IN_MEMORY,
    DEFAULT_MAX_REQUEST_BODIES_SIZE,
    DEFAULT_MAX_REQUEST_BODY_SIZE,
    DEFAULT_OUTBUF_OVERFLOW,
    DEFAULT_SEND_TIMEOUT,
    DEFAULT_THREADS,
    RETRY_AFTER,
    WSGIHandler,
    add_wsgi_route,
)

__all__ = [
    "DEFAULT_BODY_MIN_RATE",
    "DEFAULT_BODY_TIMEOUT",
    "DEFAULT_INBUF_OVERFLOW",
    "DEFAULT_MAX_QUEUED",
    "DEFAULT_MAX_REQUEST_BODIES_IN_MEMORY",
    "DEFAULT_MAX_REQUEST_BODIES_SIZE",
    "DEFAULT_MAX_REQUEST_BODY_SIZE",
    "DEFAULT_OUTBUF_OVERFLOW",
    "DEFAULT_SEND_TIMEOUT",
    "DEFAULT_THREADS",
    "RETRY_AFTER",
    "FileWrapper",
    "WSGIHandler",
    "add_wsgi_route",
    "make_environ",
    "read_body",
]
