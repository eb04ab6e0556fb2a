"""Fixtures shared by the whole suite."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.test_utils import TestClient

#: The type of pytest-aiohttp's ``aiohttp_client`` fixture, for annotations.
AiohttpClient = Callable[..., Awaitable[TestClient[web.Request, web.Application]]]
