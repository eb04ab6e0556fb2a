"""Helpers for testing a project served by aiodjango, and its pytest plugin.

:class:`AioClient` serves the aiohttp application of the project in the test's event loop and
reaches Django views, lifted views and websockets as one browser-like client;
:class:`LiveServer` serves it from a thread for browsers, and :class:`SyncClient` drives it
from synchronous tests. The fixtures are in :mod:`aiodjango.testing.plugin`.

Names are imported on first use, so that pytest loading the plugin imports no Django module.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .client import DEFAULT_TIMEOUT, AioClient, SiteClient, WebSocket
    from .live import LiveServer, SyncClient, SyncResponse, SyncWebSocket

# Public name -> the module that defines it.
_EXPORTS = {
    "DEFAULT_TIMEOUT": "aiodjango.testing.client",
    "AioClient": "aiodjango.testing.client",
    "LiveServer": "aiodjango.testing.live",
    "SiteClient": "aiodjango.testing.client",
    "SyncClient": "aiodjango.testing.live",
    "SyncResponse": "aiodjango.testing.live",
    "SyncWebSocket": "aiodjango.testing.live",
    "WebSocket": "aiodjango.testing.client",
}

__all__ = [
    "DEFAULT_TIMEOUT",
    "AioClient",
    "LiveServer",
    "SiteClient",
    "SyncClient",
    "SyncResponse",
    "SyncWebSocket",
    "WebSocket",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'aiodjango.testing' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
