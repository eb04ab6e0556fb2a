"""Django's async views served on the event loop, by Django's own ASGI handler.

:class:`DjangoAsyncHandler` is the aiohttp handler of the routes that lead to Django async
views (:func:`~aiodjango.routing.add_lifted_routes` adds them in Django's order). Django's
``ASGIHandler`` runs the request with the project's whole middleware chain in async mode, so
a view that awaits holds no thread. Around it, a small bridge does what an ASGI server would,
the way the WSGI adapter does it:

* the body is read on the loop before Django sees it, within the WSGI adapter's limits (its
  size, the budget shared by all requests, the deadline:
  :meth:`aiodjango.wsgi.WSGIHandler.receive_body`), and handed to Django as its body file;
* the response is written by aiohttp: complete in one write, streamed block by block (sync
  iterators one block per thread hop, never gathered in memory; a client that takes nothing
  for the adapter's ``send_timeout`` is cut off), a ``FileResponse`` of a regular file with
  sendfile from the loop; HEAD, 204 and 304 send no body; latin-1 header values go out as
  latin-1, as on the WSGI path;
* a client that goes away is told to Django as ``http.disconnect``: Django cancels the view
  and sends ``request_finished`` once.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import os
import stat
import weakref
from collections.abc import AsyncGenerator, Iterator
from typing import Any, Final

import django
from aiohttp import hdrs, web
from asgiref.sync import sync_to_async
from django.core import signals
from django.core.handlers.asgi import ASGIHandler, ASGIRequest
from django.http import FileResponse, HttpResponse, HttpResponseBase, StreamingHttpResponse
from multidict import CIMultiDict

from ._compat import Latin1Response, Latin1StreamResponse
from .routing.resources import django_path
from .wsgi.body import EMPTY_INPUT, InputStream
from .wsgi.handler import WSGIHandler
from .wsgi.sending import SendDeadline, cut, plain, sendfile

__all__ = ["DjangoAsyncHandler"]

logger = logging.getLogger("aiodjango.django_async")

# The ASGIHandler methods the bridge calls (handle) and replaces (called from handle()).
for _method, _parameters in (
    ("handle", ["scope", "receive", "send"]),
    ("read_body", ["receive"]),
    ("send_response", ["response", "send"]),
):
    _function = getattr(ASGIHandler, _method, None)
    assert inspect.iscoroutinefunction(_function), f"ASGIHandler.{_method} is no coroutine"
    assert list(inspect.signature(_function).parameters)[1:] == _parameters, (
        f"ASGIHandler.{_method} no longer takes {_parameters}: aiodjango.django_async must follow"
    )

#: Since Django 5.0, handle() closes the response and listens for disconnects; before,
#: send_response() closed it and the bridge itself must cancel Django when the client goes.
_HANDLE_CLOSES_RESPONSES: Final = django.VERSION >= (5, 0)
#: How often the connections of requests in Django's hands are checked for a client gone.
DISCONNECT_POLL: Final = 0.2
_NO_BODY_STATUSES: Final = frozenset([204, 304])


class DjangoAsyncHandler:
    """An aiohttp handler that serves a request with Django's async handler, on the loop.

    ``script_name`` is the mount prefix; ``url_scheme`` forces ``request.scheme`` as the
    WSGI adapter's option does. Bodies are read by ``wsgi``, the project's WSGI adapter, within
    its limits and its budget (shared with sync views); streamed responses follow its
    ``send_timeout``.
    """

    def __init__(
        self, wsgi: WSGIHandler, *, script_name: str = "", url_scheme: str | None = None
    ) -> None:
        self._django = _BridgedASGIHandler()
        self._wsgi = wsgi
        self._script_name = script_name
        self._url_scheme = url_scheme
        self._watch = _DisconnectWatch()

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """The aiohttp handler: serve ``request`` with Django."""
        if not request.body_exists:
            body, size, in_memory = EMPTY_INPUT, 0, True
        else:
            received = await self._wsgi.receive_body(request)
            if isinstance(received, web.Response):
                return received
            body, size, in_memory = received
        connection = _Connection(request, body, self._watch, self._wsgi.send_timeout)
        # The connection is receive and send at once; Django hands it back to the bridge.
        scope = self._scope(request, size)
        # handle(), not __call__(): without a ThreadSensitiveContext per request, Django's sync
        # parts (sync middleware, signals, ORM calls of async views) share asgiref's one
        # thread-sensitive thread, as lifted views' do, instead of a new thread per request
        # (reached through the application's queue, aiodjango.sync_thread).
        django = asyncio.ensure_future(self._django.handle(scope, connection, connection))  # type: ignore[arg-type]
        try:
            if _HANDLE_CLOSES_RESPONSES:
                await asyncio.shield(django)
            else:
                await _until_done_or_gone(django, connection)
        except asyncio.CancelledError:
            # aiohttp cancels handlers of lost connections when told to (handler_cancellation):
            # Django hears of it as a disconnect, cancels the view and finishes the request.
            connection.abort()
            if _HANDLE_CLOSES_RESPONSES:
                await django
            else:
                await _cancel_on_42(django)
            raise
        finally:
            # Django closes it too, except when the request never reached it; its bytes go
            # back to the budget once the response is sent.
            self._wsgi.close_body(body, size, in_memory)
        return connection.response

    def _scope(self, request: web.Request, size: int) -> dict[str, Any]:
        """The ASGI scope Django's handler reads the request from."""
        url = request.rel_url
        # The whole decoded path: routing only sends paths under the mount (root_path) here.
        path = django_path(url.raw_path, "") or "/"
        headers = [
            (name.lower(), value)
            for name, value in request.raw_headers
            # The size read is the length; "_" names would pass for their "-" spelling.
            if b"_" not in name and name.lower() != b"content-length"
        ]
        if size or request.body_exists:
            headers.append((b"content-length", str(size).encode()))
        transport = request.transport
        peer = transport.get_extra_info("peername") if transport is not None else None
        local = transport.get_extra_info("sockname") if transport is not None else None
        # The client, scheme and host as trusted forwarded headers tell them
        # (aiodjango.server.proxy): the same fact as the WSGI environ's.
        remote = request.remote
        client = None
        if isinstance(peer, tuple) and peer[0] == remote:
            client = tuple(peer[:2])
        elif remote:
            client = (remote, 0)  # a forwarded client's port is not known
        original_host = request.headers.get(hdrs.HOST)
        if original_host is not None and request.host != original_host:
            forwarded_host = request.host
            headers = [
                (name, forwarded_host.encode("latin-1") if name == b"host" else value)
                for name, value in headers
            ]
            server_name, colon, port = forwarded_host.rpartition(":")
            if not (colon and port.isdigit()):
                https = (self._url_scheme or request.scheme) == "https"
                server_name, port = forwarded_host, "443" if https else "80"
            local = (server_name, int(port))
        return {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": f"{request.version.major}.{request.version.minor}",
            "method": request.method,
            "scheme": self._url_scheme or request.scheme,
            "path": path,
            "raw_path": url.raw_path.encode("utf-8", "surrogateescape"),
            "query_string": url.raw_query_string.encode("latin-1"),
            "root_path": self._script_name,
            "headers": headers,
            "client": client,
            "server": tuple(local[:2]) if isinstance(local, tuple) else None,
        }


