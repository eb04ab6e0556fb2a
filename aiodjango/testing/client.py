"""Clients for tests: one object reaching Django views, lifted views and websockets.

:class:`SiteClient` talks to a server that is already listening (its base URL);
:class:`AioClient` starts the application on aiohttp's :class:`~aiohttp.test_utils.TestServer`
first. Both keep cookies like a browser, log users in and out through Django's own test client
(:mod:`aiodjango.testing.identity`) and, like Django's test client, do not make tests deal with
CSRF: unsafe requests carry a valid token unless ``enforce_csrf_checks=True``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from types import TracebackType
from typing import Any, Self

import aiohttp
from aiohttp import web
from aiohttp.abc import AbstractCookieJar
from aiohttp.test_utils import TestServer
from asgiref.sync import sync_to_async
from django.conf import settings
from django.test.utils import modify_settings
from multidict import CIMultiDict
from yarl import URL

from . import identity

__all__ = ["DEFAULT_TIMEOUT", "AioClient", "SiteClient", "WebSocket"]

#: Seconds a websocket helper waits for a message before failing the test.
DEFAULT_TIMEOUT = 10.0

_UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class WebSocket:
    """A client websocket whose receiving helpers fail after a timeout instead of hanging.

    :attr:`raw` is aiohttp's :class:`~aiohttp.ClientWebSocketResponse`, for anything else.
    """

    def __init__(self, raw: aiohttp.ClientWebSocketResponse, timeout: float) -> None:
        self.raw = raw
        self.timeout = timeout

    async def send_json(self, data: Any) -> None:
        await self.raw.send_str(json.dumps(data))

    async def send_text(self, text: str) -> None:
        await self.raw.send_str(text)

    # A timeout of their own is what these helpers are for: a test must not hang (ASYNC109).
    async def receive(self, timeout: float | None = None) -> aiohttp.WSMessage:  # noqa: ASYNC109
        """The next message of any kind; ``TimeoutError`` if none comes within ``timeout``."""
        limit = self.timeout if timeout is None else timeout
        try:
            return await asyncio.wait_for(self.raw.receive(), limit)
        except TimeoutError:
            raise TimeoutError(f"no websocket message within {limit} s") from None

    async def receive_text(self, timeout: float | None = None) -> str:  # noqa: ASYNC109
        """The next message, which must be text (a close or binary message fails the test)."""
        message = await self.receive(timeout)
        if message.type is not aiohttp.WSMsgType.TEXT:
            raise AssertionError(f"expected a text message, got {message.type.name}: {message}")
        return str(message.data)

    async def receive_json(self, timeout: float | None = None) -> Any:  # noqa: ASYNC109
        """The next message, decoded from JSON text."""
        return json.loads(await self.receive_text(timeout))

    async def close(self, code: int = 1000) -> None:
        await self.raw.close(code=code)

    @property
    def close_code(self) -> int | None:
        """The code the websocket was closed with, or None while it is open."""
        return self.raw.close_code

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()


class SiteClient:
    """A browser-like client of a running site at ``base_url`` (``http://host:port``).

    Requests return aiohttp's :class:`~aiohttp.ClientResponse` with the body already read, so
    ``await response.text()`` and ``await response.json()`` work and no connection is left
    open. :attr:`session` is the underlying :class:`aiohttp.ClientSession`, for streaming.
    Create it in a coroutine: its session belongs to the running event loop.
    """

    def __init__(self, base_url: str, *, enforce_csrf_checks: bool = False) -> None:
        self.base_url = URL(base_url)
        self.enforce_csrf_checks = enforce_csrf_checks
        # unsafe=True: keep cookies of an IP address host such as 127.0.0.1, as browsers do.
        self.session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))

    def url(self, path: str) -> URL:
        """The absolute URL of ``path`` (which starts with ``/``) on this site."""
        return self.base_url.join(URL(path))

    @property
    def cookies(self) -> AbstractCookieJar:
        """The cookie jar: read it with ``cookie(name)``, change it like any aiohttp jar."""
        return self.session.cookie_jar

    def cookie(self, name: str) -> str | None:
        """The value of the cookie ``name`` this client would send to the site, if any."""
        morsel = self.cookies.filter_cookies(self.base_url).get(name)
        return None if morsel is None else morsel.value

    def set_cookie(self, name: str, value: str) -> None:
        self.cookies.update_cookies({name: value}, self.base_url)

    async def request(self, method: str, path: str, **kwargs: Any) -> aiohttp.ClientResponse:
        """Send a request to ``path`` and read its answer; keyword arguments are aiohttp's."""
        method = method.upper()
        if method in _UNSAFE_METHODS and not self.enforce_csrf_checks:
            kwargs["headers"] = self._with_csrf_token(kwargs.get("headers"))
        kwargs.setdefault("allow_redirects", False)
        response = await self.session.request(method, self.url(path), **kwargs)
        # Reading to the end gives the connection back; read(), text() and json() then answer
        # from the body kept in memory (a released response would refuse read()).
        try:
            await response.read()
        except BaseException:
            response.close()
            raise
        return response

    async def get(self, path: str, **kwargs: Any) -> aiohttp.ClientResponse:
        return await self.request("GET", path, **kwargs)

    async def head(self, path: str, **kwargs: Any) -> aiohttp.ClientResponse:
        return await self.request("HEAD", path, **kwargs)

    async def options(self, path: str, **kwargs: Any) -> aiohttp.ClientResponse:
        return await self.request("OPTIONS", path, **kwargs)

    async def post(self, path: str, **kwargs: Any) -> aiohttp.ClientResponse:
        return await self.request("POST", path, **kwargs)

    async def put(self, path: str, **kwargs: Any) -> aiohttp.ClientResponse:
        return await self.request("PUT", path, **kwargs)

    async def patch(self, path: str, **kwargs: Any) -> aiohttp.ClientResponse:
        return await self.request("PATCH", path, **kwargs)

    async def delete(self, path: str, **kwargs: Any) -> aiohttp.ClientResponse:
        return await self.request("DELETE", path, **kwargs)

    async def websocket(
        self,
        path: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109
        **kwargs: Any,
    ) -> WebSocket:
        """Open a websocket to ``path`` with this client's cookies (so as its logged-in user).

        The handshake carries the site's own ``Origin``, as a page of the site would; pass
        ``origin=`` to test another one. Use it as ``async with await client.websocket(...)``.
        """
        kwargs.setdefault("origin", str(self.base_url.origin()))
        kwargs.setdefault("timeout", aiohttp.ClientWSTimeout(ws_receive=None, ws_close=timeout))
        raw = await asyncio.wait_for(self.session.ws_connect(self.url(path), **kwargs), timeout)
        return WebSocket(raw, timeout)

    async def force_login(self, user: Any, backend: str | None = None) -> None:
        """Log ``user`` in without credentials, as ``django.test.Client.force_login`` does."""
        cookie = await sync_to_async(identity.forced_login_cookie)(user, backend)
        self.set_cookie(settings.SESSION_COOKIE_NAME, cookie)

    async def login(self, **credentials: Any) -> bool:
        """Log in with ``credentials`` through the auth backends; False if they are refused."""
        cookie = await sync_to_async(identity.login_cookie)(**credentials)
        if cookie is None:
            return False
        self.set_cookie(settings.SESSION_COOKIE_NAME, cookie)
        return True

    async def logout(self) -> None:
        """Log out: the session is flushed on the server and its cookie forgotten."""
        name = settings.SESSION_COOKIE_NAME
        await sync_to_async(identity.logout_session)(self.cookie(name))
        self.cookies.clear(lambda morsel: morsel.key == name)

    async def close(self) -> None:
        await self.session.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    def _with_csrf_token(self, headers: Mapping[str, str] | None) -> CIMultiDict[str]:
        """``headers`` plus a valid CSRF token, unless the test sent one itself.

        The token is the CSRF cookie's secret (a new one when the client has none yet): Django
        accepts it unmasked. With ``CSRF_USE_SESSIONS`` the secret lives in the session
        instead; set the header yourself then, from a page's ``csrfmiddlewaretoken``.
        """
        merged: CIMultiDict[str] = CIMultiDict(headers or {})
        header = identity.csrf_header()
        if header not in merged:
            secret = self.cookie(settings.CSRF_COOKIE_NAME)
            if secret is None:
                secret = identity.new_csrf_secret()
                self.set_cookie(settings.CSRF_COOKIE_NAME, secret)
            merged[header] = secret
        return merged


class AioClient(SiteClient):
    """A :class:`SiteClient` for an aiohttp application it serves itself, on 127.0.0.1.

    ``async with AioClient(get_aio_application()) as client:`` starts the application on
    aiohttp's :class:`~aiohttp.test_utils.TestServer` (a real socket on a free port), adds
    the host to ``ALLOWED_HOSTS`` and undoes both on exit. The application is used up by it:
    give every client a new one.
    """

    def __init__(
        self, app: web.Application, *, host: str = "127.0.0.1", enforce_csrf_checks: bool = False
    ) -> None:
        super().__init__("http://invalid", enforce_csrf_checks=enforce_csrf_checks)
        self.app = app
        self.server = TestServer(app, host=host)
        self._allowed_host = modify_settings(ALLOWED_HOSTS={"append": host})
        self._started = False

    async def start(self) -> None:
        self._allowed_host.enable()
        self._started = True
        await self.server.start_server()
        self.base_url = self.server.make_url("/")

    async def close(self) -> None:
        try:
            await super().close()
            await self.server.close()
        finally:
            if self._started:
                self._started = False
                self._allowed_host.disable()

    async def __aenter__(self) -> Self:
        try:
            await self.start()
        except BaseException:
            await self.close()
            raise
        return self
