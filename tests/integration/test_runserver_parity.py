"""aiodjango's runserver answers and logs like Django's own, on the same project and requests."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import aiohttp
import pytest

from tests.support.processes import ServerProcess, StartServer, free_port

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]

#: One access log line: method, target as sent, status, bytes of body.
LOG_LINE = re.compile(r'"([A-Z]+) (\S+) HTTP/1\.[01]" (\d{3}) (\d+)')

#: Django's own runserver: the example project without aiodjango in INSTALLED_APPS, so that
#: django.contrib.staticfiles' runserver (Django's, serving static files) is the one used.
PLAIN_DJANGO_SETTINGS = """\
from example_project.settings import *  # noqa: F403

INSTALLED_APPS = [app for app in INSTALLED_APPS if app != "aiodjango"]  # noqa: F405
"""

NOT_FOUND_TEMPLATE = "<!doctype html><title>Lost</title><p>This project's own 404 page.</p>\n"

# (method, path): Django views, static files (the admin's too), misses, redirects, a
# streamed download, a file sent with sendfile, a refused POST.
REQUESTS = [
    ("GET", "/"),
    ("GET", "/accounts/login/"),
    ("GET", "/static/showcase/style.css"),
    ("GET", "/static/admin/css/base.css"),
    ("HEAD", "/static/admin/css/base.css"),
    ("GET", "/static/showcase/missing.css"),
    ("GET", "/static/admin/"),
    ("GET", "/no/such/page/"),
    ("GET", "/chat/"),
    ("GET", "/download/stream/?mib=1"),
    ("GET", "/download/file/"),
    ("POST", "/accounts/login/"),
]


async def start_runserver(
    start_server: StartServer, project: Path, *args: str, env: dict[str, str] | None = None
) -> ServerProcess:
    port = free_port()
    server = start_server(
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload", *args],
        cwd=project,
        env=env,
    )
    server.port = port
    await server.wait_for_port(port)
    return server


async def send_all(port: int) -> list[tuple[str, str, int, int]]:
    """Send every request of REQUESTS; what the client saw: method, path, status, body size."""
    seen = []
    async with aiohttp.ClientSession(auto_decompress=False) as session:
        for method, path in REQUESTS:
            url = f"http://127.0.0.1:{port}{path}"
            async with session.request(method, url, allow_redirects=False) as response:
                body = await response.read()
                seen.append((method, path, response.status, len(body)))
    return seen


async def logged(server: ServerProcess, count: int) -> list[tuple[str, str, int, int]]:
    """The first ``count`` access log lines, once the server has written them."""
    await server.wait_for_output("HTTP/1.1", times=count)
    lines = LOG_LINE.findall(server.stderr)
    return [(method, path, int(status), int(size)) for method, path, status, size in lines]


async def test_log_lines_match_django_s_runserver(
    start_server: StartServer, example_project: Path
) -> None:
    (example_project / "plain_django_settings.py").write_text(PLAIN_DJANGO_SETTINGS)
    django_server = await start_runserver(
        start_server,
        example_project,
        env={"DJANGO_SETTINGS_MODULE": "plain_django_settings"},
    )
    assert "Starting development server" in django_server.stdout
    ours = await start_runserver(start_server, example_project)
    assert "Starting aiodjango development server" in ours.stdout

    django_seen = await send_all(django_server.port)
    our_seen = await send_all(ours.port)
    assert our_seen == django_seen
    django_log = await logged(django_server, len(REQUESTS))
    our_log = await logged(ours, len(REQUESTS))
    assert our_log == django_log
    # Sizes are the bodies' (HEAD: none), not aiohttp's count of headers plus written bytes.
    assert [size for *_, size in our_log] == [
        0 if method == "HEAD" else size for method, _, _, size in our_seen
    ]
    css = next(size for method, path, _, size in our_log if path.endswith("base.css"))
    assert css > 1000
    assert ("GET", "/download/file/", 200, 32 * 1024 * 1024) in our_log


async def test_a_missing_static_file_gets_django_s_debug_404(
    start_server: StartServer, example_project: Path
) -> None:
    server = await start_runserver(start_server, example_project)
    url = f"http://127.0.0.1:{server.port}/static/showcase/missing.css"
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        assert response.status == 404
        assert response.content_type == "text/html"
        page = await response.text()
    assert "Page not found" in page
    # Django's staticfiles view said so, in its own words, not aiohttp's plain text.
    assert "&#x27;showcase/missing.css&#x27; could not be found" in page
    assert f"http://127.0.0.1:{server.port}/static/showcase/missing.css" in page


async def test_insecure_without_debug_uses_the_project_s_404_page(
    start_server: StartServer, example_project: Path
) -> None:
    (example_project / "showcase" / "templates" / "404.html").write_text(NOT_FOUND_TEMPLATE)
    server = await start_runserver(
        start_server, example_project, "--insecure", env={"DJANGO_DEBUG": "0"}
    )
    base = f"http://127.0.0.1:{server.port}"
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{base}/static/showcase/missing.css") as response:
            assert response.status == 404
            assert await response.text() == NOT_FOUND_TEMPLATE
        async with session.get(f"{base}/static/showcase/style.css") as response:
            assert response.status == 200
            assert ".card" in await response.text()
    await server.wait_for_output('"GET /static/showcase/missing.css HTTP/1.1" 404')
    assert (
        f'"GET /static/showcase/missing.css HTTP/1.1" 404 {len(NOT_FOUND_TEMPLATE)}'
        in server.stderr
    )
