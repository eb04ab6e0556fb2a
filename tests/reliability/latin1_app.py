"""A WSGI application whose reason and a header value are non-ASCII latin-1 text (PEP 3333)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any


def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    start_response("200 Ça va", [("X-Name", "café"), ("Content-Type", "text/plain")])
    return ["café".encode()]
