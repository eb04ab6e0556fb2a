"""The PNG chart of a run: four panels of the rows that matter most at a glance."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from .report import MiB, Row


def chart(path: Path, rows: Sequence[Row], caption: str) -> None:
    """Four panels: request rates (1-3, 8-9), large-body speed (4), memory (4-5), latency
    (6-7, 10)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(2, 2, figsize=(15, 10))
    figure.suptitle("aiodjango and its peers, one process each", fontsize=14)

    def bars(axis: Any, picked: list[tuple[str, float]], label: str, log: bool = False) -> None:
        if not picked:
            # A run of some scenarios only: say so rather than draw (or log-scale) nothing.
            axis.text(0.5, 0.5, "not measured in this run", ha="center", va="center")
            axis.set_xticks([])
            axis.set_yticks([])
            return
        names = [name for name, _ in picked]
        values = [value for _, value in picked]
        colours = ["tab:red" if "aiodjango" in n else "tab:blue" for n in names]
        axis.barh(range(len(values)), values, color=colours)
        axis.set_yticks(range(len(values)), names, fontsize=8)
        axis.invert_yaxis()
        axis.set_xlabel(label)
        if log:
            axis.set_xscale("log")
        for index, value in enumerate(values):
            text = f"{value:,.0f}" if value >= 100 else f"{value:.3g}"
            axis.annotate(f" {text}", (value, index), va="center", fontsize=7)

    def each(
        scenarios: tuple[str, ...], value: Callable[[Row], float | None]
    ) -> list[tuple[str, float]]:
        picked = []
        for row in rows:
            number = value(row) if row.failure is None and row.scenario in scenarios else None
            if number is not None:
                picked.append((f"{row.scenario}: {row.server}", number))
        return picked

    bars(
        axes[0][0],
        each(("1", "2", "3", "8", "9"), lambda r: r.rate),
        "requests/s (1: hello, 2: middleware + query, 3: coroutine view, 8-9: Django async)",
    )
    axes[0][0].set_title("Request rate (wrk, keep-alive)")
    bars(
        axes[0][1],
        each(("4 stream", "4 file"), lambda r: r.metrics.get("bytes_per_second", 0) / 1e9 or None),
        "GB/s",
    )
    axes[0][1].set_title("Large responses: throughput")
    bars(
        axes[1][0],
        # Growth can be zero or slightly negative; the log scale starts at 10 KiB.
        each(
            ("4 stream", "4 file", "5"),
            lambda r: (
                max(r.metrics["rss_growth"] / MiB, 0.01) if "rss_growth" in r.metrics else None
            ),
        ),
        "server RSS growth, MiB (log; 0.01 means none)",
        log=True,
    )
    axes[1][0].set_title("Large bodies: memory")
    bars(
        axes[1][1],
        each(("6", "7", "10"), lambda r: None if r.p99 is None else r.p99 * 1000),
        "p99 latency, ms (log)",
        log=True,
    )
    axes[1][1].set_title("6: busy threads, 7: many websockets, 10: beside awaiting views")
    figure.text(0.5, 0.01, caption, ha="center", fontsize=7, wrap=True)
    figure.tight_layout(rect=(0, 0.04, 1, 0.97))
    figure.savefig(path, dpi=100)
    plt.close(figure)
