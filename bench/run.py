"""``python -m bench``: run the scenarios against every server, print and write the results.

For each scenario, the servers that take part are started together (idle ones cost nothing),
each gets a warm-up request, and they are measured one after another; scenarios that are
repeated go round all servers ``rounds`` times and keep each server's median round, so that a
burst of noise on a shared machine hits one round rather than one server. In ``--quick`` mode
the servers are started once per middleware stack and reused by every scenario.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shlex
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from . import floor, report
from .load import LoadFailed, wrk_path
from .report import Row
from .scenarios import FULL, QUICK, SCENARIOS, Scenario, Settings, transfer_notes
from .servers import (
    LOAD_CORE,
    ROOT,
    SERVER_CORE,
    UVLOOP_PEER,
    Peer,
    Server,
    ServerFailed,
    can_pin,
    peers,
    pinned,
)

RESULTS = ROOT / "bench" / "results"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class Servers:
    """Starts servers on demand and stops them; in quick mode it keeps them for reuse."""

    def __init__(self, settings: Settings, data: Path, keep: bool) -> None:
        self.settings = settings
        self.data = data
        self.keep = keep
        self.running: dict[tuple[str, str], Server] = {}
        self.commands: dict[str, dict[str, str]] = {}

    def environment(self, stack: str) -> dict[str, str]:
        return {
            "DJANGO_SETTINGS_MODULE": "bench.site.settings",
            "PYTHONPATH": str(ROOT),
            "AIODJANGO_BENCH_STACK": stack,
            "AIODJANGO_BENCH_DB": str(self.data / "bench.sqlite3"),
            "AIODJANGO_BENCH_FILE": str(self.data / "large.bin"),
            "AIODJANGO_BENCH_THREADS": str(self.settings.threads),
        }

    def start(self, peer: Peer, stack: str) -> Server:
        server = self.running.get((peer.name, stack))
        if server is None:
            log_file = self.data / f"{peer.name.replace(' ', '-')}-{stack}.log"
            server = Server(peer, self.environment(stack), self.settings.threads, log_file)
            self.running[peer.name, stack] = server
            port = str(server.port)
            command = " ".join(
                shlex.quote(Path(a).name if i == 0 else a.replace(port, "PORT"))
                for i, a in enumerate(server.argv)
            )
            self.commands.setdefault(peer.name, {"config": peer.config, "command": command})
        return server

    def restart(self, server: Server, stack: str) -> Server:
        """A fresh process in place of one that died; the dead one's log is kept beside."""
        server.stop()
        server.log.replace(server.log.with_suffix(".crashed.log"))
        del self.running[server.peer.name, stack]
        return self.start(server.peer, stack)

    def release(self, stack: str) -> None:
        if not self.keep:
            self.stop(stack)

    def stop(self, stack: str | None = None) -> None:
        for key in [k for k in self.running if stack is None or k[1] == stack]:
            self.running.pop(key).stop()


def measure_django_directly(environment: dict[str, str], settings: Settings) -> float:
    """The CPU seconds of one call of the project's WSGI application without a server, in a
    process of its own on the servers' core (see :mod:`bench.floor`)."""
    calls = 2000 if settings.quick else 20000
    found = subprocess.run(
        pinned([sys.executable, "-m", "bench.floor", str(calls)], SERVER_CORE),
        cwd=ROOT,
        env={**os.environ, **environment},
        check=True,
        capture_output=True,
        text=True,
    )
    return float(found.stdout.strip())


def prepare_data(data: Path, settings: Settings) -> None:
    """The SQLite database (migrated, with the user that scenario 2 reads) and the large file."""
    with (data / "large.bin").open("wb") as large:
        large.truncate(settings.large)  # sparse: the same bytes for every server, no disk I/O
    with (data / "large.bin").open("rb") as large:
        while large.read(1 << 24):  # into the page cache, so the first server is not the slow one
            pass
    script = (
        "import django; django.setup()\n"
        "from django.core.management import call_command\n"
        "from django.contrib.auth.models import User\n"
        "call_command('migrate', verbosity=0)\n"
        "User.objects.create(username='bench', first_name='bench')\n"
    )
    servers = Servers(settings, data, keep=False)
    subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={**os.environ, **servers.environment("full")},
        check=True,
    )


