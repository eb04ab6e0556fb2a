"""Every use of a private aiohttp, Django or Python API, each with its assumption asserted.

aiodjango uses public APIs where one exists. The few things below have no public way; they
live here so that an upgrade that breaks one fails at import, naming the assumption, instead
of misbehaving at request time. CI runs the oldest and newest versions we support.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import os
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from aiohttp import web
from asgiref.sync import AsyncToSync, SyncToAsync

if TYPE_CHECKING:
    from django.http import HttpRequest
    from django.http.response import HttpResponseBase
    from django.middleware.csrf import CsrfViewMiddleware

__all__ = ["CsrfRejected", "csrf_check_class", "run_async_to_sync_on", "watch_prepare"]

# aiohttp: a request is told when a response to it is prepared, through the coroutine method
# ``Request._prepare_hook(response)`` (it sends ``on_response_prepare``). There is no public
# per-request hook; the app-wide signal costs every response of the app.
assert inspect.iscoroutinefunction(getattr(web.Request, "_prepare_hook", None)), (
    "aiohttp.web.Request._prepare_hook(response) is gone: aiodjango.server.websockets needs a "
    "new way to see websockets being prepared"
)

PrepareCallback = Callable[[web.Request, web.StreamResponse], None]

_watched_classes: dict[PrepareCallback, type[web.Request]] = {}


def watch_prepare(request: web.Request, callback: PrepareCallback) -> None:
    """Call ``callback(request, response)`` as a response to ``request`` is prepared.

    Only this request pays for it: its class becomes a subclass of ``web.Request`` (same
    layout, one method more), set with ``object.__setattr__`` because aiohttp's debug mode
    warns about attributes set on requests.
    """
    if type(request) is not web.Request:
        return
    watched = _watched_classes.get(callback)
    if watched is None:
        watched = _watched_classes[callback] = _watching_class(callback)
    object.__setattr__(request, "__class__", watched)


def _watching_class(callback: PrepareCallback) -> type[web.Request]:
    class WatchedRequest(web.Request):
        __slots__ = ()

        async def _prepare_hook(self, response: web.StreamResponse) -> None:
            callback(self, response)
            await super()._prepare_hook(response)

    return WatchedRequest


# asgiref: ``async_to_sync`` called in a thread with no running loop looks for the loop to run
# on in ``SyncToAsync.threadlocal`` (``main_event_loop`` and ``main_event_loop_pid``), which
# ``SyncToAsync`` sets for its own threads. Threads that asgiref did not start have no public
# way to name that loop; aiodjango.groups names the serving loop for its WSGI worker threads.
assert {"main_event_loop", "main_event_loop_pid"} <= set(
    AsyncToSync.__call__.__code__.co_consts
) and isinstance(SyncToAsync.threadlocal, threading.local), (
    "asgiref's AsyncToSync no longer finds its loop in SyncToAsync.threadlocal: "
    "aiodjango.groups needs a new way to run async_to_sync on the serving loop"
)


def run_async_to_sync_on(loop: asyncio.AbstractEventLoop) -> None:
    """Make ``async_to_sync`` in the current thread run its coroutine on ``loop``."""
    threadlocal = SyncToAsync.threadlocal
    if getattr(threadlocal, "main_event_loop", None) is not loop:
        threadlocal.main_event_loop = loop
        threadlocal.main_event_loop_pid = os.getpid()


class CsrfRejected(Exception):
    """Django's CSRF checks refused a request; ``reason`` is Django's reason."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@functools.cache
def csrf_check_class() -> type[CsrfViewMiddleware]:
    """``CsrfViewMiddleware`` whose checks raise :class:`CsrfRejected` instead of answering.

    Django: every refusal of ``CsrfViewMiddleware.process_view`` goes through
    ``_reject(request, reason)``, which logs and renders ``CSRF_FAILURE_VIEW``. Lifted views run
    the checks on the event loop, where rendering (templates, maybe the database) must not
    happen; the subclass reports the refusal, and ``failure_response()`` renders Django's answer
    in a worker thread. Imported lazily, so that the WSGI adapter loads no Django;
    :mod:`aiodjango.lifted.csrf` calls this at its import, so the assertion runs then.
    """
    from django.middleware.csrf import CsrfViewMiddleware

    reject = getattr(CsrfViewMiddleware, "_reject", None)
    assert reject is not None and list(inspect.signature(reject).parameters) == [
        "self",
        "request",
        "reason",
    ], (
        "django.middleware.csrf.CsrfViewMiddleware._reject(request, reason) is gone: "
        "aiodjango.lifted.csrf needs a new way to hear of a CSRF refusal"
    )

    class ReportingCsrfCheck(CsrfViewMiddleware):
        def _reject(self, request: HttpRequest, reason: str) -> HttpResponseBase | None:
            raise CsrfRejected(reason)

        def failure_response(self, request: HttpRequest, reason: str) -> HttpResponseBase | None:
            """Django's own answer to the refusal: logged, ``CSRF_FAILURE_VIEW`` rendered."""
            return super()._reject(request, reason)  # type: ignore[misc,no-any-return]

    return ReportingCsrfCheck
