"""The distribution: what ``pip install .`` builds."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
IGNORED = shutil.ignore_patterns(
    ".venv", ".git", "*.egg-info", "build", "dist", "_build", "__pycache__", "*.sqlite3", ".*cache"
)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    """Build a wheel from a copy of the checkout, as ``pip install .`` would."""
    source = tmp_path_factory.mktemp("source") / "aiodjango"
    shutil.copytree(ROOT, source, ignore=IGNORED)
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--wheel-dir",
            str(out),
            str(source),
        ],
        check=True,
        timeout=300,
    )
    (path,) = out.glob("aiodjango-*.whl")
    return zipfile.ZipFile(path)


@pytest.fixture(scope="module")
def wheel_names(wheel: zipfile.ZipFile) -> list[str]:
    return wheel.namelist()


def test_wheel_has_the_package_typed(wheel_names: list[str]) -> None:
    assert "aiodjango/__init__.py" in wheel_names
    assert "aiodjango/py.typed" in wheel_names


def test_wheel_has_the_runserver_command(wheel_names: list[str]) -> None:
    assert "aiodjango/management/commands/runserver.py" in wheel_names


def test_wheel_leaves_out_tests_and_example(wheel_names: list[str]) -> None:
    top_levels = {name.split("/")[0] for name in wheel_names}
    assert {"aiodjango"} == {top for top in top_levels if not top.endswith(".dist-info")}
    assert not [name for name in wheel_names if "example_project" in name or "tests/" in name]


def test_wheel_declares_the_console_script(wheel: zipfile.ZipFile) -> None:
    (entry_points,) = [name for name in wheel.namelist() if name.endswith("entry_points.txt")]
    text = wheel.read(entry_points).decode()
    assert "aiodjango-serve = aiodjango.__main__:main" in text
