"""Server-wide defaults for websockets: a heartbeat and a maximum message size.

aiohttp's own defaults suit a library, not a server holding thousands of websockets: no
heartbeat (a client that vanished without closing holds its websocket, and a slot under
``max_websockets``, until the connection is cut) and messages of up to 4 MiB each. An
application with :data:`WEBSOCKET_DEFAULTS` gives every websocket it prepares the server's
values for what its view left at aiohttp's defaults; a view that passes its own value to
``web.WebSocketResponse(...)`` keeps it. The defaults are applied as the handshake is
prepared, by the same hook that remembers websockets for the shutdown
(:mod:`aiodjango.server.websockets`), so other requests pay nothing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Final

from aiohttp import web

from .._compat import AIOHTTP_WEBSOCKET_MAX_MSG_SIZE, fill_websocket_defaults

__all__ = [
    "DEFAULT_WEBSOCKET_HEARTBEAT",
    "DEFAULT_WEBSOCKET_MAX_MSG_SIZE",
    "WEBSOCKET_DEFAULTS",
    "WebSocketDefaults",
    "apply_websocket_defaults",
    "set_websocket_defaults",
]

DEFAULT_WEBSOCKET_HEARTBEAT: Final = 30.0
"""Seconds between pings on a quiet websocket; one without a pong in half that is closed.
Under the 60 s a proxy such as nginx waits for a quiet upstream connection by default."""
DEFAULT_WEBSOCKET_MAX_MSG_SIZE: Final = 1024**2
"""The largest message a websocket accepts (1 MiB); a larger one closes it with 1009."""


@dataclass(frozen=True)
class WebSocketDefaults:
    """The values a websocket gets when its view gives none.

    ``heartbeat`` is in seconds, 0 for no heartbeat; ``max_msg_size`` in bytes, 0 for no
    limit (aiohttp's meaning).
    """

    heartbeat: float = DEFAULT_WEBSOCKET_HEARTBEAT
    max_msg_size: int = DEFAULT_WEBSOCKET_MAX_MSG_SIZE

    def __post_init__(self) -> None:
        heartbeat = self.heartbeat
        if (
            not isinstance(heartbeat, (int, float))
            or isinstance(heartbeat, bool)
            or not 0 <= heartbeat < math.inf
        ):
            raise ValueError(
                f"websocket_heartbeat must be a number of seconds >= 0 (0: none), got {heartbeat!r}"
            )
        size = self.max_msg_size
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise ValueError(
                f"websocket_max_msg_size must be an integer >= 0 (0: no limit), got {size!r}"
            )


#: The websocket defaults of an application (and its sub-applications).
WEBSOCKET_DEFAULTS = web.AppKey("aiodjango.websocket_defaults", WebSocketDefaults)


def apply_websocket_defaults(request: web.Request, websocket: web.WebSocketResponse) -> None:
    """Give ``websocket``, being prepared for ``request``, its application's defaults."""
    defaults = request.config_dict.get(WEBSOCKET_DEFAULTS)
    if defaults is not None:
        fill_websocket_defaults(websocket, defaults.heartbeat or None, defaults.max_msg_size)


def set_websocket_defaults(
    app: web.Application, *, heartbeat: float | None = None, max_msg_size: int | None = None
) -> WebSocketDefaults:
    """Set the websocket defaults of ``app`` (None: leave that one as it is).

    An application without defaults yet (one aiodjango did not build) keeps aiohttp's for
    what is not given. Its websockets get them as they are prepared when it is served by a
    :class:`~aiodjango.server.Server`, which watches every response it prepares.
    """
    defaults = app.get(WEBSOCKET_DEFAULTS) or WebSocketDefaults(0, AIOHTTP_WEBSOCKET_MAX_MSG_SIZE)
    if heartbeat is not None:
        defaults = replace(defaults, heartbeat=heartbeat)
    if max_msg_size is not None:
        defaults = replace(defaults, max_msg_size=max_msg_size)
    app[WEBSOCKET_DEFAULTS] = defaults
    return defaults
