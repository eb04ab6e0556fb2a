#!/usr/bin/env python3
"""The project's two commands, and a few more for contributors.

    python3 dev.py run     set up .venv and run the example project on 127.0.0.1:8000
                           (an address may follow: python3 dev.py run 127.0.0.1:9000)
    python3 dev.py test    set up .venv and run every check (tests, lint, types, docs)
    python3 dev.py bench   run the benchmarks against the peer servers (add --quick for a
                           one-second pass); writes bench/results/ for docs/benchmarks.rst

Only the standard library is used here, so this works on a machine that has
nothing but Python 3.11+ and access to the package index.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / "python"
EXAMPLE = ROOT / "example_project"


def step(*args: str | Path, cwd: Path = ROOT) -> None:
    """Run one command, echoing it, and stop everything if it fails."""
    printable = " ".join(str(a) for a in args)
    print(f"\n==> {printable}", flush=True)
    result = subprocess.run([str(a) for a in args], cwd=cwd)
    if result.returncode != 0:
        print(f"\nFAILED ({result.returncode}): {printable}", file=sys.stderr)
        sys.exit(result.returncode)


def ensure_venv(extras: str) -> None:
    """Create .venv if it is missing and install aiodjango (editable) with ``extras``."""
    if not PYTHON.exists():
        print(f"==> creating {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
        step(PYTHON, "-m", "pip", "install", "--quiet", "--upgrade", "pip", "setuptools", "wheel")
    target = f".[{extras}]" if extras else "."
    step(PYTHON, "-m", "pip", "install", "--quiet", "--editable", target)


def ensure_debian_package(command: str, package: str) -> None:
    """Install a Debian package the checks need where its command is missing (needs root)."""
    if shutil.which(command):
        return
    apt = shutil.which("apt-get")
    if apt is None or os.geteuid() != 0:
        print(f"==> {command} not found and cannot be installed here (apt-get, as root)")
        return
    step(apt, "update", "-qq")
    step(apt, "install", "-y", "-qq", package)


def run(addrport: str = "127.0.0.1:8000") -> None:
    # The redis extra lets the example use Redis as its channel layer when REDIS_URL is set.
    ensure_venv("redis")
    manage = EXAMPLE / "manage.py"
    step(PYTHON, manage, "migrate", "--noinput", cwd=EXAMPLE)
    step(PYTHON, manage, "create_demo_users", cwd=EXAMPLE)
    os.chdir(EXAMPLE)
    os.execv(PYTHON, [str(PYTHON), str(manage), "runserver", addrport])


def test() -> None:
    ensure_venv("test,docs,gunicorn,bench")
    # The browser tests drive Debian's chromium; the benchmark's quick pass uses wrk.
    if not os.environ.get("AIODJANGO_CHROMIUM"):
        ensure_debian_package("chromium", "chromium")
    ensure_debian_package("wrk", "wrk")
    ensure_debian_package("redis-server", "redis-server")  # the real-time tests' channel layer
    step(BIN / "ruff", "check", ".")
    step(BIN / "ruff", "format", "--check", ".")
    step(BIN / "mypy")
    step(BIN / "sphinx-build", "-W", "--keep-going", "-q", "-b", "html", "docs", "docs/_build/html")
    # pytest exits 5 when it collects nothing; step() treats that as a failure too.
    step(PYTHON, "-m", "pytest")


def bench(*args: str) -> None:
    ensure_venv("bench,gunicorn")
    ensure_debian_package("wrk", "wrk")
    os.execv(PYTHON, [str(PYTHON), "-m", "bench", *args])


COMMANDS = {"run": run, "test": test, "bench": bench}


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        print(__doc__)
        sys.exit(2)
    try:
        COMMANDS[sys.argv[1]](*sys.argv[2:])
    except TypeError:
        print(__doc__)
        sys.exit(2)


if __name__ == "__main__":
    main()
