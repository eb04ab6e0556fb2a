"""A real nginx in front of a server under test, configured from ``docs/deployment.rst``.

The configuration is the ``.. code-block:: nginx`` block of the deployment guide with only the
machine-specific values changed (upstream address, listen ports, certificate paths, static
directory, ``server_name``), inside an ``http`` block that keeps every file nginx writes in the
test's directory. So the documented configuration is the tested one: a change to the docs
that breaks a deployment fails the suite, and a change that removes a line this module
substitutes fails it with a message saying which.

Debian's ``nginx`` package provides the binary (``python3 dev.py test`` installs it where it is
missing). It runs in the foreground, as the master of one worker, with a certificate made by
``trustme`` for ``127.0.0.1``; the fixture stops it and checks that it left nothing behind.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import ssl
import subprocess
import textwrap
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
import trustme

from .processes import ROOT, free_port
from .waiting import settle

#: The guide whose nginx configuration is tested.
DEPLOYMENT_GUIDE = ROOT / "docs" / "deployment.rst"
#: Where the documented ``location /static/`` takes files from, in the test's directory.
STATIC_DIRECTORY = "static"
#: The five kinds of temporary files nginx may write (request bodies, buffered responses...).
TEMPORARY_PATHS = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
#: Debian's types for static files (``.css``, ``.js``...), as its own nginx.conf includes them.
MIME_TYPES = Path("/etc/nginx/mime.types")


def documented_config(guide: Path = DEPLOYMENT_GUIDE) -> str:
    """The one ``.. code-block:: nginx`` block of ``guide``, dedented."""
    blocks = re.findall(
        r"^\.\. code-block:: nginx\n\n((?:(?:[ ]{3,}.*)?\n)+)", guide.read_text(), re.MULTILINE
    )
    if len(blocks) != 1:
        raise AssertionError(f"{guide} should have one nginx code block, it has {len(blocks)}")
    return textwrap.dedent(blocks[0]).strip() + "\n"


def substitute(config: str, documented: str, tested: str, times: int = 1) -> str:
    """``config`` with ``documented`` (found exactly ``times`` times) replaced by ``tested``."""
    found = config.count(documented)
    if found != times:
        raise AssertionError(
            f"the nginx configuration in {DEPLOYMENT_GUIDE.name} should contain "
            f"{documented!r} {times} time(s), it has it {found} time(s): update the guide "
            f"or {__name__}"
        )
    return config.replace(documented, tested)


class Nginx:
    """One nginx master (and its worker) running the documented configuration, on
    127.0.0.1's free ports: plain HTTP on :attr:`http_port`, TLS and HTTP/2 on
    :attr:`https_port`, proxying to 127.0.0.1:``upstream_port``."""

    def __init__(self, directory: Path, upstream_port: int, ca: trustme.CA) -> None:
        binary = shutil.which("nginx") or shutil.which("/usr/sbin/nginx")
        if binary is None:
            pytest.fail("no nginx: install Debian's nginx (python3 dev.py test does)")
        self.binary = binary
        self.directory = directory
        self.ca = ca
        self.upstream_port = upstream_port
        self.http_port = free_port()
        self.https_port = free_port()
        self.static = directory / STATIC_DIRECTORY
        self.static.mkdir()
        self.config_path = directory / "nginx.conf"
        self.config_path.write_text(self.config())
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The base URL of the HTTPS server."""
        return f"https://127.0.0.1:{self.https_port}"

    def config(self) -> str:
        """The complete nginx.conf: the documented block with this test's values, inside an
        ``http`` block whose files (pid, logs, temporary files) are in :attr:`directory`."""
        certificate = self.ca.issue_cert("127.0.0.1", "localhost")
        chain = self.directory / "chain.pem"
        key = self.directory / "key.pem"
        certificate.private_key_pem.write_to_path(str(key))
        chain.write_bytes(b"".join(blob.bytes() for blob in certificate.cert_chain_pems))

        site = documented_config()
        site = substitute(site, "server 127.0.0.1:8000;", f"server 127.0.0.1:{self.upstream_port};")
        site = substitute(site, "listen 80;", f"listen 127.0.0.1:{self.http_port};")
        site = substitute(
            site, "listen 443 ssl http2;", f"listen 127.0.0.1:{self.https_port} ssl http2;"
        )
        # The redirect goes to the HTTPS port, which is not 443 here.
        site = substitute(
            site, "https://$host$request_uri", f"https://$host:{self.https_port}$request_uri"
        )
        site = substitute(site, "server_name example.com;", "server_name 127.0.0.1;", times=2)
        site = substitute(site, "/etc/ssl/certs/example.com.pem;", f"{chain};")
        site = substitute(site, "/etc/ssl/private/example.com.key;", f"{key};")
        site = substitute(site, "alias /srv/mysite/staticfiles/;", f"alias {self.static}/;")

        # Started as root, the master hands the work to an unprivileged user, which could not
        # read this directory: the worker stays root, in tests only.
        user = "user root;\n" if os.geteuid() == 0 else ""
        temporary = "".join(
            f"    {kind}_temp_path {self.directory / kind};\n" for kind in TEMPORARY_PATHS
        )
        types = f"    include {MIME_TYPES};\n" if MIME_TYPES.exists() else ""
        return (
            f"{user}worker_processes 1;\n"
            f"pid {self.directory / 'nginx.pid'};\n"
            f"error_log {self.directory / 'error.log'} info;\n"
            "events {\n    worker_connections 512;\n}\n"
            "http {\n"
            # As in Debian's /etc/nginx/nginx.conf, whose http block includes the site.
            "    sendfile on;\n"
            "    tcp_nopush on;\n"
            "    gzip on;\n"
            f"{types}"
            "    default_type application/octet-stream;\n"
            f"    access_log {self.directory / 'access.log'};\n"
            f"{temporary}"
            f"{textwrap.indent(site, '    ')}"
            "}\n"
        )

    async def start(self, within: float = 30.0) -> None:
        """Start nginx in the foreground; return once it accepts connections on both ports."""
        process = self.launch()

        async def listening_or_exited() -> bool:
            if process.poll() is not None:
                return True
            for port in (self.http_port, self.https_port):
                try:
                    _, writer = await asyncio.open_connection("127.0.0.1", port)
                except OSError:
                    return False
                writer.close()
                await writer.wait_closed()
            return True

        if not await settle(listening_or_exited, within):
            pytest.fail(f"nginx did not listen within {within}s\n{self.log}")
        if process.poll() is not None:
            pytest.fail(f"nginx exited with {process.returncode}\n{self.log}")

    def launch(self) -> subprocess.Popen[bytes]:
        """The nginx master, started in the foreground with this configuration."""
        log = (self.directory / "stderr.txt").open("ab")
        with log:
            self.process = subprocess.Popen(
                [
                    self.binary,
                    "-p",
                    f"{self.directory}/",
                    "-c",
                    str(self.config_path),
                    "-e",
                    str(self.directory / "error.log"),
                    "-g",
                    "daemon off;",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # its worker in its group, which stop() checks is empty
            )
        return self.process

    def client_context(self) -> ssl.SSLContext:
        """An SSL context that trusts this nginx's certificate (and nothing else)."""
        context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
        self.ca.configure_trust(context)
        return context

    @property
    def log(self) -> str:
        """nginx's error log and anything it printed."""
        parts = [self.directory / "stderr.txt", self.directory / "error.log"]
        return "\n".join(p.read_text(errors="replace") for p in parts if p.exists())

    def stop(self) -> None:
        """Stop nginx (its fast shutdown, SIGTERM) and check that it left nothing behind: no
        process of its group, no pid file, no temporary file."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
                pytest.fail(f"nginx did not stop within 20 s of SIGTERM\n{self.log}")
        try:
            os.killpg(self.process.pid, 0)
        except ProcessLookupError:
            pass
        else:
            os.killpg(self.process.pid, signal.SIGKILL)
            pytest.fail("an nginx worker outlived its master")
        assert not (self.directory / "nginx.pid").exists(), "nginx left its pid file"
        left = [p for kind in TEMPORARY_PATHS for p in (self.directory / kind).rglob("*")]
        assert not [p for p in left if p.is_file()], f"nginx left temporary files: {left}"


StartNginx = Callable[[int], Awaitable[Nginx]]


@pytest.fixture(scope="session")
def certificate_authority() -> trustme.CA:
    """A throwaway certificate authority for the tests' TLS servers."""
    return trustme.CA()


@pytest.fixture
async def start_nginx(
    tmp_path: Path, certificate_authority: trustme.CA
) -> AsyncIterator[StartNginx]:
    """A factory for :class:`Nginx` in front of 127.0.0.1:``upstream_port``, listening when
    it returns; every one is stopped at teardown, and checked to leave nothing behind."""
    started: list[Nginx] = []

    async def start(upstream_port: int) -> Nginx:
        directory = tmp_path / f"nginx-{len(started)}"
        directory.mkdir()
        nginx = Nginx(directory, upstream_port, certificate_authority)
        started.append(nginx)
        await nginx.start()
        return nginx

    yield start
    for nginx in started:
        nginx.stop()
