"""Sending to groups from async and from sync code, as Channels code does.

``async_to_sync(get_channel_layer().group_send)`` in a Django view keeps working: in the WSGI
worker threads of a process whose loop serves group members, asgiref is told about that loop
(as Channels' servers do for their sync threads), so the call runs on it. The in-memory layer,
which belongs to one loop, then reaches the sockets, and a Redis layer reuses the loop's
connection instead of opening one per call.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any

from asgiref.sync import async_to_sync

from .._compat import run_async_to_sync_on
from .relay import LayerMessage, channel_layer, on_first_relays

__all__ = ["aclose_group", "agroup_send", "close_group", "group_send"]

logger = logging.getLogger("aiodjango.groups")

_serving_loop: asyncio.AbstractEventLoop | None = None
_serving_thread: int | None = None


async def agroup_send(group: str, message: LayerMessage) -> None:
    """Send ``message`` (a dict with a ``type``) to every member of ``group``, everywhere."""
    await channel_layer().group_send(group, message)


def group_send(group: str, message: LayerMessage) -> None:
    """:func:`agroup_send` for sync code: views, signal handlers, management commands, tasks.

    It is ``async_to_sync(get_channel_layer().group_send)(group, message)``.
    """
    async_to_sync(channel_layer().group_send)(group, message)


def close_message(code: int, reason: str) -> dict[str, Any]:
    from .members import CLOSE

    return {"type": CLOSE, "code": code, "reason": reason}


async def aclose_group(group: str, code: int = 1008, reason: str = "") -> None:
    """Close the sockets of every member of ``group`` with ``code`` and ``reason``."""
    await agroup_send(group, close_message(code, reason))


def close_group(group: str, code: int = 1008, reason: str = "") -> None:
    """:func:`aclose_group` for sync code; a layer that is away is logged, not raised."""
    try:
        group_send(group, close_message(code, reason))
    except Exception as error:
        logger.warning("could not close the sockets of group %r: %s", group, error)


def _remember_serving_loop(loop: asyncio.AbstractEventLoop) -> None:
    global _serving_loop, _serving_thread
    _serving_loop = loop
    _serving_thread = threading.get_ident()
    # gunicorn runs no system checks: say it here too, once per process.
    from .workers import in_memory_layer_with_workers

    found = in_memory_layer_with_workers()
    if found is not None:
        logger.warning(
            "%s asks for %d worker processes, but the channel layer is in-memory: group "
            "messages reach only this process's sockets (set CHANNEL_LAYERS to a Redis layer)",
            *found,
        )


on_first_relays.append(_remember_serving_loop)


def use_serving_loop(**kwargs: object) -> None:
    """On ``request_started`` in a worker thread: let async_to_sync run on the serving loop."""
    loop = _serving_loop
    if loop is None or threading.get_ident() == _serving_thread or not loop.is_running():
        return
    run_async_to_sync_on(loop)