async def run_scenario(
    scenario: Scenario, taking_part: list[Peer], servers: Servers, settings: Settings
) -> list[Row]:
    started = {peer.name: servers.start(peer, scenario.stack) for peer in taking_part}
    rows: dict[str, list[Row]] = {}
    failures: dict[str, str] = {}
    # A peer that crashes is started again, once per scenario, so that one rare crash of a
    # peer (seen from granian) costs a round, not the peer's row; the row says so.
    restarted: dict[str, str] = {}

    async def bring_up(name: str) -> None:
        await asyncio.to_thread(started[name].wait_ready)
        started[name].reset_peak()

    def fail(name: str, error: Exception) -> None:
        failures[name] = f"{type(error).__name__}: {error}".strip(": ")

    async def recover(name: str, error: Exception) -> bool:
        """Start a crashed peer again, once per scenario; otherwise its row fails."""
        if name in restarted:
            fail(name, error)
            return False
        restarted[name] = str(error)[:160]
        log(f"  {scenario.key:8} {name:17} crashed, starting it again: {restarted[name]}")
        started[name] = servers.restart(started[name], scenario.stack)
        try:
            await bring_up(name)
        except ServerFailed as again:
            fail(name, again)
            return False
        return True

    for name in started:
        try:
            await bring_up(name)
        except ServerFailed as error:
            await recover(name, error)
    rounds = settings.rounds if scenario.rounds else 1
    limit = 120 if settings.quick else 900
    for round_number in range(rounds):
        for name in started:
            attempts = 2
            while name not in failures and attempts:
                attempts -= 1
                server = started[name]
                try:
                    row = await asyncio.wait_for(scenario.measure(server, settings), limit)
                    server.check_alive()
                except (TimeoutError, LoadFailed, OSError, ServerFailed) as error:
                    # A dying server often shows first as the load generator's error.
                    if server.process.poll() is None:
                        fail(name, error)
                    else:
                        await recover(name, error)
                    continue
                except Exception as error:  # a bug in a client must not lose the other rows
                    fail(name, error)
                    continue
                row.peak_rss = server.peak_rss()
                rows.setdefault(name, []).append(row)
                suffix = f" (round {round_number + 1}/{rounds})" if rounds > 1 else ""
                log(f"  {scenario.key:8} {name:17} {summary(row)}{suffix}")
                break
    servers.release(scenario.stack)
    result = []
    for peer in taking_part:
        if peer.name in failures:
            log(f"  {scenario.key:8} {peer.name:17} FAILED: {failures[peer.name]}")
            result.append(
                Row(
                    scenario.key,
                    scenario.title,
                    peer.name,
                    peer.config,
                    failure=failures[peer.name],
                )
            )
        else:
            row = median(rows[peer.name], scenario.key)
            if peer.name in restarted:
                row.notes = f"{row.notes}; restarted once after a crash".lstrip("; ")
            result.append(row)
    return result


def median(rows: list[Row], key: str) -> Row:
    """The middle round: by p99 latency in scenario 6 (where latency is the point), by
    throughput for large bodies (keeping the worst memory growth), by request rate otherwise."""
    if len(rows) == 1:
        return rows[0]
    transfer = key.startswith("4") or key == "5"
    if key == "6":
        ordered = sorted(rows, key=lambda r: r.p99 or 0.0)
        shown = [f"{(r.p99 or 0) * 1000:.0f} ms" for r in rows]
    elif transfer:
        ordered = sorted(rows, key=lambda r: r.metrics["bytes_per_second"])
        shown = [f"{r.metrics['bytes_per_second'] / 1e9:.2f} GB/s" for r in rows]
    else:
        ordered = sorted(rows, key=lambda r: r.rate or 0.0)
        shown = [f"{r.rate or 0:,.0f}" for r in rows]
    chosen = ordered[len(ordered) // 2]
    chosen.peak_rss = max(r.peak_rss or 0 for r in rows)
    if transfer:
        chosen.metrics["rss_growth"] = max(r.metrics["rss_growth"] for r in rows)
        chosen.notes = transfer_notes(chosen)
    chosen.notes += f"; median of {len(rows)} rounds: " + ", ".join(shown)
    return chosen


def summary(row: Row) -> str:
    parts = []
    if row.rate is not None:
        parts.append(f"{row.rate:,.0f} req/s")
    if row.p99 is not None:
        parts.append(f"p99 {row.p99 * 1000:.1f} ms")
    if row.cpu_per_request is not None:
        parts.append(f"{row.cpu_per_request * 1e6:.0f} µs CPU/req")
    if not parts or row.scenario.startswith(("4", "5", "7")):
        parts.append(row.notes)
    return ", ".join(parts)


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Benchmark aiodjango against aiohttp-wsgi, gunicorn, granian, uvicorn and "
        "raw aiohttp on the same Django project; print one table and write it with a chart.",
    )
    parser.add_argument("--quick", action="store_true", help="every scenario briefly, small sizes")
    parser.add_argument(
        "--out",
        type=Path,
        help="where to write latest.{md,rst,json,png} (default: bench/results for a full run; "
        "a quick run writes nothing unless given)",
    )
    parser.add_argument(
        "--scenario",
        action="append",
        choices=sorted({s.key.split()[0] for s in SCENARIOS}),
        help="run only this scenario (repeatable)",
    )
    parser.add_argument("--server", action="append", help="run only this server (repeatable)")
    parser.add_argument("--duration", type=int, help="seconds of each measured wrk run")
    parser.add_argument("--rounds", type=int, help="wrk runs per server in scenarios 1, 2, 3, 6")
    parser.add_argument("--threads", type=int, help="worker threads per server")
    parser.add_argument(
        "--render",
        type=Path,
        metavar="DIR",
        help="measure nothing: rewrite the table, targets and chart from DIR/latest.json",
    )
    return parser.parse_args(argv)


