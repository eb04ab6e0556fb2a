#!/usr/bin/env python3
"""The project's two commands, and a few more for contributors.

    python3 dev.py run     set up .venv and run the example project on 127.0.0.1:8000
                           (an address may follow: python3 dev.py run 127.0.0.1:9000)
    python3 dev.py test    set up .venv and run every check (tests, lint, types, docs), then
                           the suite on the version matrix (the oldest Django and aiohttp we
                           support; Django 6 on Python 3.12), each in its own .venv-<name>
    python3 dev.py test --fast
                           the inner loop: lint, types and the tests not marked slow
    python3 dev.py bench   run the benchmarks against the peer servers (add --quick for a
                           one-second pass); writes bench/results/ for docs/benchmarks.rst

Only the standard library is used here, so this works on a machine that has
nothing but Python 3.11+ and access to the package index.
"""

from __future__ import annotations

import os
import re
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


def step(*args: str | Path, cwd: Path = ROOT, env: dict[str, str] | None = None) -> None:
    """Run one command, echoing it, and stop everything if it fails.

    ``env`` adds variables to this process's environment for the command.
    """
    printable = " ".join(str(a) for a in args)
    if env:
        printable = " ".join(f"{k}={v}" for k, v in env.items()) + " " + printable
    print(f"\n==> {printable}", flush=True)
    result = subprocess.run([str(a) for a in args], cwd=cwd, env={**os.environ, **(env or {})})
    if result.returncode != 0:
        print(f"\nFAILED ({result.returncode}): {printable}", file=sys.stderr)
        sys.exit(result.returncode)


def ensure_venv(
    extras: str, where: Path = VENV, interpreter: str = sys.executable, pins: tuple[str, ...] = ()
) -> Path:
    """Create ``where`` if it is missing and install aiodjango (editable) with ``extras``.

    ``pins`` are requirements installed with it (the version matrix's Django and aiohttp).
    Returns the virtualenv's python.
    """
    python = where / BIN.name / "python"
    if not python.exists():
        print(f"==> creating {where}", flush=True)
        if interpreter == sys.executable:
            venv.EnvBuilder(with_pip=True).create(where)
        else:
            step(interpreter, "-m", "venv", where)
        step(python, "-m", "pip", "install", "--quiet", "--upgrade", "pip", "setuptools", "wheel")
    target = f".[{extras}]" if extras else "."
    step(python, "-m", "pip", "install", "--quiet", "--editable", target, *pins)
    return python


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
    # The redis extra lets the example use Redis as its channel layer when REDIS_URL is set;
    # with the uvloop extra runserver serves it on uvloop, as production would.
    ensure_venv("redis,uvloop")
    manage = EXAMPLE / "manage.py"
    step(PYTHON, manage, "migrate", "--noinput", cwd=EXAMPLE)
    step(PYTHON, manage, "create_demo_users", cwd=EXAMPLE)
    os.chdir(EXAMPLE)
    os.execv(PYTHON, [str(PYTHON), str(manage), "runserver", addrport])


#: The version matrix: a name (its virtualenv is .venv-<name>), the Python it runs on and the
#: requirements pinned there.
MATRIX: dict[str, tuple[str, tuple[str, ...]]] = {
    # The minimums setup.cfg declares.
    "oldest": ("3.11", ("Django>=4.2,<4.3", "aiohttp>=3.12,<3.13", "asgiref>=3.7,<3.8")),
    "django6": ("3.12", ("Django>=6.0,<7.0",)),
}
#: The slow tests the matrix runs besides the fast tier: those that meet what changes between
#: versions (signals and serving, runserver, gunicorn's worker, aiohttp's parser). Browsers,
#: load, benchmarks and packaging behave the same on every version; leaving them out keeps CI
#: under 20 minutes.
MATRIX_SLOW = (
    "tests/server",
    "tests/integration/test_runserver.py",
    "tests/integration/test_gunicorn.py",
    "tests/reliability/test_hostile.py",
    "tests/reliability/test_fuzz_environ.py",
    "tests/reliability/test_shutdown.py",
)


def find_python(version: str) -> str | None:
    """An interpreter for Python ``version`` ("3.12"): on PATH, or one pyenv installed."""
    candidates = [shutil.which(f"python{version}")]
    pyenv = shutil.which("pyenv")
    if pyenv is not None:
        listed = subprocess.run([pyenv, "versions", "--bare"], capture_output=True, text=True)
        for name in sorted(listed.stdout.split(), reverse=True):
            if re.fullmatch(rf"{re.escape(version)}\.\d+", name):
                prefix = subprocess.run([pyenv, "prefix", name], capture_output=True, text=True)
                candidates.append(str(Path(prefix.stdout.strip()) / "bin" / f"python{version}"))
    probe = "import sys; print('%d.%d' % sys.version_info[:2])"
    for candidate in candidates:
        if candidate is None or not Path(candidate).exists():
            continue
        # A pyenv shim exists on PATH even where the version isn't selected: ask it.
        answer = subprocess.run([candidate, "-c", probe], capture_output=True, text=True)
        if answer.returncode == 0 and answer.stdout.strip() == version:
            return candidate
    return None


def test_matrix() -> None:
    """Run the suite against each entry of :data:`MATRIX`, skipping a missing interpreter."""
    for name, (version, pins) in MATRIX.items():
        interpreter = find_python(version)
        if interpreter is None:
            print(f"\n==> SKIPPED the {name!r} matrix entry: no Python {version} found")
            continue
        python = ensure_venv("test,gunicorn", ROOT / f".venv-{name}", interpreter, pins)
        step(python, "-m", "pytest", "-p", "no:cacheprovider", "-m", "not slow")
        step(python, "-m", "pytest", "-p", "no:cacheprovider", "-m", "slow", *MATRIX_SLOW)


def test(*options: str) -> None:
    if options not in ((), ("--fast",)):
        raise TypeError(f"unknown options {options}")
    fast = options == ("--fast",)
    ensure_venv("test,docs,gunicorn,bench")
    if not fast:
        # The browser tests drive Debian's chromium; the benchmark's quick pass uses wrk.
        if not os.environ.get("AIODJANGO_CHROMIUM"):
            ensure_debian_package("chromium", "chromium")
        ensure_debian_package("wrk", "wrk")
        # The slow tier runs a real nginx in front of the server, configured from the docs.
        ensure_debian_package("nginx", "nginx")
    # The real-time tests' channel layer runs on a real Redis, in the fast tier too.
    ensure_debian_package("redis-server", "redis-server")
    step(BIN / "ruff", "check", ".")
    step(BIN / "ruff", "format", "--check", ".")
    step(BIN / "mypy")
    if fast:
        step(PYTHON, "-m", "pytest", "-m", "not slow")
        return
    step(BIN / "sphinx-build", "-W", "--keep-going", "-q", "-b", "html", "docs", "docs/_build/html")
    # pytest exits 5 when it collects nothing; step() treats that as a failure too.
    step(PYTHON, "-m", "pytest")
    # The server and routing tests again in Python's development mode (asyncio's debug mode,
    # resource warnings) with deprecations as errors, in the servers they start too.
    dev_mode = {"PYTHONDEVMODE": "1", "PYTHONWARNINGS": "error::DeprecationWarning"}
    step(
        PYTHON,
        "-X",
        "dev",
        "-m",
        "pytest",
        "-p",
        "no:cacheprovider",
        "-W",
        "error::DeprecationWarning",
        "tests/server",
        "tests/routing",
        env=dev_mode,
    )
    test_matrix()


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
