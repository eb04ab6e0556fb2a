"""The results: one row per scenario and server, the machine, the targets, the files written.

The same rows are printed as a text table, written as Markdown, reStructuredText (included
by ``docs/benchmarks.rst``) and JSON, and drawn as a PNG chart stamped with the date and the
machine.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from . import floor

MiB = 1024**2
VERSIONED = (
    "aiodjango",
    "Django",
    "aiohttp",
    "aiohttp-wsgi",
    "gunicorn",
    "granian",
    "uvicorn",
    "uvloop",
    "httptools",
)


@dataclass
class Row:
    """What one server did in one scenario. Empty cells are ``None``."""

    scenario: str  # "1", "2", "3", "4 stream", "4 file", "5", "6" to "10"
    title: str
    server: str
    config: str
    rate: float | None = None  # requests per second
    p50: float | None = None  # seconds
    p99: float | None = None
    non_2xx: int | None = None
    errors: int | None = None  # socket errors, failed transfers or websockets
    peak_rss: int | None = None  # bytes, summed over the server's processes
    cpu_per_request: float | None = None  # server CPU seconds per request
    notes: str = ""
    metrics: dict[str, float] = field(default_factory=dict)
    failure: str | None = None


# The table's columns: heading and how a row fills it.
def _ms(value: float | None) -> str:
    return "" if value is None else f"{value * 1000:.1f}" if value < 0.1 else f"{value * 1000:.0f}"


def _count(value: int | float | None) -> str:
    return "" if value is None else f"{value:,.0f}"


COLUMNS: list[tuple[str, Callable[[Row], str]]] = [
    ("#", lambda r: r.scenario),
    ("scenario", lambda r: r.title),
    ("server", lambda r: r.server),
    ("req/s", lambda r: _count(r.rate)),
    ("p50 ms", lambda r: _ms(r.p50)),
    ("p99 ms", lambda r: _ms(r.p99)),
    ("non-2xx", lambda r: _count(r.non_2xx)),
    ("errors", lambda r: _count(r.errors)),
    ("peak RSS MiB", lambda r: "" if r.peak_rss is None else f"{r.peak_rss / MiB:.0f}"),
    (
        "CPU µs/req",
        lambda r: "" if r.cpu_per_request is None else f"{r.cpu_per_request * 1e6:.0f}",
    ),
    ("notes", lambda r: f"FAILED: {r.failure}" if r.failure else r.notes),
]


def cells(rows: Iterable[Row]) -> list[list[str]]:
    return [[fill(row) for _, fill in COLUMNS] for row in rows]


def text_table(rows: Sequence[Row]) -> str:
    """A plain table for the terminal."""
    headings = [name for name, _ in COLUMNS]
    body = cells(rows)
    widths = [max(len(line[i]) for line in [headings, *body]) for i in range(len(headings))]
    numeric = {"req/s", "p50 ms", "p99 ms", "non-2xx", "errors", "peak RSS MiB", "CPU µs/req"}

    def line(values: list[str]) -> str:
        return "  ".join(
            v.rjust(w) if h in numeric else v.ljust(w)
            for v, w, h in zip(values, widths, headings, strict=True)
        ).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(headings), rule, *(line(v) for v in body)])


def markdown_table(rows: Sequence[Row]) -> str:
    headings = [name for name, _ in COLUMNS]
    lines = ["| " + " | ".join(headings) + " |", "|" + "---|" * len(headings)]
    lines += [
        "| " + " | ".join(v.replace("|", "/") for v in values) + " |" for values in cells(rows)
    ]
    return "\n".join(lines)


def rst_table(headings: list[str], body: list[list[str]], widths: str = "") -> str:
    """A ``list-table`` directive: robust to long cells, unlike grid tables."""
    lines = [".. list-table::", "   :header-rows: 1"]
    if widths:
        lines.append(f"   :widths: {widths}")
    lines.append("")
    for values in [headings, *body]:
        for index, value in enumerate(values):
            text = value.replace("*", r"\*").replace("|", r"\|") or " "
            lines.append(f"   {'*' if index == 0 else ' '} - {text}")
    return "\n".join(lines)


def machine() -> dict[str, Any]:
    """What the numbers were measured on: CPU, cores, memory, kernel, Python and versions."""
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    cpu = line.partition(":")[2].strip()
                    break
    except OSError:
        pass
    memory = 0
    try:
        with open("/proc/meminfo") as meminfo:
            memory = int(meminfo.readline().split()[1]) * 1024
    except (OSError, IndexError, ValueError):
        pass
    versions = {}
    for name in VERSIONED:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    try:
        wrk = subprocess.run(["wrk", "-v"], capture_output=True, text=True, timeout=10)
        versions["wrk"] = (wrk.stdout or wrk.stderr).split()[1]
    except (OSError, IndexError, subprocess.SubprocessError):
        versions["wrk"] = "not installed"
    return {
        "cpu": cpu,
        "cores": os.cpu_count() or 1,
        "memory_gib": round(memory / 1024**3, 1),
        "kernel": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "versions": versions,
    }


def describe(info: dict[str, Any]) -> str:
    """The machine in one line, for the chart and the docs."""
    versions = ", ".join(f"{k} {v}" for k, v in info["versions"].items())
    return (
        f"{info['cpu']}, {info['cores']} cores, {info['memory_gib']} GiB, {info['kernel']}, "
        f"Python {info['python']}; {versions}"
    )


# Targets: each compares aiodjango's rows with a bound or with another server's row.


@dataclass(frozen=True)
class Target:
    scenario: str
    goal: str
    measured: str
    met: bool | None  # None: not measurable in this run


def _find(rows: Sequence[Row], scenario: str, server: str) -> Row | None:
    for row in rows:
        if row.scenario == scenario and row.server == server and row.failure is None:
            return row
    return None


def _ratio_target(
    rows: Sequence[Row], scenario: str, other: str, at_least: float, measure: str = "rate"
) -> Target:
    goal = f"aiodjango >= {at_least:g}x {other} (req/s)"
    ours, theirs = _find(rows, scenario, "aiodjango"), _find(rows, scenario, other)
    if ours is None or theirs is None or not ours.rate or not theirs.rate:
        return Target(scenario, goal, "not measured", None)
    ratio = ours.rate / theirs.rate
    detail = f"{ratio:.2f}x ({ours.rate:,.0f} / {theirs.rate:,.0f})"
    if ours.cpu_per_request and theirs.cpu_per_request:
        detail += f"; by CPU per request {theirs.cpu_per_request / ours.cpu_per_request:.2f}x"
    return Target(scenario, goal, detail, ratio >= at_least)


def targets(rows: Sequence[Row], sockets: int) -> list[Target]:
    """The issue's targets, evaluated on this run's rows."""
    found = [
        _ratio_target(rows, "1", "aiohttp-wsgi", 1.3),
        _ratio_target(rows, "1", "granian", 1.0),
        _ratio_target(rows, "3", "aiohttp", 0.9),
        _ratio_target(rows, "3", "uvicorn", 10.0),
    ]
    for scenario in ("4 stream", "4 file"):
        row = _find(rows, scenario, "aiodjango")
        goal = "RSS growth < 64 MiB, first byte < 100 ms, >= 1 GB/s"
        if row is None or "rss_growth" not in row.metrics:
            found.append(Target(scenario, goal, "not measured", None))
            continue
        growth, first, speed = (
            row.metrics["rss_growth"],
            row.metrics["first_byte"],
            row.metrics["bytes_per_second"],
        )
        found.append(
            Target(
                scenario,
                goal,
                f"+{growth / MiB:.1f} MiB, {first * 1000:.1f} ms, {speed / 1e9:.2f} GB/s",
                growth < 64 * MiB and first < 0.1 and speed >= 1e9,
            )
        )
    row = _find(rows, "6", "aiodjango")
    found.append(
        Target(
            "6",
            "lifted view p99 < 20 ms with every worker thread busy",
            "not measured" if row is None or row.p99 is None else f"{row.p99 * 1000:.1f} ms",
            None if row is None or row.p99 is None else row.p99 < 0.02,
        )
    )
    row = _find(rows, "7", "aiodjango")
    held = None if row is None else row.metrics.get("held")
    found.append(
        Target(
            "7",
            f"{sockets:,} websockets held with 0 errors",
            "not measured" if row is None else f"{held:,.0f} held, {row.errors} errors",
            None if row is None else held == sockets and row.errors == 0,
        )
    )
    found += _async_targets(rows)
    return found


def _async_targets(rows: Sequence[Row]) -> list[Target]:
    """(a) CPU per request against uvicorn, (b) the awaiting crowd served at >= 90% of the
    best possible rate (180 of 200 req/s in a full run), (c) the sync view's p99 beside it."""
    ours, uvicorn = _find(rows, "8", "aiodjango"), _find(rows, "8", "uvicorn")
    cpu = (ours.cpu_per_request, uvicorn.cpu_per_request) if ours and uvicorn else (None, None)
    crowd, beside = _find(rows, "9", "aiodjango"), _find(rows, "10", "aiodjango")
    best = crowd.metrics.get("best") if crowd else None
    # Errors and non-2xx answers count only where the load tool reported both.
    failures = (
        crowd.errors + crowd.non_2xx
        if crowd and crowd.errors is not None and crowd.non_2xx is not None
        else None
    )
    return [
        Target("8", "aiodjango >= 1x uvicorn per CPU-second", "not measured", None)
        if not (cpu[0] and cpu[1])
        else Target(
            "8",
            "aiodjango >= 1x uvicorn per CPU-second",
            f"{cpu[1] / cpu[0]:.2f}x ({cpu[0] * 1e6:,.0f} / {cpu[1] * 1e6:,.0f} µs per request)",
            cpu[1] >= cpu[0],
        ),
        Target("9", ">= 90% of the best rate, 0 errors", "not measured", None)
        if crowd is None or not best or crowd.rate is None or failures is None
        else Target(
            "9",
            ">= 90% of the best rate, 0 errors",
            f"{crowd.rate:,.0f} of {best:,.0f} req/s, {failures} errors",
            crowd.rate >= 0.9 * best and failures == 0,
        ),
        Target("10", "sync view p99 < 50 ms beside them", "not measured", None)
        if beside is None or beside.p99 is None
        else Target(
            "10",
            "sync view p99 < 50 ms beside them",
            f"{beside.p99 * 1000:.1f} ms",
            beside.p99 < 0.05,
        ),
    ]


