"""Small WSGI applications the adapter tests run."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any

StartResponse = Callable[..., Any]
Environ = dict[str, Any]


def echo(environ: Environ, start_response: StartResponse) -> list[bytes]:
    """Answer with the environ's text values and the request body, as JSON."""
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length)
    info: dict[str, object] = {k: v for k, v in environ.items() if isinstance(v, str)}
    info["body"] = body.decode("latin-1")
    info["has_aiohttp_request"] = "aiohttp.request" in environ
    info["has_executor"] = "asyncio.executor" in environ
    payload = json.dumps(info).encode()
    start_response(
        "200 OK",
        [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))],
    )
    return [payload]


def hello(environ: Environ, start_response: StartResponse) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"hello"]


class Closing:
    """An iterable body that counts its close() calls and the threads they ran on.

    ``complete=True`` marks it the way Django marks an ``HttpResponse`` (``streaming = False``).
    """

    def __init__(self, blocks: Iterable[bytes], complete: bool = False) -> None:
        self.blocks = list(blocks) if complete else blocks
        self.streaming = not complete
        self.closed = threading.Event()
        self.close_calls = 0
        self.close_thread: int | None = None

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.blocks)

    def close(self) -> None:
        self.close_calls += 1
        self.close_thread = threading.get_ident()
        self.closed.set()
