"""Applications the server tests serve, in this process or in a subprocess.

``application`` is a PEP 3333 app wrapped in ``wsgiref.validate.validator``: it answers JSON
describing the request, so a test can check what reached it. Two paths behave differently:

* ``/slow`` waits at a :class:`Gate` until the test releases it (a request held in flight);
* ``/threads`` sleeps briefly and reports the worker thread, so concurrent requests overlap.

Run as ``python -m tests.server.apps [--port N | --unix-socket PATH]`` it calls
:func:`aiodjango.server.serve` with a websocket route and an ``on_finish`` callback that
appends a line to the file named by ``$SERVER_TEST_FINISH``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment
from wsgiref.validate import validator

from aiohttp import web

from aiodjango.server import serve

GATE_ENV = "SERVER_TEST_GATE"
FINISH_ENV = "SERVER_TEST_FINISH"
NOT_CALLABLE = 42


class Gate:
    """Hold a request inside the app until the test opens the gate; works across processes."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.started = self.directory / "started"
        self.released = self.directory / "released"

    def enter(self, limit: float = 60.0) -> bool:
        """Say a request arrived, then wait to be released; False if never released."""
        self.started.touch()
        deadline = time.monotonic() + limit
        while not self.released.exists():
            if time.monotonic() > deadline:
                return False
            # The server's side of the gate: a worker thread of another process, polling the
            # file the test creates (tests.support.waiting is the test's side, on its loop).
            time.sleep(0.01)
        return True

    def release(self) -> None:
        self.released.touch()


def make_app(gate: Gate | None = None) -> WSGIApplication:
    """A validator-wrapped WSGI app describing each request as JSON."""

    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        path = environ["PATH_INFO"]
        if path == "/slow":
            assert gate is not None, "this app has no gate"
            released = gate.enter()
            body = b"finished" if released else b"never released"
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [body]
        if path == "/threads":
            time.sleep(0.3)  # the behaviour: a slow view, so that concurrent requests overlap
        length = int(environ.get("CONTENT_LENGTH") or 0)
        description = {
            "method": environ["REQUEST_METHOD"],
            "script_name": environ["SCRIPT_NAME"],
            "path_info": path,
            "query_string": environ.get("QUERY_STRING", ""),
            "url_scheme": environ["wsgi.url_scheme"],
            "remote_addr": environ.get("REMOTE_ADDR"),
            "remote_port": environ.get("REMOTE_PORT"),
            "host": environ.get("HTTP_HOST"),
            "body": environ["wsgi.input"].read(length).decode("latin-1"),
            "thread": threading.get_ident(),
        }
        start_response("200 OK", [("Content-Type", "application/json")])
        return [json.dumps(description).encode()]

    return validator(app)


gate_directory = os.environ.get(GATE_ENV)
application = make_app(Gate(gate_directory) if gate_directory else None)


async def websocket_echo(request: web.Request) -> web.WebSocketResponse:
    """A native aiohttp route: echoes text messages until the socket closes."""
    ws = web.WebSocketResponse()
    await ws.prepare(request)
    async for message in ws:
        await ws.send_str(message.data)
    return ws


async def native(request: web.Request) -> web.Response:
    return web.Response(text="native aiohttp route")


async def whoami(request: web.Request) -> web.Response:
    """Who the request says the client is: its address, scheme and host."""
    return web.json_response(
        {"remote": request.remote, "scheme": request.scheme, "host": request.host}
    )


def make_aiohttp_app() -> web.Application:
    """An aiohttp application, as get_aio_application() returns, with one native route."""
    app = web.Application()
    app.router.add_get("/native", native)
    app.router.add_get("/whoami", whoami)
    return app


aiohttp_application = make_aiohttp_app()


def record_finish() -> None:
    with open(os.environ[FINISH_ENV], "a") as marker:
        marker.write("on_finish\n")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--unix-socket")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO)
    serve(
        application,
        host="127.0.0.1",
        port=args.port,
        unix_socket=args.unix_socket,
        routes=[("GET", "/ws", websocket_echo), ("GET", "/native", native)],
        on_finish=[record_finish],
        shutdown_timeout=30.0,
    )


if __name__ == "__main__":
    main()
