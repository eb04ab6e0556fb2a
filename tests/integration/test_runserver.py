"""``manage.py runserver`` on the example project, as a developer runs it."""

from __future__ import annotations

import shutil
import signal
import socket
import sys
from pathlib import Path

import aiohttp
import pytest

from tests.support.processes import ROOT, ServerProcess, StartServer, free_port
from tests.support.waiting import settle

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]


@pytest.fixture
def project(example_project: Path) -> Path:
    return example_project


def runserver(start_server: StartServer, project: Path, *args: str) -> ServerProcess:
    return start_server([sys.executable, "manage.py", "runserver", *args], cwd=project)


async def test_serves_django_and_coroutine_views_static_files_and_websockets(
    start_server: StartServer, project: Path
) -> None:
    port = free_port()
    server = runserver(start_server, project, f"127.0.0.1:{port}", "--noreload")
    await server.wait_for_port(port)
    base = f"http://127.0.0.1:{port}"
    async with aiohttp.ClientSession() as client:
        async with client.get(f"{base}/") as response:
            assert response.status == 200
            page = await response.text()
            assert "rendered by a normal Django view" in page
        async with client.get(f"{base}/api/clock/") as response:
            assert response.status == 200
            assert (await response.json())["served_by"].startswith("aiohttp ")
        async with client.ws_connect(f"{base}/ws/echo/") as socket_:
            await socket_.send_str("ping")
            assert await socket_.receive_str(timeout=10) == "echo: ping"
        async with client.get(f"{base}/static/showcase/style.css") as response:
            assert response.status == 200
            assert ".card" in await response.text()
        async with client.get(f"{base}/static/showcase/missing.css") as response:
            assert response.status == 404
        async with client.get(f"{base}/static/../settings.py") as response:
            assert response.status == 404

    banner = server.stdout
    assert "Performing system checks..." in banner
    assert "System check identified no issues" in banner
    assert f"Starting aiodjango development server at http://127.0.0.1:{port}/" in banner
    log = server.stderr
    assert '"GET / HTTP/1.1" 200' in log
    assert '"GET /api/clock/ HTTP/1.1" 200' in log
    assert '"GET /static/showcase/missing.css HTTP/1.1" 404' in log

    server.signal(signal.SIGINT)
    assert await server.wait(15) == 0
    assert "Traceback" not in server.stderr


async def test_nostatic_leaves_static_urls_to_django(
    start_server: StartServer, project: Path
) -> None:
    port = free_port()
    server = runserver(start_server, project, str(port), "--noreload", "--nostatic")
    await server.wait_for_port(port)
    async with (
        aiohttp.ClientSession() as client,
        client.get(f"http://127.0.0.1:{port}/static/showcase/style.css") as response,
    ):
        assert response.status == 404


async def test_warns_about_unapplied_migrations(start_server: StartServer, tmp_path: Path) -> None:
    copy = tmp_path / "unmigrated"
    shutil.copytree(ROOT / "example_project", copy, ignore=shutil.ignore_patterns("db.sqlite3"))
    port = free_port()
    server = runserver(start_server, copy, str(port), "--noreload")
    await server.wait_for_port(port)
    assert "unapplied migration(s)" in server.stdout


async def test_reloads_after_a_python_file_changes(
    start_server: StartServer, project: Path
) -> None:
    port = free_port()
    server = runserver(start_server, project, str(port))
    await server.wait_for_port(port)
    clock = f"http://127.0.0.1:{port}/api/clock/"
    async with aiohttp.ClientSession() as client:
        async with client.get(clock) as response:
            assert (await response.json())["served_by"].startswith("aiohttp ")

        views = project / "showcase" / "views.py"
        views.write_text(
            views.read_text().replace('f"aiohttp {aiohttp.__version__}"', '"the reloaded code"')
        )

        # The reloader compares modification times with those it saw first; a change made
        # before its first look goes unseen, so touch the file until it notices (bounded).
        def noticed() -> bool:
            if "changed, reloading" in server.output:
                return True
            views.touch()
            return False

        await settle(noticed)
        await server.wait_for_output("changed, reloading", within=5)
        await server.wait_for_output("Starting aiodjango development server", within=30, times=2)
        await server.wait_for_port(port)
        async with client.get(clock) as response:
            assert (await response.json())["served_by"] == "the reloaded code"


async def test_port_in_use_is_one_friendly_line(start_server: StartServer, project: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        server = runserver(start_server, project, str(port), "--noreload")
        assert await server.wait(60) == 1
    assert "Error: That port is already in use." in server.stderr
    assert "Traceback" not in server.stderr


async def test_bad_address_is_django_s_message(start_server: StartServer, project: Path) -> None:
    server = runserver(start_server, project, "not an address", "--noreload")
    assert await server.wait(60) != 0
    assert "is not a valid port number or address:port pair" in server.stderr


async def test_unassignable_address_is_one_friendly_line(
    start_server: StartServer, project: Path
) -> None:
    # 192.0.2.0/24 is reserved for documentation: no interface here has it, and binding sends nothing.
    server = runserver(start_server, project, "192.0.2.1:8000", "--noreload")
    assert await server.wait(60) == 1
    assert "Error: That IP address can't be assigned to." in server.stderr
    assert "Traceback" not in server.stderr
