"""The example project's own test suite, which uses aiodjango.testing as a user's would.

It runs in a subprocess, from a copy of the project, with the project's pytest.ini: the
fixtures come from the plugin that installing aiodjango registers, nothing else.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.processes import ROOT, environment

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]


def test_the_example_project_suite_passes_with_the_plugin(tmp_path: Path) -> None:
    copy = tmp_path / "example_project"
    shutil.copytree(
        ROOT / "example_project",
        copy,
        ignore=shutil.ignore_patterns("db.sqlite3", "staticfiles", "__pycache__"),
    )
    expected = sum(
        len(re.findall(r"^(?:async )?def test_", path.read_text(), re.MULTILINE))
        for path in (copy / "tests").glob("test_*.py")
    )
    assert expected >= 6
    result = run_pytest(copy)
    summary = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.fullmatch(rf"{expected} passed in [\d.]+s( \(.*\))?", summary), result.stdout

    # The fixtures come from aiodjango's plugin, found through its entry point: without it,
    # no test of the suite can even start.
    without = run_pytest(copy, "-p", "no:aiodjango")
    assert without.returncode != 0
    assert "fixture 'aio_client' not found" in without.stdout
    assert f"{expected} error" in without.stdout.strip().splitlines()[-1]


def run_pytest(project: Path, *options: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *options],
        cwd=project,
        env=environment(),
        capture_output=True,
        text=True,
        timeout=280,
    )
