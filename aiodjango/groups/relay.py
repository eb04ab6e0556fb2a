"""One process's side of the channel layer: each group it has members in, joined once.

A Channels consumer gives every socket its own layer channel, so a ``group_send`` to 5,000
sockets is 5,000 deliveries through the layer. Here a process joins each group once, with one
layer channel per group, and fans each message out to its local members itself: the layer
(and Redis) carries one copy per process, whatever the number of sockets.

The layer may go away (Redis restarting). A group's receive loop then logs one warning, retries
with a growing pause and joins the group again once the layer answers, since a restarted Redis
has forgotten the memberships of the classic layer (the pub/sub layer's client re-subscribes by
itself). Memberships are also renewed now and then, before a layer's ``group_expiry`` drops them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from collections.abc import Callable
from typing import Any, Protocol

from channels.layers import InMemoryChannelLayer, get_channel_layer

__all__ = [
    "GroupRelays",
    "LayerMessage",
    "Receiver",
    "channel_layer",
    "existing_relays",
    "relays_for_this_loop",
]

logger = logging.getLogger("aiodjango.groups")

LayerMessage = dict[str, Any]

#: How long a first join waits for the layer before the socket goes on without it (the join is
#: retried in the background meanwhile), and the pauses between retries while it is away.
JOIN_WAIT = 5.0
RETRY_PAUSES = (0.2, 0.5, 1.0, 2.0)
#: Memberships are renewed this often: well within the layers' default group_expiry (1 day).
RENEW_EVERY = 3600.0


class Receiver(Protocol):
    """A local member of a group: gets every message the group receives, without waiting."""

    def offer(self, message: LayerMessage) -> None: ...


class _Group:
    """A group this process has members in: its layer channel and the loop receiving on it."""

    def __init__(self, relays: GroupRelays, name: str) -> None:
        self.name = name
        self.members: set[Receiver] = set()
        self.channel: str | None = None
        self.first_join: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.task = asyncio.ensure_future(self._receive(relays))
        self.joined = False

    async def _receive(self, relays: GroupRelays) -> None:
        layer = relays.layer
        failures = 0
        while True:
            try:
                if self.channel is None:
                    self.channel = await layer.new_channel()
                if not self.joined:
                    await layer.group_add(self.name, self.channel)
                    self.joined = True
                    if failures:
                        logger.warning("group %r: the channel layer is back", self.name)
                    failures = 0
                    _settle(self.first_join)
                message = await layer.receive(self.channel)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                # Redis restarting, or a network cut: keep the sockets, try again.
                if failures == 0:
                    logger.warning(
                        "group %r: the channel layer failed (%s: %s); retrying",
                        self.name,
                        type(error).__name__,
                        error,
                    )
                _settle(self.first_join)
                self.joined = False
                await asyncio.sleep(RETRY_PAUSES[min(failures, len(RETRY_PAUSES) - 1)])
                failures += 1
                continue
            # A member that overflows is closed by its own offer(); iterate over a copy.
            for member in tuple(self.members):
                member.offer(message)

    async def leave(self, layer: Any) -> None:
        """Stop receiving and leave the group on the layer (bounded: the layer may be away)."""
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task
        if self.channel is not None and self.joined:
            try:
                async with asyncio.timeout(JOIN_WAIT):
                    await layer.group_discard(self.name, self.channel)
            except Exception as error:
                logger.warning("group %r: leaving failed (%s)", self.name, error)


def _settle(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class GroupRelays:
    """The groups this process has local members in, on one event loop and one channel layer."""

    def __init__(self, layer: Any) -> None:
        self.layer = layer
        self.loop = asyncio.get_running_loop()
        self.groups: dict[str, _Group] = {}
        self._leaving: set[asyncio.Task[None]] = set()
        self._renewing: asyncio.Task[None] | None = None

    async def add(self, name: str, member: Receiver) -> None:
        """Make ``member`` receive the messages sent to group ``name``.

        The first local member joins the group on the layer; this waits for that join (at most
        :data:`JOIN_WAIT` seconds), so that a message sent once a socket has joined reaches it.
        """
        group = self.groups.get(name)
        if group is None:
            group = self.groups[name] = _Group(self, name)
            if self._renewing is None:
                self._renewing = asyncio.ensure_future(self._renew())
        group.members.add(member)
        if not group.first_join.done():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(group.first_join), JOIN_WAIT)

    def discard(self, name: str, member: Receiver) -> asyncio.Task[None] | None:
        """Stop ``member`` receiving group ``name``; the last local member leaves the group.

        Returns the task leaving the group on the layer, if there is one: callers may await it,
        and :meth:`wait_left` waits for all of them.
        """
        group = self.groups.get(name)
        if group is None or member not in group.members:
            return None
        group.members.discard(member)
        if group.members:
            return None
        del self.groups[name]  # a member joining from now on starts a new group
        task = asyncio.ensure_future(group.leave(self.layer))
        self._leaving.add(task)
        task.add_done_callback(self._leaving.discard)
        return task

    async def wait_left(self) -> None:
        """Wait until every group being left has been left on the layer."""
        while self._leaving:
            await asyncio.gather(*self._leaving, return_exceptions=True)

    async def _renew(self) -> None:
        # group_add again renews a membership's expiry (classic and in-memory layers).
        while True:
            await asyncio.sleep(RENEW_EVERY)
            for group in tuple(self.groups.values()):
                if group.joined and group.channel is not None:
                    try:
                        await self.layer.group_add(group.name, group.channel)
                    except Exception:
                        group.joined = False  # its receive loop joins again


_relays: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, GroupRelays] = (
    weakref.WeakKeyDictionary()
)
#: Called with the loop that serves sockets, when it gets its first member (see ``sending``).
on_first_relays: list[Callable[[asyncio.AbstractEventLoop], None]] = []


_embedded_layer: InMemoryChannelLayer | None = None


def channel_layer() -> Any:
    """The default layer of ``CHANNEL_LAYERS``; without that setting, one in-memory layer.

    The in-memory layer reaches the sockets of this process only: a project served by several
    processes sets ``CHANNEL_LAYERS`` to a Redis layer (a system check warns otherwise).
    """
    global _embedded_layer
    layer = get_channel_layer()
    if layer is not None:
        return layer
    if _embedded_layer is None:
        _embedded_layer = InMemoryChannelLayer()
    return _embedded_layer


def relays_for_this_loop() -> GroupRelays:
    """The running loop's :class:`GroupRelays`, on the default channel layer (made once)."""
    loop = asyncio.get_running_loop()
    relays = _relays.get(loop)
    if relays is None:
        relays = _relays[loop] = GroupRelays(channel_layer())
        for callback in on_first_relays:
            callback(loop)
    return relays


def existing_relays(loop: asyncio.AbstractEventLoop) -> GroupRelays | None:
    """The relays of ``loop``, if sockets on it have joined groups."""
    return _relays.get(loop)
