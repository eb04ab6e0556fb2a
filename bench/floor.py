"""The floor of scenario 1: Django's WSGI handler called directly, plus a raw aiohttp handler.

``python -m bench.floor CALLS``, run in a benchmark server's environment (the same settings and
middleware stack, pinned to the servers' core), calls the project's WSGI application ``CALLS``
times for ``GET /hello/`` without any server and prints the CPU seconds of one call. Added to
the CPU per request of the raw aiohttp handler measured in the same run (scenario 3), it is the
least a server that parses HTTP with aiohttp and runs Django in Python can spend per request.
"""

from __future__ import annotations

import io
import sys
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .report import Row

#: The request of scenario 1, as the WSGI environ a server would build for it.
HELLO_ENVIRON: dict[str, Any] = {
    "REQUEST_METHOD": "GET",
    "SCRIPT_NAME": "",
    "PATH_INFO": "/hello/",
    "QUERY_STRING": "",
    "SERVER_NAME": "127.0.0.1",
    "SERVER_PORT": "8000",
    "SERVER_PROTOCOL": "HTTP/1.1",
    "REMOTE_ADDR": "127.0.0.1",
    "HTTP_HOST": "127.0.0.1:8000",
    "wsgi.version": (1, 0),
    "wsgi.url_scheme": "http",
    "wsgi.errors": sys.stderr,
    "wsgi.multithread": True,
    "wsgi.multiprocess": False,
    "wsgi.run_once": False,
}


def cpu_per_call(calls: int) -> float:
    """The CPU seconds of one call of the project's WSGI application, response consumed."""
    from django.core.wsgi import get_wsgi_application

    application = get_wsgi_application()

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        return None

    def call() -> None:
        environ = {**HELLO_ENVIRON, "wsgi.input": io.BytesIO()}
        response = application(environ, start_response)
        try:
            for _ in response:
                pass
        finally:
            response.close()

    for _ in range(min(calls, 1000)):  # warm-up: imports, first-use caches
        call()
    started = time.process_time()
    for _ in range(calls):
        call()
    return (time.process_time() - started) / calls


def floor(django_cpu: float, rows: Sequence[Row]) -> dict[str, float] | None:
    """Scenario 1's floor, beside aiodjango's figure, in µs of CPU per request (None without
    the raw aiohttp handler's row of scenario 3)."""
    found = {(row.scenario, row.server): row.cpu_per_request for row in rows}
    raw_aiohttp = found.get(("3", "aiohttp"))
    if raw_aiohttp is None:
        return None
    result = {
        "django_us": django_cpu * 1e6,
        "aiohttp_us": raw_aiohttp * 1e6,
        "floor_us": (django_cpu + raw_aiohttp) * 1e6,
    }
    ours = found.get(("1", "aiodjango"))
    if ours is not None:
        result["aiodjango_us"] = ours * 1e6
    return result


def describe(figures: dict[str, float]) -> str:
    """One sentence for the results: the floor, and how far above it aiodjango is."""
    text = (
        f"Floor of scenario 1: {figures['floor_us']:.0f} µs of CPU per request (Django's WSGI "
        f"handler called directly, {figures['django_us']:.0f} µs, plus the raw aiohttp handler "
        f"of scenario 3, {figures['aiohttp_us']:.0f} µs, both measured in this run)"
    )
    if "aiodjango_us" in figures:
        ratio = figures["aiodjango_us"] / figures["floor_us"]
        text += f"; aiodjango: {figures['aiodjango_us']:.0f} µs, {ratio:.2f}x the floor"
    return text + "."


if __name__ == "__main__":
    print(cpu_per_call(int(sys.argv[1])))
