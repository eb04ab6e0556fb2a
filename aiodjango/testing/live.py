"""A live server in a thread, for browsers (Playwright, Selenium) and synchronous tests.

:class:`LiveServer` serves an aiohttp application on a real socket from a thread with its own
event loop, the way Django's ``LiveServerTestCase`` and pytest-django's ``live_server`` serve
Django. :class:`SyncClient` drives a :class:`~aiodjango.testing.client.SiteClient` on that
loop, for tests written without ``async``.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

from aiohttp import web
from django.test.utils import modify_settings
from multidict import CIMultiDictProxy

from ..server import Server
from .client import DEFAULT_TIMEOUT, SiteClient, WebSocket

__all__ = ["LiveServer", "SyncClient", "SyncResponse", "SyncWebSocket"]

_T = TypeVar("_T")

#: How long starting, stopping or one call through :meth:`LiveServer.run` may take.
CALL_TIMEOUT = 60.0


class LiveServer:
    """Serve ``make_app()`` on ``host``, port ``port`` (0: a free one) from a thread.

    ``start()`` returns once the socket listens (or raises what stopped it), ``stop()`` stops
    the server gracefully and ends the thread. The host is in ``ALLOWED_HOSTS`` meanwhile.
    """

    def __init__(
        self,
        make_app: Callable[[], web.Application],
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        shutdown_timeout: float = 5.0,
    ) -> None:
        self.host = host
        self._make_app = make_app
        self._port = port
        self._shutdown_timeout = shutdown_timeout
        self._loop = asyncio.new_event_loop()
        self._server: Server | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, name="aiodjango-live")
        self._thread.daemon = True
        self._allowed_host = modify_settings(ALLOWED_HOSTS={"append": host})

    @property
    def port(self) -> int:
        assert self._server is not None and self._server.port is not None, "not started"
        return self._server.port

    @property
    def url(self) -> str:
        """The server's root URL, ``http://127.0.0.1:PORT``, without a trailing slash."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def __str__(self) -> str:
        return self.url

    def start(self) -> None:
        self._allowed_host.enable()
        self._thread.start()
        try:
            self.run(self._start())
        except BaseException:
            self.stop()
            raise

    async def _start(self) -> None:
        self._server = Server(
            self._make_app(),
            host=self.host,
            port=self._port,
            shutdown_timeout=self._shutdown_timeout,
        )
        await self._server.start()

    def stop(self) -> None:
        """Stop serving and end the thread; only the first call acts."""
        if self._loop.is_closed():
            return
        try:
            if self._server is not None and self._thread.is_alive():
                self.run(self._server.stop())
        finally:
            self._allowed_host.disable()
            if self._thread.is_alive():
                self._loop.call_soon_threadsafe(self._loop.stop)
                self._thread.join(CALL_TIMEOUT)
            self._loop.close()

    def run(self, coroutine: Coroutine[Any, Any, _T], timeout: float = CALL_TIMEOUT) -> _T:
        """Run ``coroutine`` on the server's loop and return its result (from another thread)."""
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)

    def client(self, *, enforce_csrf_checks: bool = False) -> SyncClient:
        """A new :class:`SyncClient` of this server, with cookies of its own."""
        return SyncClient(self, enforce_csrf_checks=enforce_csrf_checks)


@dataclass(frozen=True)
class SyncResponse:
    """A response, read whole: status, headers and body."""

    status: int
    headers: CIMultiDictProxy[str]
    content: bytes
    url: str

    @property
    def text(self) -> str:
        return self.content.decode()

    def json(self) -> Any:
        return json.loads(self.content)


class SyncWebSocket:
    """A :class:`~aiodjango.testing.client.WebSocket` used from synchronous code."""

    def __init__(self, live: LiveServer, socket: WebSocket) -> None:
        self._live = live
        self.socket = socket

    def send_json(self, data: Any) -> None:
        self._live.run(self.socket.send_json(data))

    def send_text(self, text: str) -> None:
        self._live.run(self.socket.send_text(text))

    def receive_json(self, timeout: float | None = None) -> Any:
        return self._live.run(self.socket.receive_json(timeout))

    def receive_text(self, timeout: float | None = None) -> str:
        return self._live.run(self.socket.receive_text(timeout))

    def close(self, code: int = 1000) -> None:
        self._live.run(self.socket.close(code))

    @property
    def close_code(self) -> int | None:
        return self.socket.close_code

    def __enter__(self) -> SyncWebSocket:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class SyncClient:
    """The client of :class:`~aiodjango.testing.client.SiteClient`, for synchronous tests.

    Each method runs its asynchronous twin on the live server's loop and waits for it.
    """

    def __init__(self, live: LiveServer, *, enforce_csrf_checks: bool = False) -> None:
        self._live = live

        async def make() -> SiteClient:
            return SiteClient(live.url, enforce_csrf_checks=enforce_csrf_checks)

        self.site = live.run(make())

    def request(self, method: str, path: str, **kwargs: Any) -> SyncResponse:
        async def fetch() -> SyncResponse:
            response = await self.site.request(method, path, **kwargs)
            body = await response.read()
            return SyncResponse(response.status, response.headers, body, str(response.url))

        return self._live.run(fetch())

    def get(self, path: str, **kwargs: Any) -> SyncResponse:
        return self.request("GET", path, **kwargs)

    def head(self, path: str, **kwargs: Any) -> SyncResponse:
        return self.request("HEAD", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> SyncResponse:
        return self.request("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> SyncResponse:
        return self.request("PUT", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> SyncResponse:
        return self.request("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> SyncResponse:
        return self.request("DELETE", path, **kwargs)

    def websocket(
        self, path: str, *, timeout: float = DEFAULT_TIMEOUT, **kwargs: Any
    ) -> SyncWebSocket:
        """Open a websocket as this client (``with client.websocket(path) as ws:``)."""
        socket = self._live.run(self.site.websocket(path, timeout=timeout, **kwargs))
        return SyncWebSocket(self._live, socket)

    def cookie(self, name: str) -> str | None:
        return self.site.cookie(name)

    def force_login(self, user: Any, backend: str | None = None) -> None:
        self._live.run(self.site.force_login(user, backend))

    def login(self, **credentials: Any) -> bool:
        return self._live.run(self.site.login(**credentials))

    def logout(self) -> None:
        self._live.run(self.site.logout())

    def close(self) -> None:
        self._live.run(self.site.close())
