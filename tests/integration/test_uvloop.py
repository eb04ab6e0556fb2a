"""uvloop beyond the command line: ``manage.py runserver --loop`` (under the autoreloader, the
server in a thread) and gunicorn's ``GunicornUVLoopWebWorker``, each serving a sync view, a
lifted view and a websocket; and TLS through gunicorn's own ``--certfile``/``--keyfile``."""

from __future__ import annotations

import signal
import ssl
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest

from tests.support.certificates import make_certificates
from tests.support.processes import ROOT, ServerProcess, StartServer, environment, free_port

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]
GUNICORN = Path(sys.executable).parent / "gunicorn"
PROJECT_ENV = {"DJANGO_SETTINGS_MODULE": "tests.project.settings"}
UVLOOP = "uvloop.Loop"


async def serve_three_kinds(base: str, context: ssl.SSLContext | bool = True) -> str:
    """A sync view, a lifted view and a websocket answer; the loop of the lifted view."""
    async with aiohttp.ClientSession() as client:
        async with client.get(f"{base}/hello/", ssl=context) as response:
            assert response.status == 200
            assert (await response.text()).startswith("sync hello from pid")
        async with client.get(f"{base}/where/", ssl=context) as response:
            scheme = (await response.json())["url_scheme"]
        async with client.get(f"{base}/async/where/", ssl=context) as response:
            seen = await response.json()
        ws_url = base.replace("http", "ws", 1) + "/ws/echo/"
        async with client.ws_connect(ws_url, ssl=context) as ws:
            await ws.send_str("hi")
            assert await ws.receive_str(timeout=10) == "echo: hi"
    assert scheme == seen["scheme"] == base.partition(":")[0]
    return str(seen["loop"])


def runserver(start_server: StartServer, port: int, *args: str) -> ServerProcess:
    return start_server(
        [sys.executable, "-m", "django", "runserver", f"127.0.0.1:{port}", *args],
        env=PROJECT_ENV,
    )


@pytest.mark.parametrize(("options", "loop"), [([], UVLOOP), (["--loop", "asyncio"], "asyncio.")])
async def test_runserver_under_the_autoreloader_serves_on_the_loop_chosen(
    start_server: StartServer, options: list[str], loop: str
) -> None:
    port = free_port()
    server = runserver(start_server, port, "--skip-checks", *options)
    await server.wait_for_port(port)
    assert (await serve_three_kinds(f"http://127.0.0.1:{port}")).startswith(loop)
    expected = "uvloop" if loop == UVLOOP else "asyncio"
    await server.wait_for_output(f"event loop: {expected}")
    assert "Watching for file changes" in server.stderr  # the server ran in the reloader's thread


def test_runserver_without_uvloop_names_the_extra() -> None:
    script = (
        "import sys; sys.modules['uvloop'] = None\n"
        "from django.core.management import execute_from_command_line\n"
        "execute_from_command_line(['manage.py', 'runserver', '--loop', 'uvloop', '--noreload'])"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=environment(**PROJECT_ENV),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert 'uvloop is not installed (pip install "aiodjango[uvloop]")' in result.stderr


async def test_runserver_sigterm_on_uvloop_stops_gracefully(start_server: StartServer) -> None:
    port = free_port()
    server = runserver(start_server, port, "--noreload", "--skip-checks", "--loop", "uvloop")
    await server.wait_for_port(port)
    assert await serve_three_kinds(f"http://127.0.0.1:{port}") == UVLOOP
    server.signal(signal.SIGTERM)
    assert await server.wait(30) == 0
    assert "Traceback" not in server.stderr


def gunicorn(start_server: StartServer, port: int, worker: str, *args: str) -> ServerProcess:
    return start_server(
        [
            GUNICORN,
            "tests.project.wsgi:app",
            "--worker-class",
            f"aiohttp.worker.{worker}",
            "--bind",
            f"127.0.0.1:{port}",
            "--graceful-timeout",
            "20",
            *args,
        ],
        env=PROJECT_ENV,
    )


async def test_gunicorn_uvloop_worker(start_server: StartServer) -> None:
    port = free_port()
    server = gunicorn(start_server, port, "GunicornUVLoopWebWorker")
    await server.wait_for_port(port)
    assert await serve_three_kinds(f"http://127.0.0.1:{port}") == UVLOOP
    server.signal(signal.SIGTERM)
    assert await server.wait(30) == 0


@pytest.mark.parametrize("worker", ["GunicornWebWorker", "GunicornUVLoopWebWorker"])
async def test_gunicorn_certfile_keyfile(
    start_server: StartServer, tmp_path: Path, worker: str
) -> None:
    """The deployment guide's TLS without a proxy under gunicorn: its own flags suffice."""
    certificates = make_certificates(tmp_path / "tls")
    port = free_port()
    server = gunicorn(
        start_server,
        port,
        worker,
        *("--certfile", str(certificates.certfile), "--keyfile", str(certificates.keyfile)),
    )
    await server.wait_for_port(port)
    loop = await serve_three_kinds(f"https://127.0.0.1:{port}", certificates.client_context())
    expected = UVLOOP if worker == "GunicornUVLoopWebWorker" else "asyncio."
    assert loop.startswith(expected)
    server.signal(signal.SIGTERM)
    assert await server.wait(30) == 0