class _Connection:
    """One request between aiohttp and Django: ASGI ``receive`` and ``send`` at once.

    Django reads the body through :meth:`_BridgedASGIHandler.read_body` and answers through
    :meth:`respond`; ``receive()`` itself only ever reports the client going away.
    """

    __slots__ = ("aborted", "body", "request", "response", "send_timeout", "watch")

    def __init__(
        self,
        request: web.Request,
        body: InputStream,
        watch: _DisconnectWatch,
        send_timeout: float,
    ) -> None:
        self.request = request
        self.body = body
        self.watch = watch
        self.send_timeout = send_timeout
        self.aborted = False
        #: What the aiohttp handler returns; Django always answers, this is the last resort.
        self.response: web.StreamResponse = plain(500, "Internal Server Error\n")

    async def __call__(self, message: dict[str, Any] | None = None) -> dict[str, Any]:
        if message is not None:  # Django sends through send_response, never with messages
            raise RuntimeError(f"unexpected ASGI message {message.get('type')!r}")
        if not self.aborted:
            await self.watch.gone(self.request)
        return {"type": "http.disconnect"}

    def abort(self) -> None:
        """Tell Django the client has gone, whether it is listening yet or not."""
        self.aborted = True
        self.watch.tell(self.request)

    async def respond(self, response: HttpResponseBase) -> None:
        """Write Django's response with aiohttp; a client gone mid-way is no error."""
        request = self.request
        headers: CIMultiDict[str] = CIMultiDict(response.items())
        for cookie in response.cookies.values():
            headers.add("Set-Cookie", cookie.output(header="").strip())
        status, reason = response.status_code, response.reason_phrase
        # Django allows latin-1 header values (PEP 3333's rule); aiohttp would send UTF-8.
        latin1 = not reason.isascii() or not all(value.isascii() for value in headers.values())
        if isinstance(response, HttpResponse):
            if latin1:
                self.response = Latin1Response(
                    request, body=response.content, status=status, reason=reason, headers=headers
                )
            else:
                self.response = web.Response(
                    body=response.content, status=status, reason=reason, headers=headers
                )
            return
        if not isinstance(response, StreamingHttpResponse):
            raise TypeError(f"unknown kind of Django response: {response!r}")
        if latin1:
            stream: web.StreamResponse = Latin1StreamResponse(
                request, status=status, reason=reason, headers=headers
            )
        else:
            stream = web.StreamResponse(status=status, reason=reason, headers=headers)
        self.response = stream
        with_body = request.method != "HEAD" and status not in _NO_BODY_STATUSES
        deadline = SendDeadline(request, self.send_timeout)
        try:
            await stream.prepare(request)
            if with_body:
                file = _regular_file(response)
                if file is not None:
                    await sendfile(request, stream, file, file.tell(), _size_left(file))
                else:
                    async with contextlib.aclosing(_blocks(response)) as blocks:
                        async for block in blocks:
                            deadline.writing()
                            await stream.write(block)
                            deadline.idle()  # waiting for the view is not the client's fault
            await stream.write_eof()
        except ConnectionError:
            pass  # the client has gone, or the deadline cut it off; Django closes the response
        except Exception:
            logger.exception("Sending the response to %s %s failed", request.method, request.path)
            cut(request, stream)
        finally:
            deadline.cancel()
            if deadline.expired:  # also when aiohttp cancels the handler of the lost connection
                logger.info(
                    "%s %s: the client took nothing for %g s; response cut",
                    request.method,
                    request.path,
                    self.send_timeout,
                )


