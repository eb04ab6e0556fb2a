"""The command line, run as a subprocess: ``python -m aiodjango`` and ``aiodjango-serve``."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import stat
from pathlib import Path

import aiohttp
import pytest

import aiodjango
from aiodjango.server.cli import show_size, size
from tests.server.apps import GATE_ENV, Gate
from tests.support.processes import COMMANDS, StartServer, assert_one_line_error, run_cli
from tests.support.waiting import settle

APP = "tests.server.apps:application"


@pytest.mark.parametrize("command", COMMANDS)
def test_version(command: str) -> None:
    result = run_cli("--version", command=command)
    assert result.returncode == 0
    assert result.stdout.strip().endswith(aiodjango.__version__)


def test_help_lists_every_option() -> None:
    result = run_cli("--help")
    assert result.returncode == 0
    for flag in (
        "--host",
        "--port",
        "--unix-socket",
        "--unix-socket-perms",
        "--backlog",
        "--threads",
        "--static",
        "--script-name",
        "--url-scheme",
        "--inbuf-overflow",
        "--max-request-body-size",
        "--shutdown-timeout",
        "--verbose",
        "--quiet",
        "--version",
        "module:attr",
    ):
        assert flag in result.stdout


def test_help_says_the_default_host_is_every_interface() -> None:
    result = run_cli("--help")
    text = " ".join(result.stdout.split())
    assert "(default: 0.0.0.0, every interface" in text
    for flag in (
        "--keepalive-timeout",
        "--server-header",
        "--max-request-bodies-size",
        "--max-request-bodies-in-memory",
        "--body-timeout",
        "--body-min-rate",
        "--send-timeout",
        "--certfile",
        "--keyfile",
        "--ssl-ciphers",
        "--ca-certs",
        "--loop",
        "--forwarded-allow-ips",
        "--forwarded-host",
    ):
        assert flag in result.stdout


@pytest.mark.parametrize(
    ("target", "fragments"),
    [
        ("tests.server.apps", ["'tests.server.apps' is not of the form module:attr"]),
        (":application", ["not of the form module:attr"]),
        ("no_such_module:app", ["cannot import 'no_such_module'", "no_such_module"]),
        ("tests.no_such_module:app", ["cannot import 'tests.no_such_module'"]),
        ("tests.server.apps:missing", ["has no attribute 'missing'"]),
        ("tests.server.apps:NOT_CALLABLE", ["is not a WSGI application", "int"]),
        ("tests.server.broken_app:application", ["RuntimeError", "broken on purpose"]),
    ],
)
def test_a_bad_application_is_one_line_and_status_2(target: str, fragments: list[str]) -> None:
    assert_one_line_error(run_cli(target, "--port", "0"), *fragments)


@pytest.mark.parametrize(
    ("options", "fragments"),
    [
        (["--port", "http"], ["--port", "'http'"]),
        (["--port", "70000"], ["--port"]),
        (["--unix-socket-perms", "999"], ["--unix-socket-perms"]),
        (["--static", "no-equals-sign"], ["--static", "/url=directory"]),
        (["--static", "/files=/no/such/directory"], ["/no/such/directory"]),
        (["--script-name", "/ends/with/slash/"], ["script_name"]),
        (["--max-request-body-size", "ten"], ["--max-request-body-size", "'ten'"]),
        (["--threads", "0"], ["--threads"]),
        (["--send-timeout", "0"], ["--send-timeout", "more than 0"]),
        (["--body-timeout", "inf"], ["--body-timeout"]),
        (["--keepalive-timeout", "-1"], ["--keepalive-timeout"]),
        (["--server-header", "bad\tname"], ["server_header", "visible ASCII"]),
        (["--no-such-flag"], ["--no-such-flag"]),
        (["--forwarded-allow-ips", "300.1.1.1"], ["--forwarded-allow-ips", "'300.1.1.1'"]),
        (["--forwarded-allow-ips", "10.0.0.1/8"], ["'10.0.0.1/8'", "host bits set"]),
    ],
)
def test_a_bad_option_is_one_line_and_status_2(options: list[str], fragments: list[str]) -> None:
    assert_one_line_error(run_cli(APP, "--port", "0", *options), *fragments)


def test_wsgi_options_do_not_apply_to_an_aiohttp_application() -> None:
    result = run_cli(
        "tests.server.apps:aiohttp_application", "--threads", "2", "--script-name", "/x"
    )
    assert_one_line_error(result, "is an aiohttp Application", "--threads", "--script-name")


def test_an_address_in_use_is_one_line_and_status_2() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_cli(APP, "--host", "127.0.0.1", "--port", str(port))
    assert_one_line_error(result, f"cannot listen on http://127.0.0.1:{port}")


@pytest.mark.parametrize(
    ("host", "reason"),
    [
        # 192.0.2.0/24 is reserved for documentation: binding to it fails without any traffic.
        ("192.0.2.1", "Cannot assign requested address"),
        # Rejected by the IDNA codec before any name lookup.
        ("bad..host", "not a valid host name"),
    ],
)
def test_an_unusable_host_is_one_line_and_status_2(host: str, reason: str) -> None:
    result = run_cli(APP, "--host", host, "--port", "0")
    assert_one_line_error(result, f"cannot listen on http://{host}:0: {reason}")


@pytest.mark.parametrize("problem", ["missing directory", "parent is a file", "path too long"])
def test_an_unusable_unix_socket_is_one_line_and_status_2(short_tmp: Path, problem: str) -> None:
    (short_tmp / "file").write_text("")
    path = {
        "missing directory": short_tmp / "missing" / "s.sock",
        "parent is a file": short_tmp / "file" / "s.sock",
        "path too long": short_tmp / ("x" * 120),
    }[problem]
    result = run_cli(APP, "--unix-socket", str(path))
    assert_one_line_error(result, f"cannot listen on unix:{path}")


def test_sizes_take_k_m_g_suffixes() -> None:
    assert [size(text) for text in ("0", "1500", "2k", "10M", "1G")] == [
        0,
        1500,
        2048,
        10 * 1024**2,
        1024**3,
    ]
    assert [show_size(value) for value in (0, 1500, 2048, 10 * 1024**2, 1024**3)] == [
        "0",
        "1500",
        "2K",
        "10M",
        "1G",
    ]


async def test_wsgi_options_reach_the_adapter(start_server: StartServer) -> None:
    args = ["--host", "127.0.0.1", "--port", "0", "--backlog", "16", "--url-scheme", "https"]
    args += ["--inbuf-overflow", "512", "--max-request-body-size", "1K"]
    server = start_server([*COMMANDS["python -m aiodjango"], APP, *args])
    url = await server.address()
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{url}/spooled", data=b"s" * 1000) as response:
            assert response.status == 200
            seen = await response.json()
        async with session.post(f"{url}/too-large", data=b"x" * 1025) as response:
            assert response.status == 413
    assert seen["url_scheme"] == "https"
    assert seen["body"] == "s" * 1000
    server.signal(signal.SIGTERM)
    assert await server.wait() == 0


@pytest.mark.parametrize("command", COMMANDS)
async def test_serves_and_logs_the_address(
    command: str, tmp_path: Path, start_server: StartServer
) -> None:
    (tmp_path / "style.css").write_text("body {}")
    args = ["--host", "127.0.0.1", "--port", "0", "--static", f"/static={tmp_path}"]
    server = start_server([*COMMANDS[command], APP, *args])
    url = await server.address()
    assert url.startswith("http://127.0.0.1:") and not url.endswith(":0")
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{url}/hello?name=x") as response:
            assert response.status == 200
            seen = await response.json()
        async with session.get(f"{url}/static/style.css") as response:
            assert response.status == 200
            assert await response.text() == "body {}"
    assert (seen["path_info"], seen["query_string"]) == ("/hello", "name=x")
    server.signal(signal.SIGTERM)
    assert await server.wait() == 0
    assert "Traceback" not in server.output


async def test_script_name_and_the_current_directory_on_sys_path(
    tmp_path: Path, start_server: StartServer
) -> None:
    (tmp_path / "myapp.py").write_text(
        "def application(environ, start_response):\n"
        "    start_response('200 OK', [('Content-Type', 'text/plain')])\n"
        "    return [(environ['SCRIPT_NAME'] + '|' + environ['PATH_INFO']).encode()]\n"
    )
    env = {"PYTHONPATH": ""}  # the current directory only; no Django settings either
    args = ["myapp:application", "--host", "127.0.0.1", "--port", "0", "--script-name", "/site"]
    server = start_server([*COMMANDS["aiodjango-serve"], *args], cwd=tmp_path, env=env)
    url = await server.address()
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{url}/site/page") as response,
    ):
        assert await response.text() == "/site|/page"
    server.signal(signal.SIGINT)
    assert await server.wait() == 0


async def test_threads_bounds_the_worker_threads(start_server: StartServer) -> None:
    args = ["--host", "127.0.0.1", "--port", "0", "--threads", "2"]
    server = start_server([*COMMANDS["python -m aiodjango"], APP, *args])
    url = await server.address()

    async with aiohttp.ClientSession() as session:

        async def thread_of_one_request() -> int:
            async with session.get(f"{url}/threads") as response:
                assert response.status == 200
                return int((await response.json())["thread"])

        threads = await asyncio.gather(*(thread_of_one_request() for _ in range(8)))
    assert 1 <= len(set(threads)) <= 2
    server.signal(signal.SIGTERM)
    assert await server.wait() == 0


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
async def test_a_signal_lets_the_request_in_flight_finish(
    signum: signal.Signals, tmp_path: Path, start_server: StartServer
) -> None:
    gate = Gate(tmp_path / "gate")
    env = {GATE_ENV: str(gate.directory)}
    args = ["--host", "127.0.0.1", "--port", "0", "--shutdown-timeout", "30"]
    server = start_server([*COMMANDS["aiodjango-serve"], APP, *args], env=env)
    url = await server.address()
    async with aiohttp.ClientSession() as session:
        request = asyncio.ensure_future(session.get(f"{url}/slow"))
        assert await settle(gate.started.exists)
        server.signal(signum)
        await server.wait_for_output(f"{signum.name}: shutting down")
        gate.release()
        async with await request as response:
            assert response.status == 200
            assert await response.text() == "finished"
    assert await server.wait() == 0
    assert "stopped" in server.output
    assert "Traceback" not in server.output


async def test_unix_socket_permissions_and_removal(
    short_tmp: Path, start_server: StartServer
) -> None:
    path = short_tmp / "cli.sock"
    args = ["--unix-socket", str(path), "--unix-socket-perms", "660"]
    server = start_server([*COMMANDS["python -m aiodjango"], APP, *args])
    assert await server.address() == f"unix:{path}"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o660
    async with (
        aiohttp.ClientSession(connector=aiohttp.UnixConnector(path=str(path))) as session,
        session.get("http://localhost/via/unix") as response,
    ):
        assert (await response.json())["path_info"] == "/via/unix"
    server.signal(signal.SIGTERM)
    assert await server.wait() == 0
    assert not path.exists()


async def test_serves_an_aiohttp_application_as_is(
    tmp_path: Path, start_server: StartServer
) -> None:
    (tmp_path / "a.txt").write_text("static a")
    args = ["--host", "127.0.0.1", "--port", "0", "--static", f"/files={tmp_path}"]
    target = "tests.server.apps:aiohttp_application"
    server = start_server([*COMMANDS["python -m aiodjango"], target, *args])
    url = await server.address()
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{url}/native") as response:
            assert await response.text() == "native aiohttp route"
        async with session.get(f"{url}/files/a.txt") as response:
            assert await response.text() == "static a"
    server.signal(signal.SIGTERM)
    assert await server.wait() == 0


async def test_a_request_stuck_past_shutdown_timeout_does_not_keep_the_process(
    tmp_path: Path, start_server: StartServer
) -> None:
    gate = Gate(tmp_path / "gate")  # never released: the request stays in the app
    env = {GATE_ENV: str(gate.directory)}
    args = ["--host", "127.0.0.1", "--port", "0", "--shutdown-timeout", "0.5"]
    server = start_server([*COMMANDS["python -m aiodjango"], APP, *args], env=env)
    url = await server.address()
    async with aiohttp.ClientSession() as session:
        request = asyncio.ensure_future(session.get(f"{url}/slow"))
        assert await settle(gate.started.exists)
        server.signal(signal.SIGTERM)
        # Well before the app would give up waiting (60 s), the process has ended.
        assert await server.wait(30) == 0
        with pytest.raises(aiohttp.ClientError):
            await request
    assert "exiting without waiting for busy threads" in server.output


async def test_a_second_signal_ends_the_process_at_once(
    tmp_path: Path, start_server: StartServer
) -> None:
    gate = Gate(tmp_path / "gate")  # never released: the graceful stop would wait 60 s
    args = ["--host", "127.0.0.1", "--port", "0", "--shutdown-timeout", "60"]
    server = start_server(
        [*COMMANDS["aiodjango-serve"], APP, *args], env={GATE_ENV: str(gate.directory)}
    )
    url = await server.address()
    async with aiohttp.ClientSession() as session:
        request = asyncio.ensure_future(session.get(f"{url}/slow"))
        assert await settle(gate.started.exists)
        server.signal(signal.SIGTERM)
        await server.wait_for_output("SIGTERM: shutting down")
        server.signal(signal.SIGINT)
        assert await server.wait(30) == 128 + signal.SIGINT
        with pytest.raises(aiohttp.ClientError):
            await request
    assert "SIGINT: exiting without waiting" in server.output
    gate.release()
