"""The benchmark harness still works: ``python -m bench --quick`` measures every scenario with
every server that takes part, and writes its table, JSON and chart.

Only that it runs is checked; no timing is asserted (speed belongs to the benchmark itself).
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench.scenarios import QUICK, SCENARIOS
from bench.servers import ROOT, Peer, peers

pytestmark = pytest.mark.slow


def expected_rows() -> set[tuple[str, str]]:
    return {
        (scenario.key, peer.name)
        for scenario in SCENARIOS
        for peer in peers(QUICK.threads)
        if scenario.takes_part(peer)
    }


def test_every_scenario_and_server_appears() -> None:
    """Every scenario has at least one server and every server takes part somewhere."""
    rows = expected_rows()
    assert {key for key, _ in rows} == {s.key for s in SCENARIOS}
    assert {name for _, name in rows} == {p.name for p in peers(QUICK.threads)}


@pytest.mark.timeout(400)
def test_quick_run_measures_everything(tmp_path: Path) -> None:
    out = tmp_path / "results"
    run = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=380,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]

    data = json.loads((out / "latest.json").read_text())
    assert data["run"]["mode"] == "quick"
    rows = data["rows"]
    assert {(r["scenario"], r["server"]) for r in rows} == expected_rows()
    assert len(rows) == len(expected_rows())
    for row in rows:
        assert row["failure"] is None, row
        assert row["peak_rss"] and row["peak_rss"] > 0, row
    by_kind = {(r["scenario"], r["server"]): r for r in rows}
    for key, name in expected_rows():
        row = by_kind[key, name]
        if key in ("1", "2", "3", "8", "9"):
            assert row["rate"] > 0 and row["non_2xx"] == 0, row
        elif key in ("4 stream", "4 file", "5"):
            assert row["metrics"]["bytes_per_second"] > 0, row
        elif key == "7":
            assert row["metrics"]["held"] == QUICK.sockets and row["errors"] == 0, row
    assert data["machine"]["cores"] >= 1 and data["machine"]["versions"]["aiodjango"]
    assert {t["scenario"] for t in data["targets"]} == {
        *("1", "3", "4 stream", "4 file", "6", "7", "8", "9", "10")
    }
    # Scenario 1's floor: Django called directly plus the raw aiohttp handler, in this run.
    floor = data["run"]["floor"]
    assert floor["floor_us"] == pytest.approx(floor["django_us"] + floor["aiohttp_us"])
    assert floor["django_us"] > 0 and floor["aiohttp_us"] > 0 and floor["aiodjango_us"] > 0

    # The printed table has a line per row, and the files the docs include exist.
    table_lines = [line for line in run.stdout.splitlines() if line[:1].isdigit()]
    assert len(table_lines) == len(rows)
    assert "Targets:" in run.stdout
    rst = (out / "latest.rst").read_text()
    assert ".. list-table::" in rst and "aiohttp-wsgi" in rst
    assert "Floor of scenario 1: " in rst
    assert (out / "latest.md").read_text().count("\n| ") >= len(rows)
    assert (out / "latest.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_chart_of_a_run_of_some_scenarios(tmp_path: Path) -> None:
    """``--scenario`` runs leave panels empty: the chart says so instead of failing."""
    from bench.chart import chart
    from bench.report import load

    rows, _ = load(ROOT / "bench" / "results" / "latest.json")
    only_three = [row for row in rows if row.scenario == "3"]
    assert only_three
    chart(tmp_path / "partial.png", only_three, "scenario 3 only")
    assert (tmp_path / "partial.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def crashing_peer(marker: Path, crashes: int) -> Peer:
    """The raw aiohttp peer, behind a wrapper that exits with 1 the first ``crashes`` times."""
    serve = " ".join(peers(QUICK.threads)[-1].argv(0, QUICK.threads)).replace(":0 ", ":$1 ")
    script = (
        f"n=$(cat {marker} 2>/dev/null || echo 0); echo $((n + 1)) > {marker}; "
        f'[ "$n" -lt {crashes} ] && {{ echo "crash number $n"; exit 1; }}; exec {serve}'
    )
    return Peer(
        "crashing aiohttp",
        "aiohttp",
        "the raw aiohttp peer, crashing at first",
        lambda port, threads: ["sh", "-c", script, "sh", str(port)],
        frozenset({"lifted"}),
        probe="/async/hello/",
    )


@pytest.mark.parametrize("crashes", [1, 2])
def test_a_peer_that_crashes_is_started_again_once(tmp_path: Path, crashes: int) -> None:
    """One crash costs a round and is noted; a second one fails the row with the peer's log."""
    from bench.run import Servers, run_scenario

    scenario = next(s for s in SCENARIOS if s.key == "3")
    marker = tmp_path / "starts"
    servers = Servers(QUICK, tmp_path, keep=False)
    [row] = asyncio.run(run_scenario(scenario, [crashing_peer(marker, crashes)], servers, QUICK))
    assert int(marker.read_text()) == 2  # started, crashed, started once more
    if crashes == 1:
        assert row.failure is None and row.rate and row.rate > 0
        assert "restarted once after a crash" in row.notes
    else:
        assert row.failure is not None and "crash number 1" in row.failure
    assert (tmp_path / "crashing-aiohttp-bare.crashed.log").read_text().startswith("crash")