def render(directory: Path) -> int:
    rows, data = report.load(directory / "latest.json")
    found = report.targets(rows, data["run"]["settings"]["sockets"])
    print(report.text_table(rows))
    print("\nTargets:")
    print(report.targets_text(found))
    for path in report.write(directory, rows, found, data["machine"], data["run"], data["servers"]):
        print(f"wrote {path}")
    return 0


async def main_async(args: argparse.Namespace) -> int:
    settings = QUICK if args.quick else FULL
    for name in ("duration", "rounds", "threads"):
        if getattr(args, name) is not None:
            settings = replace(settings, **{name: max(1, getattr(args, name))})
    all_peers = peers(settings.threads)
    known = {p.name for p in all_peers}
    for name in args.server or ():
        if name not in known:
            raise SystemExit(f"unknown server {name!r}; choose from {', '.join(sorted(known))}")
    chosen_peers = [p for p in all_peers if not args.server or p.name in args.server]
    scenarios = [s for s in SCENARIOS if not args.scenario or s.key.split()[0] in args.scenario]
    wrk_path()  # fail early, with the install hint
    if can_pin():
        os.sched_setaffinity(0, {LOAD_CORE})  # this process's clients share wrk's core
    else:
        log("fewer than 2 cores (or no taskset): load generator and servers are not pinned")

    started = time.monotonic()
    rows: list[Row] = []
    figures: dict[str, float] | None = None
    with tempfile.TemporaryDirectory(prefix="aiodjango-bench-") as directory:
        data = Path(directory)
        prepare_data(data, settings)
        servers = Servers(settings, data, keep=settings.quick)
        try:
            for scenario in scenarios:
                taking_part = [p for p in chosen_peers if scenario.takes_part(p)]
                if taking_part:
                    log(f"scenario {scenario.key}: {scenario.title} ({len(taking_part)} servers)")
                    rows += await run_scenario(scenario, taking_part, servers, settings)
        finally:
            servers.stop()
        commands = servers.commands

        if any(row.scenario == "1" for row in rows):
            django_cpu = measure_django_directly(servers.environment("bare"), settings)
            figures = floor.floor(django_cpu, rows)

    report.compare_loops(rows, UVLOOP_PEER)
    info = report.machine()
    found = report.targets(rows, settings.sockets)
    elapsed = time.monotonic() - started
    mode = "quick" if settings.quick else "full"
    pinning = (
        "servers pinned to core 1, load generator to core 0" if can_pin() else "no core pinning"
    )
    run = {
        "date": report.now(),
        "mode": mode,
        "seconds": round(elapsed),
        "settings": settings.__dict__,
        "summary": (
            f"wrk: {settings.connections} keep-alive connections, 1 thread, {settings.duration} s "
            f"per run after {settings.warmup} s warm-up, median of {settings.rounds} interleaved "
            f"rounds; {pinning}. Peak RSS sums the server's processes."
        ),
    }
    if figures is not None:
        run["floor"] = figures
    print(report.text_table(rows))
    print("\nTargets:")
    print(report.targets_text(found))
    if figures is not None:
        print("\n" + floor.describe(figures))
    print(f"\n{mode} run, {elapsed:.0f} s. {run['summary']}")
    out = args.out if args.out is not None else (None if settings.quick else RESULTS)
    if out is not None:
        for path in report.write(out, rows, found, info, run, commands):
            print(f"wrote {path}")
    return 1 if any(row.failure for row in rows) else 0


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    if args.render is not None:
        return render(args.render)
    return asyncio.run(main_async(args))
