"""TLS without a proxy: the command line serving HTTPS and WSS with trustme certificates, and
one clear line for each file or option it cannot use."""

from __future__ import annotations

import asyncio
import signal
import ssl
from pathlib import Path

import aiohttp
import pytest

from aiodjango.server import Server
from aiodjango.server.tls import TLSSetupError, make_ssl_context
from tests.support.certificates import Certificates, make_certificates
from tests.support.processes import (
    COMMANDS,
    StartServer,
    assert_one_line_error,
    environment,
    run_cli,
)

PROJECT = "tests.project.wsgi:app"
PROJECT_ENV = {"DJANGO_SETTINGS_MODULE": "tests.project.settings"}


@pytest.fixture
def certificates(tmp_path: Path) -> Certificates:
    return make_certificates(tmp_path / "tls")


@pytest.mark.slow
@pytest.mark.parametrize("loop", ["asyncio", "uvloop"])
async def test_https_and_wss_through_the_command_line(
    start_server: StartServer, certificates: Certificates, loop: str
) -> None:
    server = start_server(
        [
            *COMMANDS["aiodjango-serve"],
            PROJECT,
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--certfile",
            str(certificates.certfile),
            "--keyfile",
            str(certificates.keyfile),
            "--loop",
            loop,
        ],
        env=PROJECT_ENV,
    )
    base = await server.address()
    assert base.startswith("https://127.0.0.1:")
    trusted = certificates.client_context()
    async with aiohttp.ClientSession() as client:
        async with client.get(f"{base}/hello/", ssl=trusted) as response:
            assert response.status == 200
            assert (await response.text()).startswith("sync hello from pid")
        async with client.get(f"{base}/where/", ssl=trusted) as response:
            seen_by_django = await response.json()
        async with client.get(f"{base}/async/where/", ssl=trusted) as response:
            seen_by_lifted = await response.json()
        async with client.ws_connect(f"{base.replace('https', 'wss')}/ws/echo/", ssl=trusted) as ws:
            await ws.send_str("over tls")
            assert await ws.receive_str(timeout=10) == "echo: over tls"
    assert seen_by_django["scheme"] == seen_by_django["url_scheme"] == "https"
    assert seen_by_lifted["scheme"] == "https" and seen_by_lifted["secure"] is True
    assert seen_by_lifted["loop"].startswith("uvloop." if loop == "uvloop" else "asyncio.")
    server.signal(signal.SIGTERM)
    assert await server.wait() == 0
    assert "Traceback" not in server.stderr


@pytest.mark.slow
async def test_plain_http_and_untrusting_clients_are_refused_and_serving_goes_on(
    start_server: StartServer, certificates: Certificates
) -> None:
    """A WSGI application (the configure_server path), with key and chain in one file."""
    server = start_server(
        [
            *COMMANDS["python -m aiodjango"],
            "tests.server.apps:application",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--certfile",
            str(certificates.combined),
        ]
    )
    base = await server.address()
    host, port = base.removeprefix("https://").rsplit(":", 1)
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(), timeout=10)  # closed, without an HTTP answer
    assert not answer.startswith(b"HTTP/")
    writer.close()
    async with aiohttp.ClientSession() as client:
        # A client that does not trust the certificate gives up during the handshake.
        with pytest.raises(aiohttp.ClientConnectorCertificateError):
            await client.get(f"{base}/x")
        async with client.post(
            f"{base}/x", data=b"body", ssl=certificates.client_context()
        ) as response:
            assert response.status == 200
            seen = await response.json()
    assert seen["url_scheme"] == "https" and seen["body"] == "body"
    server.signal(signal.SIGTERM)
    assert await server.wait() == 0


@pytest.mark.slow
async def test_ca_certs_require_a_client_certificate(
    start_server: StartServer, certificates: Certificates
) -> None:
    server = start_server(
        [
            *COMMANDS["python -m aiodjango"],
            "tests.server.apps:application",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--certfile",
            str(certificates.combined),
            "--ca-certs",
            str(certificates.ca_file),
        ]
    )
    base = await server.address()
    async with aiohttp.ClientSession() as client:
        async with client.get(
            f"{base}/", ssl=certificates.client_context(with_certificate=True)
        ) as response:
            assert response.status == 200
        with pytest.raises(aiohttp.ClientError):
            async with client.get(f"{base}/", ssl=certificates.client_context()) as response:
                await response.read()
    server.signal(signal.SIGTERM)
    assert await server.wait() == 0


