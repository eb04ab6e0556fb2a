"""Shared pieces of the reliability suite: the figures it reports, soak selection, measurements.

Every test that measures something (requests sent and lost, 503s, RSS, descriptors, threads)
records it with the ``figures`` fixture; the figures of the whole run are printed at the end of
pytest's report, so a CI log shows them next to the verdict.

Soak tests (``@pytest.mark.soak``) are long variants of the load tests: they only run when the
marker expression asks for them (``pytest -m soak``) and are deselected otherwise.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import pytest
from _pytest.terminal import TerminalReporter

# Real servers as subprocesses, killed at the end of each test.
from tests.integration.conftest import start_server

__all__ = ["start_server"]

MiB = 1024 * 1024


@dataclass
class Figures:
    """The figures of one test, in the order they were recorded."""

    test: str
    values: dict[str, object] = field(default_factory=dict)

    def __setitem__(self, name: str, value: object) -> None:
        self.values[name] = value

    def __getitem__(self, name: str) -> object:
        return self.values[name]


_RECORDED: list[Figures] = []


@pytest.fixture
def figures(request: pytest.FixtureRequest) -> Figures:
    """Where a test records its figures (``figures["lost"] = 0``) for the end-of-run report."""
    recorded = Figures(request.node.nodeid.split("::", 1)[-1])
    _RECORDED.append(recorded)
    return recorded


def pytest_terminal_summary(terminalreporter: TerminalReporter) -> None:
    shown = [f for f in _RECORDED if f.values]
    if not shown:
        return
    terminalreporter.section("reliability figures")
    for recorded in shown:
        terminalreporter.write_line(recorded.test)
        for name, value in recorded.values.items():
            terminalreporter.write_line(f"    {name}: {value}")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect soak tests unless the marker expression names them."""
    if "soak" in (config.getoption("markexpr", "") or ""):
        return
    soak = [item for item in items if item.get_closest_marker("soak") is not None]
    if soak:
        config.hook.pytest_deselected(items=soak)
        items[:] = [item for item in items if item.get_closest_marker("soak") is None]


# Measurements of a process (this one or a server subprocess), read from /proc.


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
