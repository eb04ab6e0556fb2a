"""The servers under test: how each peer is started, and what it costs the machine.

Every server runs the project in ``bench/site`` as a subprocess bound to 127.0.0.1 on a free
port, in a process group of its own (so that stopping it stops its workers too), pinned to
the server core when the machine has more than one. Memory and CPU time are read from
``/proc`` for the server process and all its descendants, because gunicorn and granian serve
from child processes.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent

# Cores: the load generator (and this harness) on the first, servers on the second.
LOAD_CORE = 0
SERVER_CORE = 1


def can_pin() -> bool:
    """Whether load generator and server can get a core each."""
    return (os.cpu_count() or 1) >= 2 and shutil.which("taskset") is not None


def pinned(argv: list[str], core: int) -> list[str]:
    """``argv`` run on ``core`` alone, where the machine allows it."""
    return ["taskset", "--cpu-list", str(core), *argv] if can_pin() else argv


@dataclass(frozen=True)
class Peer:
    """One server that the benchmark compares: how it is started and what it can serve.

    ``serves`` names the kinds of view it runs: ``sync`` (Django's sync views), ``lifted``
    (a coroutine view outside Django: aiodjango's lifted views, a raw aiohttp handler),
    ``django-async`` (a Django async view) and ``websocket``.
    """

    name: str
    package: str  # the distribution whose version the report shows
    config: str  # processes and threads, as the table shows them
    argv: Callable[[int, int], list[str]]  # (port, threads) -> command line
    serves: frozenset[str]
    probe: str = "/hello/"  # a URL answering 200 once the server is up


# A sync worker busy with a 1 GiB body must not be taken for a hung one; stopping stays quick.
_GUNICORN_TIMEOUTS = ("--timeout", "600", "--graceful-timeout", "5")


def _gunicorn_aiohttp(
    target: str, worker: str = "GunicornWebWorker"
) -> Callable[[int, int], list[str]]:
    def argv(port: int, threads: int) -> list[str]:
        return [
            str(BIN / "gunicorn"),
            target,
            "--worker-class",
            f"aiohttp.worker.{worker}",
            "--workers",
            "1",
            "--bind",
            f"127.0.0.1:{port}",
            *_GUNICORN_TIMEOUTS,
        ]

    return argv


def _gunicorn(worker_class: str) -> Callable[[int, int], list[str]]:
    def argv(port: int, threads: int) -> list[str]:
        return [
            str(BIN / "gunicorn"),
            "bench.site.wsgi:application",
            "--worker-class",
            worker_class,
            "--workers",
            "1",
            *(["--threads", str(threads)] if worker_class == "gthread" else []),
            "--bind",
            f"127.0.0.1:{port}",
            *_GUNICORN_TIMEOUTS,
        ]

    return argv


def _aiohttp_wsgi(port: int, threads: int) -> list[str]:
    return [
        str(BIN / "aiohttp-wsgi-serve"),
        "bench.site.wsgi:application",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--threads",
        str(threads),
        "--quiet",
    ]


def _granian(port: int, threads: int) -> list[str]:
    return [
        str(BIN / "granian"),
        "--interface",
        "wsgi",
        "bench.site.wsgi:application",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
        "--runtime-threads",
        "1",
        "--blocking-threads",
        str(threads),
        "--no-ws",
        "--log-level",
        "warning",
    ]


def _uvicorn(port: int, threads: int) -> list[str]:
    return [
        str(BIN / "uvicorn"),
        "bench.site.asgi:application",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--loop",
        "uvloop",
        "--http",
        "httptools",
        "--no-access-log",
        "--log-level",
        "warning",
    ]


#: aiodjango on uvloop: its rows note their ratio to aiodjango's on asyncio's loop.
UVLOOP_PEER = "aiodjango uvloop"


def peers(threads: int) -> list[Peer]:
    """Every server of the comparison, in the order the table lists them."""
    return [
        Peer(
            "aiodjango",
            "aiodjango",
            f"1 process: asyncio event loop + {threads} threads (gunicorn aiohttp worker)",
            _gunicorn_aiohttp("bench.site.wsgi:app"),
            frozenset({"sync", "lifted", "django-async", "websocket"}),
        ),
        Peer(
            UVLOOP_PEER,
            "aiodjango",
            f"the same on uvloop: event loop + {threads} threads (gunicorn aiohttp uvloop worker)",
            _gunicorn_aiohttp("bench.site.wsgi:app", "GunicornUVLoopWebWorker"),
            frozenset({"sync", "lifted"}),
        ),
        Peer(
            "aiodjango threads",
            "aiodjango",
            f"1 process: event loop + {threads} threads; async views in the threads too",
            _gunicorn_aiohttp("bench.site.wsgi:threaded_app"),
            frozenset({"django-async"}),
        ),
        Peer(
            "aiohttp-wsgi",
            "aiohttp-wsgi",
            f"1 process: event loop + {threads} threads",
            _aiohttp_wsgi,
            frozenset({"sync"}),
        ),
        Peer(
            "gunicorn sync",
            "gunicorn",
            "1 worker x 1 thread",
            _gunicorn("sync"),
            frozenset({"sync"}),
        ),
        Peer(
            "gunicorn gthread",
            "gunicorn",
            f"1 worker x {threads} threads",
            _gunicorn("gthread"),
            frozenset({"sync"}),
        ),
        Peer(
            "granian",
            "granian",
            f"1 worker: 1 runtime thread + {threads} blocking threads (WSGI)",
            _granian,
            frozenset({"sync"}),
        ),
        Peer(
            "uvicorn",
            "uvicorn",
            "1 process: event loop (uvloop, httptools); sync views on 1 thread (asgiref)",
            _uvicorn,
            frozenset({"sync", "django-async"}),
        ),
        Peer(
            "aiohttp",
            "aiohttp",
            "1 process: event loop, no Django (gunicorn aiohttp worker)",
            _gunicorn_aiohttp("bench.site.raw:app"),
            frozenset({"lifted", "websocket"}),
            probe="/async/hello/",
        ),
    ]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class ServerFailed(Exception):
    """A server did not start, or died; the message carries the end of its log."""


class Server:
    """A running peer: its process tree, its address and its use of memory and CPU."""

    def __init__(self, peer: Peer, env: Mapping[str, str], threads: int, log: Path) -> None:
        self.peer = peer
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.argv = peer.argv(self.port, threads)
        self.log = log
        with log.open("wb") as output:
            self.process = subprocess.Popen(
                pinned(self.argv, SERVER_CORE),
                cwd=ROOT,
                env={**os.environ, **env},
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def url(self, path: str) -> str:
        return self.base + path

    def wait_ready(self, timeout: float = 60.0) -> None:
        """Wait until the probe URL answers 200; raise ServerFailed if it never does."""
        deadline = time.monotonic() + timeout
        while True:
            self.check_alive()
            try:
                with urllib.request.urlopen(self.url(self.peer.probe), timeout=2) as response:
                    if response.status == 200:
                        return
            except (OSError, urllib.error.URLError):
                pass
            if time.monotonic() > deadline:
                raise ServerFailed(f"{self.peer.name} did not answer within {timeout:.0f} s")
            time.sleep(0.1)

    def check_alive(self) -> None:
        if self.process.poll() is not None:
            raise ServerFailed(
                f"{self.peer.name} exited with status {self.process.returncode}: {self.log_tail()}"
            )

    def log_tail(self, lines: int = 5) -> str:
        try:
            text = self.log.read_text(errors="replace")
        except OSError:
            return ""
        return " | ".join(text.strip().splitlines()[-lines:])

    def pids(self) -> list[int]:
        """The server process and all its descendants."""
        return process_tree(self.process.pid)

    def reset_peak(self) -> int:
        """Restart the peak-RSS count of every server process; return their RSS now."""
        for pid in self.pids():
            try:
                with open(f"/proc/{pid}/clear_refs", "w") as clear_refs:
                    clear_refs.write("5")  # 5: reset the peak resident set size (VmHWM)
            except OSError:
                pass  # not allowed: the peak then counts from the process's start
        return self.rss()

    def rss(self) -> int:
        """Resident memory of the process tree now, in bytes."""
        return sum(_status_kib(pid, "VmRSS") for pid in self.pids()) * 1024

    def peak_rss(self) -> int:
        """The sum of each server process's peak resident memory (VmHWM), in bytes."""
        return sum(_status_kib(pid, "VmHWM") for pid in self.pids()) * 1024

    def cpu_seconds(self) -> float:
        """User and system CPU time used so far by the process tree."""
        return sum(_cpu_seconds(pid) for pid in self.pids())

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM the server's process group, then SIGKILL it if it lingers."""
        if self.process.poll() is None:
            _signal_group(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                _signal_group(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout)
        # Workers that outlived their parent are still in the group.
        _signal_group(self.process.pid, signal.SIGKILL)


def _signal_group(pgid: int, signum: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signum)


def process_tree(root: int) -> list[int]:
    """``root`` and its descendants, from the parent pids in ``/proc/*/stat``."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rpartition(")")[2].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, ()))
    return tree


def _status_kib(pid: int, key: str) -> int:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass  # the process has just exited
    return 0


_TICKS = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICKS  # utime + stime