@pytest.mark.parametrize(
    ("options", "fragments"),
    [
        (["--certfile", "{tmp}/missing.pem"], ["--certfile", "missing.pem", "No such file"]),
        (
            ["--certfile", "{cert}", "--keyfile", "{tmp}/missing.pem"],
            ["--keyfile", "missing.pem", "No such file"],
        ),
        (
            ["--certfile", "{cert}", "--keyfile", "{other_key}"],
            ["--keyfile", "other-key.pem", "does not match the certificate in --certfile"],
        ),
        (["--certfile", "{cert}"], ["--certfile", "cert.pem", "no PEM private key", "--keyfile"]),
        (["--certfile", "{key}", "--keyfile", "{key}"], ["--certfile", "no PEM certificate"]),
        (["--certfile", "{cert}", "--keyfile", "{cert}"], ["--keyfile", "no PEM private key"]),
        (
            ["--certfile", "{cert}", "--keyfile", "{encrypted_key}"],
            ["--keyfile", "encrypted-key.pem", "encrypted"],
        ),
        (
            ["--certfile", "{combined}", "--ssl-ciphers", "NO-SUCH-CIPHER"],
            ["--ssl-ciphers", "'NO-SUCH-CIPHER'", "no cipher"],
        ),
        (
            ["--certfile", "{combined}", "--ca-certs", "{tmp}/missing.pem"],
            ["--ca-certs", "missing.pem"],
        ),
        (["--keyfile", "{key}"], ["--keyfile needs --certfile"]),
    ],
)
def test_unusable_tls_files_are_one_line_and_status_2(
    certificates: Certificates, tmp_path: Path, options: list[str], fragments: list[str]
) -> None:
    paths = {
        "tmp": tmp_path,
        "cert": certificates.certfile,
        "key": certificates.keyfile,
        "other_key": certificates.other_key,
        "encrypted_key": certificates.encrypted_key,
        "combined": certificates.combined,
    }
    arguments = [option.format(**paths) for option in options]
    for target in ("tests.server.apps:application", PROJECT):
        result = run_cli(target, "--port", "0", *arguments, env=environment(**PROJECT_ENV))
        assert_one_line_error(result, *fragments)


async def test_server_speaks_https_with_files_or_a_context(certificates: Certificates) -> None:
    """From Python: the files on Server (errors name the argument), or a context made once."""
    from aiohttp import web

    async def scheme(request: web.Request) -> web.Response:
        return web.Response(text=request.scheme)

    app = web.Application()
    app.router.add_get("/", scheme)
    with pytest.raises(TLSSetupError, match=r"keyfile .*does not match the certificate"):
        Server(app, certfile=certificates.certfile, keyfile=certificates.other_key)
    with pytest.raises(TLSSetupError, match="keyfile needs certfile"):
        Server(app, keyfile=certificates.keyfile)
    context = make_ssl_context(certificates.combined)
    with pytest.raises(ValueError, match="give ssl_context or certfile, not both"):
        Server(app, certfile=certificates.certfile, ssl_context=context)
    async with Server(app, host="127.0.0.1", port=0, ssl_context=context) as server:
        assert server.scheme == "https" and server.urls[0].startswith("https://127.0.0.1:")
        async with (
            aiohttp.ClientSession() as client,
            client.get(server.urls[0], ssl=certificates.client_context()) as response,
        ):
            assert await response.text() == "https"


def test_a_tls_context_is_strict_by_default(certificates: Certificates) -> None:
    context = make_ssl_context(certificates.certfile, certificates.keyfile)
    assert context.minimum_version >= ssl.TLSVersion.TLSv1_2
    assert context.verify_mode == ssl.CERT_NONE  # no client certificates without ca_certs
    mutual = make_ssl_context(certificates.combined, ca_certs=certificates.ca_file)
    assert mutual.verify_mode == ssl.CERT_REQUIRED
