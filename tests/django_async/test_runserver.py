"""A project with unannotated async views, served by aiodjango's runserver and by Django's own.

Every Django view must answer the same under both; the project middleware must run for
Django's views (in async mode on aiodjango's loop); the aiohttp-style view is still lifted;
``manage.py check`` names the view whose kind nothing tells.
"""

from __future__ import annotations

import asyncio
import http.client
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from tests.support.processes import ROOT, ServerProcess, environment, free_port

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]

SETTINGS = "tests.django_async.project.settings"
PLAIN_SETTINGS = "tests.django_async.project.settings_plain"
#: Headers both servers must send alike (the server's own, like Date or framing, differ).
COMPARED = (
    "Content-Type",
    "Content-Disposition",
    "Location",
    "Vary",
    "X-Stamp",
    "X-Content-Type-Options",
    "Referrer-Policy",
)


def _listening(server: ServerProcess, port: int, within: float = 60.0) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            pytest.fail(f"server exited early\n{server.stdout}\n{server.stderr}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
        except OSError:
            time.sleep(0.1)
            continue
        return
    pytest.fail(f"nothing listened on {port}\n{server.stderr}")


def _runserver(settings: str, logs: Path) -> ServerProcess:
    port = free_port()
    logs.mkdir()
    server = ServerProcess(
        [sys.executable, "-m", "django", "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=ROOT,
        env=environment(DJANGO_SETTINGS_MODULE=settings),
        logs=logs,
    )
    server.port = port
    _listening(server, port)
    return server


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServerProcess, ...]]:
    """aiodjango's runserver, then Django's own, on the same project."""
    logs = tmp_path_factory.mktemp("servers")
    started = []
    try:
        started.append(_runserver(SETTINGS, logs / "aiodjango"))
        started.append(_runserver(PLAIN_SETTINGS, logs / "django"))
        yield tuple(started)
    finally:
        for server in started:
            server.kill()


class Answer:
    def __init__(self, response: http.client.HTTPResponse) -> None:
        self.status = response.status
        self.headers = response.headers
        self.body = response.read()
        self.cookies = {
            match[1]: match[2]
            for value in response.headers.get_all("Set-Cookie") or []
            if (match := re.match(r"\s*([^=]+)=([^;]*)", value))
        }

    def compared(self) -> tuple[int, bytes, dict[str, str | None]]:
        return self.status, self.body, {name: self.headers.get(name) for name in COMPARED}


def ask(
    server: ServerProcess,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> Answer:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        return Answer(connection.getresponse())
    finally:
        connection.close()


FORM = {"Content-Type": "application/x-www-form-urlencoded"}
REQUESTS: list[tuple[str, str, bytes | None, dict[str, str]]] = [
    ("GET", "/hello/?q=caf%C3%A9", None, {}),
    ("HEAD", "/hello/", None, {}),
    ("GET", "/whoami/", None, {}),
    ("GET", "/pages/some-page/21/", None, {}),
    ("GET", "/pages/some-page/x/", None, {}),  # no pattern: Django's 404 page
    ("GET", "/go/", None, {}),
    ("GET", "/clock/", None, {}),
    ("POST", "/clock/", b"x=1", FORM),  # no CSRF token: refused by the middleware
    ("DELETE", "/clock/", None, {}),  # 405 from the class-based view
    ("GET", "/stream/async/", None, {}),
    ("GET", "/stream/sync/", None, {}),
    ("GET", "/download/", None, {}),
    ("GET", "/empty/", None, {}),
    ("GET", "/not-modified/", None, {}),
    ("POST", "/upload/", b"some bytes", {"Content-Type": "application/octet-stream"}),
    ("GET", "/boom/", None, {}),  # the view raises: Django's 500 page
    ("GET", "/sync/?q=2", None, {}),
]


@pytest.mark.parametrize(("method", "path", "body", "headers"), REQUESTS)
def test_django_views_answer_as_under_djangos_runserver(
    servers: tuple[ServerProcess, ServerProcess],
    method: str,
    path: str,
    body: bytes | None,
    headers: dict[str, str],
) -> None:
    ours, django = (ask(server, method, path, body, headers) for server in servers)
    assert ours.compared() == django.compared()
    if ours.status not in (404, 405, 500):
        assert ours.headers["X-Stamp"] == "stamped"
    # The project middleware ran in async mode for async views served on the loop.
    expected_mode = "sync" if path.startswith("/sync/") else "async"
    if ours.status not in (404, 500):
        assert ours.headers["X-Stamp-Mode"] == expected_mode
        assert django.headers["X-Stamp-Mode"] == "sync"


def test_csrf_is_checked_for_async_views(servers: tuple[ServerProcess, ServerProcess]) -> None:
    for server in servers:
        page = ask(server, "GET", "/comment/")
        assert page.status == 200
        token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page.body)
        assert token is not None
        cookie = {"Cookie": f"csrftoken={page.cookies['csrftoken']}", **FORM}
        accepted = ask(
            server, "POST", "/comment/", b"text=hi&csrfmiddlewaretoken=" + token[1], cookie
        )
        assert accepted.status == 200
        assert accepted.body == b'{"text": "hi", "n": 92}'
        refused = ask(server, "POST", "/comment/", b"text=hi", cookie)
        assert refused.status == 403
        assert b"CSRF" in refused.body


