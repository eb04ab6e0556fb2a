"""Parsing the values of the command line's options: sizes, durations, modes, routes, peers.

Each parser raises ``argparse.ArgumentTypeError`` naming the text it could not use, which the
command line reports as one line.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

from .proxy import TrustedPeers

__all__ = [
    "bounded_int",
    "octal_mode",
    "positive_seconds",
    "seconds",
    "show_size",
    "size",
    "static_route",
    "trusted_peers",
]

_SIZE_SUFFIXES = {"k": 1024, "m": 1024**2, "g": 1024**3}


def size(text: str) -> int:
    """Parse a byte count: a plain integer, or one suffixed with K, M or G (powers of 1024)."""
    number, multiplier = text.strip(), 1
    if number[-1:].lower() in _SIZE_SUFFIXES:
        number, multiplier = number[:-1], _SIZE_SUFFIXES[number[-1].lower()]
    try:
        value = int(number) * multiplier
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a size in bytes: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"a size cannot be negative: {text!r}")
    return value


def show_size(value: int) -> str:
    """Write a byte count the way :func:`size` reads it, with the largest exact suffix."""
    for suffix, multiplier in reversed(_SIZE_SUFFIXES.items()):
        if value and value % multiplier == 0:
            return f"{value // multiplier}{suffix.upper()}"
    return str(value)


def octal_mode(text: str) -> int:
    """Parse file permissions written in octal, like ``600`` or ``0o660``."""
    try:
        mode = int(text, 8)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an octal file mode: {text!r}") from None
    if not 0 <= mode <= 0o777:
        raise argparse.ArgumentTypeError(f"file mode out of range: {text!r}")
    return mode


def static_route(text: str) -> tuple[str, str]:
    """Parse ``/url=directory``."""
    prefix, equals, directory = text.partition("=")
    if not equals or not prefix.startswith("/") or not directory:
        raise argparse.ArgumentTypeError(f"expected /url=directory, got {text!r}")
    return prefix, directory


def bounded_int(low: int, high: int | None = None) -> Callable[[str], int]:
    """A parser of integers from ``low`` to ``high`` (no upper bound if None)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
        if value < low or (high is not None and value > high):
            limits = f"from {low} to {high}" if high is not None else f"at least {low}"
            raise argparse.ArgumentTypeError(f"must be {limits}: {text!r}")
        return value

    return parse


def seconds(text: str) -> float:
    """Parse a duration in seconds, 0 or more."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be 0 or more: {text!r}")
    return value


def positive_seconds(text: str) -> float:
    """Parse a duration in seconds, more than 0."""
    value = seconds(text)
    if value == 0:
        raise argparse.ArgumentTypeError(f"must be more than 0: {text!r}")
    return value


def trusted_peers(text: str) -> TrustedPeers:
    """Parse a comma-separated list of addresses and CIDR networks, or ``*``."""
    try:
        return TrustedPeers(text, "")
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error).removeprefix(": ")) from None
