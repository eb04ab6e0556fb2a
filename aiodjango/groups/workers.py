"""How many processes will serve the project, as far as the environment tells.

The in-memory channel layer reaches the sockets of one process only; with several workers a
message would reach a fraction of them. gunicorn reads its worker count from ``-w``/``--workers``
on its command line, ``GUNICORN_CMD_ARGS``, a ``gunicorn.conf.py`` in the working directory, or
``WEB_CONCURRENCY``; the same places are looked at here, and the largest count found wins.
"""

from __future__ import annotations

import os
import re
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path

from channels.layers import InMemoryChannelLayer

from .relay import channel_layer

__all__ = ["in_memory_layer_with_workers", "worker_counts"]

_CONF_WORKERS = re.compile(r"^\s*workers\s*=\s*(\d+)\s*(#.*)?$", re.MULTILINE)


def _workers_in_args(args: Sequence[str]) -> int | None:
    for index, arg in enumerate(args):
        for flag in ("-w", "--workers"):
            if arg == flag and index + 1 < len(args) and args[index + 1].isdigit():
                return int(args[index + 1])
            if arg.startswith(f"{flag}=") and arg[len(flag) + 1 :].isdigit():
                return int(arg[len(flag) + 1 :])
            if flag == "-w" and arg.startswith("-w") and arg[2:].isdigit():
                return int(arg[2:])
    return None


def worker_counts() -> dict[str, int]:
    """Each place that sets a worker count, with the count it sets."""
    found: dict[str, int] = {}
    concurrency = os.environ.get("WEB_CONCURRENCY", "").strip()
    if concurrency.isdigit():
        found["WEB_CONCURRENCY"] = int(concurrency)
    from_env = _workers_in_args(shlex.split(os.environ.get("GUNICORN_CMD_ARGS", "")))
    if from_env is not None:
        found["GUNICORN_CMD_ARGS"] = from_env
    if Path(sys.argv[0]).name == "gunicorn":
        from_argv = _workers_in_args(sys.argv[1:])
        if from_argv is not None:
            found["gunicorn's command line"] = from_argv
    conf = Path("gunicorn.conf.py")
    if conf.is_file():
        match = _CONF_WORKERS.search(conf.read_text(errors="replace"))
        if match:
            found["gunicorn.conf.py"] = int(match[1])
    return found


def in_memory_layer_with_workers() -> tuple[str, int] | None:
    """Where more than one worker is asked for while the layer is in-memory, if it is."""
    if not isinstance(channel_layer(), InMemoryChannelLayer):
        return None
    several = {place: count for place, count in worker_counts().items() if count > 1}
    if not several:
        return None
    return max(several.items(), key=lambda item: item[1])