class _DjangoRequest(ASGIRequest):
    """Django's ASGI request, its path split at the mount as Django's WSGI handler splits it.

    ``ASGIRequest`` cuts ``FORCE_SCRIPT_NAME`` off the path as text, so ``/mount/`` would
    leave ``go/`` of ``/mount/go/``; sync views under the same mount see ``/go/``.
    """

    def __init__(self, scope: dict[str, Any], body_file: InputStream) -> None:
        super().__init__(scope, body_file)  # type: ignore[arg-type]  # read as a file only
        path_info = scope["path"][len(scope["root_path"]) :] or "/"
        self.path_info = self.META["PATH_INFO"] = path_info
        prefix = (self.script_name or "").rstrip("/")
        self.path = "{}/{}".format(prefix, path_info.replace("/", "", 1))


class _BridgedASGIHandler(ASGIHandler):
    """Django's ASGI handler, reading the body aiodjango read and answering through aiohttp."""

    request_class = _DjangoRequest

    async def read_body(self, receive: Any) -> InputStream:  # type: ignore[override]
        connection: _Connection = receive
        return connection.body

    async def send_response(self, response: HttpResponseBase, send: Any) -> None:
        connection: _Connection = send
        await connection.respond(response)
        if not _HANDLE_CLOSES_RESPONSES:
            # Django 4.2 closes the response (request_finished) at the end of send_response.
            await sync_to_async(response.close, thread_sensitive=True)()


