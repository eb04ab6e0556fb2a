"""The PEP 3333 environ for one aiohttp request."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote_to_bytes

from aiohttp import hdrs, web
from aiohttp.http import HttpVersion10, HttpVersion11

from .body import InputStream

__all__ = ["URL_SCHEME", "add_request_meta", "make_environ", "path_info"]

#: App key: the scheme forced for every request of the app (``url_scheme="https"`` behind a
#: proxy that terminates TLS); the WSGI path and lifted views both read it through
#: :func:`add_request_meta`, so they never disagree about a request's scheme.
URL_SCHEME = web.AppKey("aiodjango_url_scheme", str)


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


def path_info(raw_path: str) -> str:
    """The percent-decoded path as latin-1 text (PEP 3333), so that any bytes round-trip.

    Decoded exactly once: lifted routes match the same text (``django_path``), so a request
    reaches the view Django's ``resolve()`` would pick for this PATH_INFO.
    """
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
    path = path_info(url.raw_path)
    if script_name and not path.startswith(script_name):
        raise web.HTTPNotFound()
    environ["SCRIPT_NAME"] = script_name
    environ["PATH_INFO"] = path[len(script_name) :]
    # The request target exactly as sent, as gunicorn (RAW_URI) and mod_wsgi (REQUEST_URI) give it.
    environ["RAW_URI"] = environ["REQUEST_URI"] = request.raw_path
    version = request.version
    environ["SERVER_PROTOCOL"] = _PROTOCOLS.get(version) or f"HTTP/{version[0]}.{version[1]}"
    environ["wsgi.input"] = body
    environ["aiohttp.request"] = request
    # "Content-Length: 0" is announced as "0", like gunicorn and wsgiref; no body, no key.
    if size or request.body_exists or request.content_length is not None:
        environ["CONTENT_LENGTH"] = str(size)
    add_request_meta(environ, request)
    return environ


def add_request_meta(meta: dict[str, Any], request: web.BaseRequest) -> None:
    """Add what a request says about itself: method, query, scheme, headers, addresses.

    The one place that decides a request's scheme, host and client, from ``request.scheme``,
    ``request.host`` and ``request.remote`` (which trusted forwarded headers set), for the WSGI
    path (:func:`make_environ`) and for lifted views (Django's view of their request) alike.
    ``wsgi.url_scheme`` is kept when ``meta`` already has it (a forced scheme). Repeated
    headers are joined with ","; repeated ``Cookie`` headers with "; " (RFC 6265), so cookie
    parsers see every pair.
    """
    meta["REQUEST_METHOD"] = request.method
    meta["QUERY_STRING"] = request.rel_url.raw_query_string
    if "wsgi.url_scheme" not in meta:
        meta["wsgi.url_scheme"] = request.scheme

    keys = _HEADER_KEYS
    for raw_name, raw_value in request.raw_headers:
        key = keys.get(raw_name)
        if key is None:
            key = _header_key(raw_name)
        if not key:
            continue
        value = raw_value.decode("latin-1")
        if key in meta:
            value = meta[key] + ("; " if key == "HTTP_COOKIE" else ",") + value
        meta[key] = value

    transport = request.transport
    peer = transport.get_extra_info("peername") if transport is not None else None
    local = transport.get_extra_info("sockname") if transport is not None else None
    # request.remote is the peer's address, or the client's when a trusted proxy told it
    # (aiodjango.server.proxy clones the request): the one fact every path reads.
    remote = request.remote or ""
    # REMOTE_HOST is the address too: resolving names would block on DNS (CGI allows it).
    meta["REMOTE_ADDR"] = meta["REMOTE_HOST"] = remote
    if isinstance(peer, tuple) and peer[0] == remote:
        meta["REMOTE_PORT"] = str(peer[1])  # a forwarded client's port is not known
    if "HTTP_HOST" in meta:
        host = request.host  # the Host header, or the forwarded host of a trusted proxy
        if host != request.headers.get(hdrs.HOST):
            meta["HTTP_HOST"] = host
            local = None  # SERVER_NAME and SERVER_PORT follow the forwarded host
    if isinstance(local, tuple):
        meta["SERVER_NAME"] = local[0]
        meta["SERVER_PORT"] = str(local[1])
    else:
        meta["SERVER_NAME"], meta["SERVER_PORT"] = _split_host(
            meta.get("HTTP_HOST", "localhost"), meta["wsgi.url_scheme"]
        )
