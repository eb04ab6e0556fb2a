"""HTTP/1.1 spoken by hand: raw request bytes sent over a socket, the answer parsed."""

from __future__ import annotations

import asyncio
import http.client
import io
from dataclasses import dataclass
from typing import Any

from aiohttp.http_exceptions import BadHttpMessage
from aiohttp.http_parser import HttpRequestParser


class _Replay:
    def __init__(self, data: bytes) -> None:
        self._file = io.BytesIO(data)

    def makefile(self, *args: Any, **kwargs: Any) -> io.BytesIO:
        return self._file


@dataclass
class RawResponse:
    status: int
    headers: http.client.HTTPMessage
    body: bytes


def parse_response(raw: bytes, method: str = "GET") -> RawResponse:
    """Parse one HTTP/1.1 response (chunked or not) from the bytes a server sent."""
    response = http.client.HTTPResponse(_Replay(raw), method=method)  # type: ignore[arg-type]
    response.begin()
    return RawResponse(response.status, response.headers, response.read())


async def raw_request(address: tuple[str, int], data: bytes, method: str = "GET") -> RawResponse:
    """Send raw request bytes (which should ask for Connection: close) and parse the answer."""
    reader, writer = await asyncio.open_connection(*address)
    try:
        writer.write(data)
        raw = await asyncio.wait_for(reader.read(), 30)
    finally:
        writer.close()
    return parse_response(raw, method)


def aiohttp_headers(head: bytes) -> dict[str, str] | None:
    """The headers aiohttp's request parser (the one in use) reads from ``head``, or None if it
    refuses them: some of its rules changed between the versions we support."""
    loop = asyncio.new_event_loop()
    try:
        parser = HttpRequestParser(None, loop, 2**16)  # no protocol: no payload is read
        try:
            messages, _, _ = parser.feed_data(head)
        except BadHttpMessage:
            return None
        return dict(messages[0][0].headers)
    finally:
        loop.close()
