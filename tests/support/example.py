"""The example project in tests: a prepared copy, and a client logged in through its form."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import aiohttp

from .processes import ROOT, ServerProcess, environment

#: The demo users' password (``manage.py create_demo_users``).
PASSWORD = "aiodjango-demo"


def prepare_example_project(copy: Path, *, collectstatic: bool = False) -> Path:
    """Copy the example project to ``copy``, migrate it and create its demo users (and collect
    its static files, for servers that serve them); tests may then edit its files."""
    shutil.copytree(
        ROOT / "example_project",
        copy,
        ignore=shutil.ignore_patterns("db.sqlite3", "staticfiles", "__pycache__"),
    )
    commands = [["migrate", "--noinput", "-v", "0"], ["create_demo_users"]]
    if collectstatic:
        commands.append(["collectstatic", "--noinput", "-v", "0"])
    for command in commands:
        subprocess.run(
            [sys.executable, "manage.py", *command],
            cwd=copy,
            env=environment(),
            check=True,
            timeout=120,
            stdout=subprocess.DEVNULL,
        )
    return copy


def base(server: ServerProcess) -> str:
    """The server's base URL on 127.0.0.1."""
    return f"http://127.0.0.1:{server.port}"


async def logged_in(server: ServerProcess, username: str) -> aiohttp.ClientSession:
    """A client session logged in through Django's login form, CSRF token and all; its cookie
    works on every server sharing the project's database."""
    client = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
    async with client.get(f"{base(server)}/accounts/login/") as response:
        page = await response.text()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert token is not None
    form = {"username": username, "password": PASSWORD, "csrfmiddlewaretoken": token[1]}
    async with client.post(
        f"{base(server)}/accounts/login/", data=form, allow_redirects=False
    ) as response:
        assert response.status == 302, await response.text()
    return client
