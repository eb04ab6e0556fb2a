"""A server for the memory test, run as ``python -m tests.wsgi.stream_server``.

It serves a generator yielding ``?mib=N`` blocks of 1 MiB and prints its port on stdout.
"""

from __future__ import annotations

import socket
import sys
from collections.abc import Iterator
from typing import Any

from aiohttp import web

from aiodjango.wsgi import WSGIHandler, add_wsgi_route

BLOCK = b"x" * (1 << 20)


def stream(environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
    count = int(environ["QUERY_STRING"].partition("mib=")[2] or 0)
    start_response("200 OK", [("Content-Type", "application/octet-stream")])
    for _ in range(count):
        yield BLOCK


def main() -> None:
    app = web.Application()
    add_wsgi_route(app.router, WSGIHandler(stream))
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)  # connections wait in the backlog until the loop runs
    print(sock.getsockname()[1], flush=True)
    web.run_app(app, sock=sock, print=None, handle_signals=True)
    sys.exit(0)


if __name__ == "__main__":
    main()
