"""The PEP 3333 environ for one aiohttp request."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote_to_bytes

from aiohttp import web
from aiohttp.http import HttpVersion10, HttpVersion11

from .body import InputStream

__all__ = ["make_environ"]


_PROTOCOLS = {HttpVersion11: "HTTP/1.1", HttpVersion10: "HTTP/1.0"}

# Header name as sent -> environ key ("" to leave the header out). Bounded, so that a client
# inventing header names cannot grow it without end.
_HEADER_KEYS: dict[bytes, str] = {}
_HEADER_KEYS_MAX = 1024


def _header_key(raw_name: bytes) -> str:
    name = raw_name.decode("latin-1").upper()
    if name == "CONTENT-TYPE":
        key = "CONTENT_TYPE"
    elif name == "CONTENT-LENGTH" or "_" in name:
        # CONTENT_LENGTH is the size actually read. Names with "_" are dropped because they
        # would share a key with their "-" spelling (X-User vs X_User): a spoofing vector.
        key = ""
    else:
        key = "HTTP_" + name.replace("-", "_")
    if len(_HEADER_KEYS) < _HEADER_KEYS_MAX:
        _HEADER_KEYS[raw_name] = key
    return key


def _path_info(raw_path: str) -> str:
    """The percent-decoded path as latin-1 text (PEP 3333), so that any bytes round-trip."""
    if "%" not in raw_path and raw_path.isascii():
        return raw_path
    return unquote_to_bytes(raw_path.encode("utf-8", "surrogateescape")).decode("latin-1")


def _split_host(host: str, scheme: str) -> tuple[str, str]:
    """SERVER_NAME and SERVER_PORT from a Host header, for a socket without an address."""
    name, colon, port = host.rpartition(":")
    if colon and port.isascii() and port.isdigit():
        return name, port
    return host, "443" if scheme == "https" else "80"


def make_environ(
    base: dict[str, Any],
    request: web.BaseRequest,
    script_name: str,
    body: InputStream,
    size: int,
) -> dict[str, Any]:
    """Build the environ for ``request`` on top of ``base``, the keys that never change.

    ``base`` holds the ``wsgi.*`` constants (and ``wsgi.url_scheme`` when it is forced);
    SCRIPT_NAME is the mount point and PATH_INFO the rest of the path.
    """
    environ = base.copy()
    url = request.rel_url
    path = _path_info(url.raw_path)
    if script_name and not path.startswith(script_name):
        raise web.HTTPNotFound()
    environ["REQUEST_METHOD"] = request.method
    environ["SCRIPT_NAME"] = script_name
    environ["PATH_INFO"] = path[len(script_name) :]
    environ["QUERY_STRING"] = url.raw_query_string
    # The request target exactly as sent, as gunicorn (RAW_URI) and mod_wsgi (REQUEST_URI) give it.
    environ["RAW_URI"] = environ["REQUEST_URI"] = request.raw_path
    version = request.version
    environ["SERVER_PROTOCOL"] = _PROTOCOLS.get(version) or f"HTTP/{version[0]}.{version[1]}"
    if "wsgi.url_scheme" not in environ:
        environ["wsgi.url_scheme"] = request.scheme
    environ["wsgi.input"] = body
    environ["aiohttp.request"] = request
    # "Content-Length: 0" is announced as "0", like gunicorn and wsgiref; no body, no key.
    if size or request.body_exists or request.content_length is not None:
        environ["CONTENT_LENGTH"] = str(size)

    keys = _HEADER_KEYS
    for raw_name, raw_value in request.raw_headers:
        key = keys.get(raw_name)
        if key is None:
            key = _header_key(raw_name)
        if not key:
            continue
        value = raw_value.decode("latin-1")
        if key in environ:
            # Repeated headers are joined as one list-valued header; cookies use their own
            # separator (RFC 6265) so that cookie parsers still see every pair.
            value = environ[key] + ("; " if key == "HTTP_COOKIE" else ",") + value
        environ[key] = value

    transport = request.transport
    peer = transport.get_extra_info("peername") if transport is not None else None
    local = transport.get_extra_info("sockname") if transport is not None else None
    if isinstance(peer, tuple):
        # REMOTE_HOST is the address too: resolving names would block on DNS (CGI allows it).
        environ["REMOTE_ADDR"] = environ["REMOTE_HOST"] = peer[0]
        environ["REMOTE_PORT"] = str(peer[1])
    else:  # a unix socket: no address to tell, and no port at all
        environ["REMOTE_ADDR"] = environ["REMOTE_HOST"] = ""
    if isinstance(local, tuple):
        environ["SERVER_NAME"] = local[0]
        environ["SERVER_PORT"] = str(local[1])
    else:
        environ["SERVER_NAME"], environ["SERVER_PORT"] = _split_host(
            environ.get("HTTP_HOST", "localhost"), environ["wsgi.url_scheme"]
        )
    return environ
