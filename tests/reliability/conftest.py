"""Shared pieces of the reliability suite: the figures it reports, soak selection.

Every test that measures something (requests sent and lost, 503s, RSS, descriptors, threads)
records it with the ``figures`` fixture; the figures of the whole run are printed at the end of
pytest's report, so a CI log shows them next to the verdict.

Soak tests (``@pytest.mark.soak``) are long variants of the load tests: they only run when the
marker expression asks for them (``pytest -m soak``) and are deselected otherwise.
"""

from __future__ import annotations

import pytest
from _pytest.terminal import TerminalReporter

from tests.support.measures import Figures

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
