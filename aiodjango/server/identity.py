"""The ``Server`` header: what every response says about the software that sent it.

aiohttp announces itself as ``Python/3.x aiohttp/3.y``, which tells a scanner which known
vulnerabilities to try. aiodjango sends a name without versions instead, on every response of
the process: lifted views, static files, WSGI responses, websocket handshakes, and aiohttp's
own answers to malformed requests. A ``Server`` header set by a view is kept. The value is
one per process (it replaces aiohttp's default), so no response pays for a hook.
"""

from __future__ import annotations

import re
from typing import Final

from .._compat import set_default_server_header

__all__ = [
    "DEFAULT_SERVER_HEADER",
    "check_server_header",
    "chosen_server_header",
    "set_server_header",
]

#: The ``Server`` header sent by default: no version numbers.
DEFAULT_SERVER_HEADER: Final = "aiodjango"

_VISIBLE: Final = re.compile(r"[\x21-\x7e]+(?: [\x21-\x7e]+)*").fullmatch
_chosen: str | None = None


def check_server_header(value: str) -> None:
    """Raise ValueError naming ``value`` unless it can be a ``Server`` header."""
    if not isinstance(value, str) or _VISIBLE(value) is None:
        raise ValueError(
            f"server_header must be visible ASCII text (words separated by single spaces), "
            f"got {value!r}"
        )


def set_server_header(value: str) -> None:
    """Send ``Server: value`` on every response of this process instead of aiohttp's own."""
    global _chosen
    check_server_header(value)
    set_default_server_header(value)
    _chosen = value


def chosen_server_header() -> str | None:
    """The value given to :func:`set_server_header`, or None while aiohttp's is in use."""
    return _chosen
