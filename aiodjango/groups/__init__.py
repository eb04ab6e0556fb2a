"""Groups and broadcast for lifted websockets and server-sent events, on Channels' layers.

``join(request, socket, "chat")`` makes a prepared socket a member of groups for as long as it
is open; ``group_send("chat", {"type": ...})`` from sync code (or ``agroup_send`` from async
code, or Channels' own ``get_channel_layer().group_send``) reaches every member, in every
process and host that shares the channel layer (``CHANNEL_LAYERS``; in-memory without it).
"""

from __future__ import annotations

from .identity import LOGGED_OUT, refresh_user, session_group, user_group
from .members import CLOSE, DEFAULT_HEARTBEAT, DEFAULT_MAX_QUEUED, Membership, Render, join
from .relay import channel_layer
from .sending import aclose_group, agroup_send, close_group, group_send

__all__ = [
    "CLOSE",
    "DEFAULT_HEARTBEAT",
    "DEFAULT_MAX_QUEUED",
    "LOGGED_OUT",
    "Membership",
    "Render",
    "aclose_group",
    "agroup_send",
    "channel_layer",
    "close_group",
    "group_send",
    "join",
    "refresh_user",
    "session_group",
    "user_group",
]