def test_the_aiohttp_style_view_is_still_lifted(
    servers: tuple[ServerProcess, ServerProcess],
) -> None:
    ours = servers[0]
    answer = ask(ours, "GET", "/ticker/abc/")
    assert answer.status == 200
    assert answer.body == b'{"served_by": "aiohttp", "x": "abc"}'
    assert "X-Stamp" not in answer.headers  # no Django middleware around lifted views
    answer = ask(ours, "GET", "/undecided/")
    assert answer.body == b"undecided, an aiohttp request"


def test_runserver_and_check_name_the_undecided_view(
    servers: tuple[ServerProcess, ServerProcess],
) -> None:
    check = subprocess.run(
        [sys.executable, "-m", "django", "check"],
        cwd=ROOT,
        env=environment(DJANGO_SETTINGS_MODULE=SETTINGS),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert check.returncode == 0, check.stderr
    output = check.stderr + check.stdout
    for text in (
        "(aiodjango.W003)",
        "tests.django_async.project.views.undecided for 'undecided/'",
        "@aiodjango.aiohttp_view",
        "@aiodjango.django_view",
    ):
        assert text in output
    assert output.count("aiodjango.W003") == 1  # the others all tell their kind
    assert "(aiodjango.W003)" in servers[0].stdout + servers[0].stderr


async def test_awaiting_views_hold_no_thread_and_sync_views_stay_quick(
    servers: tuple[ServerProcess, ServerProcess],
) -> None:
    """The project runs with 4 threads: 40 views awaiting 1 s would need 10 s on threads."""
    base = f"http://127.0.0.1:{servers[0].port}"
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as client:

        async def slow() -> int:
            async with client.get(f"{base}/slow/?s=1") as response:
                await response.read()
                return response.status

        loop = asyncio.get_running_loop()
        start = loop.time()
        crowd = asyncio.gather(*(slow() for _ in range(40)))
        sync_times = []
        while not crowd.done():
            asked = loop.time()
            async with client.get(f"{base}/sync/?q=1") as response:
                assert await response.text() == "sync q=1"
            if not crowd.done():
                sync_times.append(loop.time() - asked)
        statuses = await crowd
        elapsed = loop.time() - start
    assert statuses == [200] * 40
    assert elapsed < 3.0
    assert sync_times, "no sync request was answered while the async views awaited"
    assert max(sync_times) < 0.5, sync_times


def test_the_command_lists_who_serves_each_pattern() -> None:
    listing = subprocess.run(
        [sys.executable, "-m", "django", "aiodjango_views"],
        cwd=ROOT,
        env=environment(DJANGO_SETTINGS_MODULE=SETTINGS),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    lines = listing.splitlines()
    assert lines[0].split() == ["PATTERN", "SERVED", "BY", "WHY"]
    rows = {line.split("  ")[0].strip(): " ".join(line.split()) for line in lines[1:]}
    assert list(rows)[:3] == [
        "'hello/' [name='hello']",
        "'whoami/'",
        ("'pages/<slug:slug>/<int:number>/' [name='page']"),
    ]
    assert rows["'hello/' [name='hello']"].endswith(
        "Django async, on the loop uses django.http.JsonResponse"
    )
    assert rows["'clock/'"].endswith(
        "Django async, on the loop as_view() of the async class-based view Clock"
    )
    assert rows["'sync/'"].endswith("Django, in a worker thread a sync view")
    assert rows["'ticker/<str:x>/'"].endswith("aiohttp uses aiohttp.web.json_response")
    assert "lifted by default (manage.py check warns: aiodjango.W003)" in rows["'undecided/'"]


def test_gunicorns_aiohttp_worker_serves_them_alike(
    servers: tuple[ServerProcess, ServerProcess], tmp_path: Path
) -> None:
    port = free_port()
    (tmp_path / "gunicorn").mkdir()
    gunicorn = ServerProcess(
        [
            Path(sys.executable).parent / "gunicorn",
            "tests.django_async.project.wsgi:app",
            "--worker-class",
            "aiohttp.worker.GunicornWebWorker",
            "--bind",
            f"127.0.0.1:{port}",
        ],
        cwd=ROOT,
        env=environment(DJANGO_SETTINGS_MODULE=SETTINGS),
        logs=tmp_path / "gunicorn",
    )
    gunicorn.port = port
    try:
        _listening(gunicorn, port)
        for method, path, body, headers in REQUESTS:
            ours, django = (
                ask(gunicorn, method, path, body, headers),
                ask(servers[1], method, path, body, headers),
            )
            assert ours.compared() == django.compared(), path
        assert ask(gunicorn, "GET", "/hello/").headers["X-Stamp-Mode"] == "async"
    finally:
        gunicorn.kill()