async def _until_done_or_gone(django: asyncio.Future[Any], connection: _Connection) -> None:
    """Django 4.2's handler does not listen for disconnects: wait for it or for the client to
    go, and then cancel it and finish the request as Django 5 does."""
    gone: asyncio.Future[Any] = asyncio.ensure_future(connection())
    try:
        await asyncio.wait([django, gone], return_when=asyncio.FIRST_COMPLETED)
    finally:
        gone.cancel()
    if django.done():
        django.result()
    else:
        await _cancel_on_42(django)


async def _cancel_on_42(django: asyncio.Future[Any]) -> None:
    if django.done():
        return
    django.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await django
    await sync_to_async(signals.request_finished.send)(sender=_BridgedASGIHandler)


def _regular_file(response: StreamingHttpResponse) -> Any:
    """The regular file a ``FileResponse`` streams (sent with sendfile), or None."""
    file = getattr(response, "file_to_stream", None) if isinstance(response, FileResponse) else None
    try:
        if file is None or not stat.S_ISREG(os.fstat(file.fileno()).st_mode):
            return None
    except (AttributeError, OSError, ValueError):  # no descriptor: a BytesIO, say
        return None
    return file


def _size_left(file: Any) -> int:
    return int(os.fstat(file.fileno()).st_size - file.tell())


async def _blocks(response: StreamingHttpResponse) -> AsyncGenerator[bytes, None]:
    """The response's blocks; a sync iterator is advanced in Django's thread, one block a hop,
    so that a long stream is never gathered in memory (Django's ``__aiter__`` would)."""
    if response.is_async:
        async for block in response.streaming_content:  # type: ignore[union-attr]
            yield block
        return
    iterator: Iterator[bytes] = iter(response.streaming_content)  # type: ignore[arg-type]
    advance = sync_to_async(_next_block, thread_sensitive=True)
    while (block := await advance(iterator)) is not None:
        if block:
            yield block


def _next_block(iterator: Iterator[bytes]) -> bytes | None:
    return next(iterator, None)


class _DisconnectWatch:
    """Tells when the client of a request in Django's hands has gone.

    aiohttp has no public notice of a lost connection for a request that has no body left to
    read, so one timer per loop looks at every watched request's transport.
    """

    def __init__(self) -> None:
        # id(request) -> the request and the future its waiter awaits; requests are unhashable.
        self._waiting: dict[int, tuple[web.Request, asyncio.Future[None]]] = {}
        self._ticking: weakref.WeakSet[asyncio.AbstractEventLoop] = weakref.WeakSet()

    async def gone(self, request: web.Request) -> None:
        """Return once the connection of ``request`` is lost (cancel the wait otherwise)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        key = id(request)
        self._waiting[key] = (request, future)
        if loop not in self._ticking:
            self._ticking.add(loop)
            loop.call_later(DISCONNECT_POLL, self._tick, loop)
        try:
            await future
        finally:
            del self._waiting[key]

    def tell(self, request: web.Request) -> None:
        """End the wait for ``request`` now."""
        entry = self._waiting.get(id(request))
        if entry is not None and not entry[1].done():
            entry[1].set_result(None)

    def _tick(self, loop: asyncio.AbstractEventLoop) -> None:
        watched = False
        for request, future in self._waiting.values():
            if future.get_loop() is not loop or future.done():
                continue
            transport = request.transport
            if transport is None or transport.is_closing():
                future.set_result(None)
            else:
                watched = True
        if watched:
            loop.call_later(DISCONNECT_POLL, self._tick, loop)
        else:
            self._ticking.discard(loop)
