"""Database connection care for lifted views: Django's per-request rules, paid for only when used.

Django looks after its connections around every request: the ``request_started`` and
``request_finished`` signals run ``close_old_connections()``, which drops connections that broke
or that outlived ``CONN_MAX_AGE``. Lifted views bypass Django's handlers, so aiodjango does the
same work itself, under these constraints:

* Where the connections live. Django's async ORM and ``sync_to_async`` run sync code in asgiref's
  *thread-sensitive* thread, and Django's connections are per thread. Django's ``ASGIHandler``
  wraps each request in a ``ThreadSensitiveContext``, which gives every request that does sync
  work a thread (and connections) of its own, and sends the two signals through
  ``sync_to_async``: a thread hop on every request, even one that never queries, and persistent
  connections that die with their thread. aiodjango enters no such context: all lifted views
  share asgiref's one thread-sensitive thread, so ``CONN_MAX_AGE`` really keeps a connection
  for reuse and there is at most one connection per database alias for all lifted views.
* No hop for views that never touch the database. Every request gets a :class:`DatabaseUse`
  record in a context variable; ``sync_to_async`` copies the context into the worker thread, so
  a ``connection_created`` receiver and an execute wrapper installed on every connection can mark
  the record when the request opens a connection or executes a query (even one that fails).
  Only marked requests hop to the thread-sensitive thread when they end, to run
  ``close_old_connections()``'s checks there. Cursor creation marks the record too, since a
  query can fail before it executes (a cursor asked of a connection that died) and the
  broken connection must still be dropped.
* Shared connections. Because requests share the thread's connections, one request must not
  close a connection under another that is still using it (an ``aiterator()`` keeps a cursor
  open between its chunks). So a request that ends drops broken connections (and those whose
  autocommit was left changed) at once, like Django, but closes connections for their age only
  when no other request that used the database is still in progress. Idle connections with a
  finite ``CONN_MAX_AGE`` are closed by a timer when they expire, as Django would before the next
  request.

Database work done outside the thread-sensitive thread (``sync_to_async(thread_sensitive=False)``,
threads of your own) is not looked after: close those connections where you open them.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
import time
from collections.abc import Callable
from typing import Any

from asgiref.sync import sync_to_async
from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.signals import connection_created

from .._compat import check_django, watch_cursor_creation

check_django()

__all__ = [
    "DatabaseUse",
    "finish_request",
    "look_after_connections",
    "start_request",
    "watch_connections",
]


class DatabaseUse:
    """Whether one lifted request has connected to or queried a database, and whether it ended."""

    __slots__ = ("alone", "finished", "token", "used")

    def __init__(self) -> None:
        self.used = False
        self.finished = False
        #: Whether no other request that used the database was in progress when this one ended.
        self.alone = False
        self.token: contextvars.Token[DatabaseUse | None] | None = None


_current_use: contextvars.ContextVar[DatabaseUse | None] = contextvars.ContextVar(
    "aiodjango_database_use", default=None
)
# Requests that used the database and have not finished yet. Marked from worker threads and
# pruned on the event loop, hence the lock.
_users_lock = threading.Lock()
_users_in_progress: set[DatabaseUse] = set()
# One expiry timer per event loop (each loop's handles may only be touched from its thread).
_expiry_timers: dict[asyncio.AbstractEventLoop, asyncio.TimerHandle] = {}
_sweeps: set[asyncio.Task[None]] = set()


def start_request() -> DatabaseUse:
    """Begin tracking the current request's database use (call on the event loop, in its task)."""
    use = DatabaseUse()
    use.token = _current_use.set(use)
    return use


def finish_request(use: DatabaseUse) -> bool:
    """Stop tracking the request; True if it used a database.

    Only then must :func:`look_after_connections` follow. Most requests never query, and this
    check costs them no coroutine and no thread hop.
    """
    if use.token is not None:
        _current_use.reset(use.token)
        use.token = None
    # From here on _note_use() ignores the request. Both sides write their flag before reading
    # the other's, so a query racing with the end of the request is either seen here or ignored
    # there; the lock is only needed for the requests that used a database.
    use.finished = True
    if not use.used:
        return False
    with _users_lock:
        _users_in_progress.discard(use)
        use.alone = not _users_in_progress
    return True


async def look_after_connections(use: DatabaseUse) -> None:
    """Apply Django's end-of-request connection rules for a finished request that used them."""
    close_at = await sync_to_async(_close_old_connections, thread_sensitive=True)(use.alone)
    if use.alone:
        _schedule_expiry(close_at)


def _note_use() -> None:
    use = _current_use.get()
    if use is None or use.used:
        return
    use.used = True
    with _users_lock:
        if not use.finished:
            _users_in_progress.add(use)


def _note_query(
    execute: Callable[..., Any], sql: Any, params: Any, many: bool, context: dict[str, Any]
) -> Any:
    """Execute wrapper that records the query on the current lifted request."""
    _note_use()
    return execute(sql, params, many, context)


_WATCHED = "_aiodjango_watched"


def _watch_connection(sender: object, connection: BaseDatabaseWrapper, **kwargs: Any) -> None:
    """Record the new connection on the current request and watch its queries from now on."""
    _note_use()
    if not getattr(connection, _WATCHED, False):
        setattr(connection, _WATCHED, True)
        watch_cursor_creation(connection, _note_use)
    if _note_query not in connection.execute_wrappers:
        # First in the list is outermost; ``execute_wrapper()`` blocks pop the last entry, so
        # ours must not be appended while one of them is open.
        connection.execute_wrappers.insert(0, _note_query)


def watch_connections() -> None:
    """Start watching the connections Django opens (idempotent); ``AppConfig.ready()`` and
    ``get_aio_application()`` call it, so importing this module changes nothing."""
    connection_created.connect(_watch_connection, dispatch_uid="aiodjango.db.watch_connection")


def _close_old_connections(judge_age: bool) -> float | None:
    """``close_old_connections()`` for this thread; age is judged only when nobody shares it.

    Returns the earliest moment (``time.monotonic()``) at which a connection left open expires.
    """
    next_close_at: float | None = None
    for connection in connections.all(initialized_only=True):
        close_at = connection.close_at
        if not judge_age:
            connection.close_at = None
        try:
            connection.close_if_unusable_or_obsolete()
        finally:
            connection.close_at = close_at
        if connection.connection is not None and close_at is not None:
            next_close_at = close_at if next_close_at is None else min(next_close_at, close_at)
    return next_close_at


def _schedule_expiry(close_at: float | None) -> None:
    """Arrange for connections left open to be closed when their ``CONN_MAX_AGE`` runs out."""
    loop = asyncio.get_running_loop()
    for closed in [other for other in _expiry_timers if other.is_closed()]:
        del _expiry_timers[closed]
    timer = _expiry_timers.pop(loop, None)
    if timer is not None:
        timer.cancel()
    if close_at is not None:
        delay = max(0.0, close_at - time.monotonic())
        # A fresh context: the sweep must not count as part of the request that scheduled it.
        _expiry_timers[loop] = loop.call_later(delay, _expire, context=contextvars.Context())


def _expire() -> None:
    loop = asyncio.get_running_loop()
    _expiry_timers.pop(loop, None)
    with _users_lock:
        if _users_in_progress:
            return  # the last of them to finish judges the connections' age
    sweep = loop.create_task(_sweep())
    _sweeps.add(sweep)
    sweep.add_done_callback(_sweeps.discard)


async def _sweep() -> None:
    close_at = await sync_to_async(_close_old_connections, thread_sensitive=True)(True)
    _schedule_expiry(close_at)
