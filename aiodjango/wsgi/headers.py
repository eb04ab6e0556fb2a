"""The response head a WSGI application hands to ``start_response``, checked before it is used.

A bad status, a hop-by-hop header or a header carrying CR/LF never reaches the wire. Header
values and reasons are latin-1 text (PEP 3333); the check also tells whether any of them goes
beyond ASCII, because those must then be sent as latin-1 bytes, which aiohttp cannot do.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Final

__all__ = ["check_headers", "parse_status"]

# Names are tokens, values visible latin-1 (RFC 9110); no CR/LF smuggling.
_TOKEN: Final = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+").fullmatch
_BAD_VALUE: Final = re.compile(r"[^\t\x20-\x7e\x80-\xff]").search
_STATUS: Final = re.compile(r"([2-5][0-9][0-9]) ([\t\x20-\x7e\x80-\xff]*)").fullmatch
_HOP_BY_HOP: Final = frozenset(
    [
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "trailers",
        "transfer-encoding",
        "upgrade",
    ]
)
# Names and status lines already checked (bounded: an app could invent endless ones). A name
# maps to whether it is Content-Length.
_CHECKED_NAMES: dict[str, bool] = {}
_CHECKED_STATUSES: dict[str, tuple[int, str]] = {}
_CACHE_MAX: Final = 1024


def parse_status(status: str) -> tuple[int, str]:
    """The code and reason of a WSGI status line; ValueError naming it if it is not one."""
    parsed = _CHECKED_STATUSES.get(status)
    if parsed is None:
        match = _STATUS(status) if isinstance(status, str) else None
        if match is None:
            raise ValueError(
                f"bad status {status!r}: expected a code from 200 to 599, a space and a reason"
            )
        parsed = int(match[1]), match[2]
        if len(_CHECKED_STATUSES) < _CACHE_MAX:
            _CHECKED_STATUSES[status] = parsed
    return parsed


def _check_name(name: str) -> bool:
    if not isinstance(name, str) or _TOKEN(name) is None:
        raise ValueError(f"bad header name {name!r}: not an HTTP token")
    lower = name.lower()
    if lower in _HOP_BY_HOP:
        raise ValueError(f"hop-by-hop header {name!r}: the server manages the connection")
    if len(_CHECKED_NAMES) < _CACHE_MAX:
        _CHECKED_NAMES[name] = lower == "content-length"
    return lower == "content-length"


def check_headers(headers: Iterable[tuple[str, str]]) -> tuple[int | None, bool]:
    """Validate the application's headers: the Content-Length they declare, if any, and
    whether a value holds non-ASCII latin-1 text."""
    content_length = None
    ascii_only = True
    for name, value in headers:
        is_length = _CHECKED_NAMES.get(name)
        if is_length is None:
            is_length = _check_name(name)
        if not isinstance(value, str) or _BAD_VALUE(value) is not None:
            raise ValueError(
                f"bad value for header {name!r}: {value!r} (must be latin-1 text without CR/LF)"
            )
        if not value.isascii():
            ascii_only = False
        if is_length:
            digits = value.strip()
            if content_length is not None or not (digits.isascii() and digits.isdigit()):
                raise ValueError(f"bad or repeated Content-Length: {value!r}")
            content_length = int(digits)
    return content_length, not ascii_only