def compare_loops(rows: Sequence[Row], uvloop: str, asyncio: str = "aiodjango") -> None:
    """Note on each of ``uvloop``'s rows its ratio to ``asyncio``'s row of the same scenario:
    requests per second, or bytes per second for large bodies (higher is better for both), and
    CPU per request where both were measured (lower is better)."""
    for row in rows:
        theirs = _find(rows, row.scenario, asyncio) if row.server == uvloop else None
        if theirs is None or row.failure is not None:
            continue
        if row.rate and theirs.rate:
            ratio, unit = row.rate / theirs.rate, "req/s"
        elif row.metrics.get("bytes_per_second") and theirs.metrics.get("bytes_per_second"):
            ratio = row.metrics["bytes_per_second"] / theirs.metrics["bytes_per_second"]
            unit = "bytes/s"
        else:
            continue
        note = f"vs {asyncio} on asyncio's loop: {ratio:.2f}x {unit}"
        if row.cpu_per_request and theirs.cpu_per_request:
            # On a shared machine the CPU per request moves less than the rate.
            note += f", {row.cpu_per_request / theirs.cpu_per_request:.2f}x CPU per request"
        row.notes = f"{note}; {row.notes}".rstrip("; ")


def _verdict(target: Target) -> str:
    return {True: "met", False: "MISSED", None: "n/a"}[target.met]


