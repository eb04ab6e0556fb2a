"""Measurements of a process (this one or a server subprocess), read from /proc, and probes."""

from __future__ import annotations

import os
import socket
import threading
from dataclasses import dataclass, field

MiB = 1024 * 1024


def open_fds(pid: int | str = "self") -> int:
    """The number of file descriptors ``pid`` has open."""
    return len(os.listdir(f"/proc/{pid}/fd"))


def _status(pid: int | str, key: str) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise LookupError(f"{key} not in /proc/{pid}/status")


def rss(pid: int | str = "self") -> int:
    """The resident set size of ``pid``, in bytes."""
    return _status(pid, "VmRSS") * 1024


def thread_count(pid: int | str = "self") -> int:
    """The number of threads of ``pid``."""
    return _status(pid, "Threads")


def mib(size: int) -> str:
    return f"{size / MiB:.1f} MiB"


def pool_threads() -> list[threading.Thread]:
    """The WSGI adapter's worker threads in this process."""
    return [t for t in threading.enumerate() if t.name.startswith("aiodjango-wsgi")]


def refuses_connections(address: str | tuple[str, int]) -> bool:
    """Whether a new connection to ``address`` (a TCP pair or a unix socket path) is refused,
    that is whether the server's listening socket is closed."""
    family = socket.AF_UNIX if isinstance(address, str) else socket.AF_INET
    with socket.socket(family) as probe:
        try:
            probe.connect(address)
        except (ConnectionRefusedError, FileNotFoundError):
            return True
    return False


@dataclass
class Figures:
    """The figures of one test, in the order they were recorded (see the ``figures`` fixture)."""

    test: str
    values: dict[str, object] = field(default_factory=dict)

    def __setitem__(self, name: str, value: object) -> None:
        self.values[name] = value

    def __getitem__(self, name: str) -> object:
        return self.values[name]
