"""Who is in the chat room, and telling all of them something.

The room lives in the process: with several gunicorn workers each worker has its
own room (a production chat would put a broker such as Redis between them).
"""

import asyncio
import contextlib
import json
from typing import Any

from aiohttp import web


class Room:
    """The websockets connected to the chat, and the feed listeners that watch it."""

    def __init__(self) -> None:
        self.sockets: set[web.WebSocketResponse] = set()
        self.listeners: set[asyncio.Queue[dict[str, Any]]] = set()

    async def broadcast(self, event: dict[str, Any]) -> None:
        """Send ``event`` to every socket in the room and every feed listener."""
        text = json.dumps(event)
        sockets = [socket for socket in self.sockets if not socket.closed]
        await asyncio.gather(*(socket.send_str(text) for socket in sockets), return_exceptions=True)
        for queue in self.listeners:
            # A listener that stopped reading misses events rather than growing without bound.
            with contextlib.suppress(asyncio.QueueFull):
                queue.put_nowait(event)


room = Room()