def targets_text(found: Sequence[Target]) -> str:
    return "\n".join(
        f"  [{_verdict(t):>6}] scenario {t.scenario}: {t.goal}: {t.measured}" for t in found
    )


def write(
    out: Path,
    rows: Sequence[Row],
    found: Sequence[Target],
    info: dict[str, Any],
    run: dict[str, Any],
    servers: dict[str, dict[str, str]],
) -> list[Path]:
    """Write latest.json, latest.md, latest.rst and latest.png into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    stamp = run["date"]
    written = []

    data = {
        "run": run,
        "machine": info,
        "servers": servers,
        "rows": [asdict(r) for r in rows],
        "targets": [asdict(t) for t in found],
    }
    path = out / "latest.json"
    path.write_text(json.dumps(data, indent=2) + "\n")
    written.append(path)

    floor_text = f"{floor.describe(run['floor'])}\n\n" if "floor" in run else ""
    server_lines = [f"- **{name}**: {s['config']}: `{s['command']}`" for name, s in servers.items()]
    target_lines = [
        f"- [{_verdict(t)}] scenario {t.scenario}: {t.goal}: {t.measured}" for t in found
    ]
    path = out / "latest.md"
    path.write_text(
        f"# Benchmark results ({run['mode']} run, {stamp})\n\n"
        f"Machine: {describe(info)}\n\n{run['summary']}\n\n"
        f"{markdown_table(rows)}\n\n{floor_text}## Targets\n\n" + "\n".join(target_lines) + "\n\n"
        "## Servers\n\n" + "\n".join(server_lines) + "\n"
    )
    written.append(path)

    rst_servers = [[name, s["config"], f"``{s['command']}``"] for name, s in servers.items()]
    path = out / "latest.rst"
    path.write_text(
        f"*{run['mode'].capitalize()} run of {stamp}.* Machine: {describe(info)}. "
        f"{run['summary']}\n\n"
        + rst_table([name for name, _ in COLUMNS], cells(rows))
        + f"\n\n{floor_text}**Targets**\n\n"
        + rst_table(
            ["scenario", "target", "measured", "verdict"],
            [[t.scenario, t.goal, t.measured, _verdict(t)] for t in found],
        )
        + "\n\n**Servers**\n\n"
        + rst_table(["server", "processes and threads", "command"], rst_servers)
        + "\n"
    )
    written.append(path)

    path = out / "latest.png"
    from .chart import chart  # matplotlib, only when drawing

    chart(path, rows, f"{stamp} ({run['mode']} run): {describe(info)}")
    written.append(path)
    return written


def load(path: Path) -> tuple[list[Row], dict[str, Any]]:
    """The rows and the rest of a ``latest.json``."""
    data = json.loads(path.read_text())
    return [Row(**row) for row in data["rows"]], data


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
