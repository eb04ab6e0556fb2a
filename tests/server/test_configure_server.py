"""configure_server() and Server, in this process, against real TCP and unix sockets."""

from __future__ import annotations

import asyncio
import os
import socket
import stat
import threading
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from aiodjango.server import Server, configure_server, describe_address
from tests.server.apps import Gate, make_app, native, websocket_echo
from tests.support.measures import open_fds, refuses_connections
from tests.support.waiting import settle


@pytest.fixture
def gate(tmp_path: Path) -> Gate:
    return Gate(tmp_path / "gate")


def local_server(application: Any = None, **kwargs: Any) -> Server:
    kwargs.setdefault("host", "127.0.0.1")
    kwargs.setdefault("port", 0)
    return configure_server(application or make_app(), **kwargs)


async def get_json(url: str, **kwargs: Any) -> Any:
    async with aiohttp.ClientSession() as session, session.get(url, **kwargs) as response:
        assert response.status == 200, await response.text()
        return await response.json()


async def test_port_zero_serves_a_validated_app_and_reports_the_real_port() -> None:
    server = local_server()
    assert server.addresses == []
    async with server:
        port = server.port
        assert port is not None and port > 0
        assert server.addresses == [("127.0.0.1", port)]
        assert server.urls == [f"http://127.0.0.1:{port}"]
        base = f"http://127.0.0.1:{port}"
        seen = await get_json(f"{base}/some/where?x=1&y=%20")
        assert seen["method"] == "GET"
        assert (seen["script_name"], seen["path_info"]) == ("", "/some/where")
        assert seen["query_string"] == "x=1&y=%20"
        async with (
            aiohttp.ClientSession() as session,
            session.post(f"{base}/echo", data=b"posted body") as response,
        ):
            assert response.status == 200
            assert (await response.json())["body"] == "posted body"
    assert server.addresses == []
    assert refuses_connections(("127.0.0.1", port))


async def test_mounted_at_a_script_name_takes_only_its_prefix() -> None:
    async with local_server(script_name="/app") as server:
        base = f"http://127.0.0.1:{server.port}"
        seen = await get_json(f"{base}/app/page?q=1")
        assert (seen["script_name"], seen["path_info"]) == ("/app", "/page")
        assert seen["query_string"] == "q=1"
        async with aiohttp.ClientSession() as session:
            async with session.get(f"{base}/other") as response:
                assert response.status == 404
            async with session.get(f"{base}/application") as response:
                assert response.status == 404


async def test_unix_socket_with_default_and_custom_permissions(short_tmp: Path) -> None:
    for perms in (None, 0o660):
        path = short_tmp / "server.sock"
        options = {} if perms is None else {"unix_socket_perms": perms}
        async with local_server(unix_socket=path, **options) as server:
            mode = os.stat(path).st_mode
            assert stat.S_ISSOCK(mode)
            assert stat.S_IMODE(mode) == (0o600 if perms is None else perms)
            assert server.addresses == [str(path)]
            assert server.port is None
            assert server.urls == [f"unix:{path}"]
            connector = aiohttp.UnixConnector(path=str(path))
            async with (
                aiohttp.ClientSession(connector=connector) as session,
                session.get("http://localhost/over/unix") as response,
            ):
                assert response.status == 200
                assert (await response.json())["path_info"] == "/over/unix"
        assert not path.exists()


async def test_unix_socket_mounted_at_a_script_name(short_tmp: Path) -> None:
    path = short_tmp / "mounted.sock"
    async with local_server(unix_socket=path, script_name="/mount"):
        connector = aiohttp.UnixConnector(path=str(path))
        async with (
            aiohttp.ClientSession(connector=connector) as session,
            session.get("http://localhost/mount/x") as response,
        ):
            seen = await response.json()
    assert (seen["script_name"], seen["path_info"]) == ("/mount", "/x")
    assert not path.exists()


async def test_a_stale_socket_file_is_replaced_but_other_files_are_kept(short_tmp: Path) -> None:
    stale = short_tmp / "stale.sock"
    with socket.socket(socket.AF_UNIX) as leftover:
        leftover.bind(str(stale))
    assert stale.exists()
    async with local_server(unix_socket=stale) as server:
        assert server.addresses == [str(stale)]
    assert not stale.exists()

    regular = short_tmp / "regular"
    regular.write_text("not a socket")
    with pytest.raises(OSError, match=f"cannot listen on unix:{regular}"):
        await local_server(unix_socket=regular).start()
    assert regular.read_text() == "not a socket"


async def test_listens_on_a_given_socket() -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    async with local_server(socket=sock) as server:
        assert server.port == port
        seen = await get_json(f"http://127.0.0.1:{port}/given")
        assert seen["path_info"] == "/given"
    assert sock.fileno() == -1  # the listening socket was closed at stop


async def test_static_and_extra_routes_beside_the_wsgi_app(tmp_path: Path) -> None:
    (tmp_path / "hello.txt").write_text("static hello")
    server = local_server(
        static=[("/files", tmp_path)],
        routes=[("GET", "/native", native)],
    )
    async with server, aiohttp.ClientSession() as session:
        base = f"http://127.0.0.1:{server.port}"
        async with session.get(f"{base}/files/hello.txt") as response:
            assert response.status == 200
            assert await response.text() == "static hello"
        async with session.get(f"{base}/native") as response:
            assert await response.text() == "native aiohttp route"
        async with session.get(f"{base}/files/missing.txt") as response:
            assert response.status == 404
        seen = await get_json(f"{base}/anything/else")
        assert seen["path_info"] == "/anything/else"


async def test_on_finish_runs_once_at_stop_even_if_one_fails() -> None:
    calls: list[str] = []

    def failing() -> None:
        calls.append("failing")
        raise RuntimeError("a broken callback")

    async def asynchronous() -> None:
        calls.append("async")

    server = local_server(on_finish=[lambda: calls.append("sync"), failing, asynchronous])
    await server.start()
    await get_json(f"http://127.0.0.1:{server.port}/")
    assert calls == []
    await server.stop()
    await server.stop()
    assert calls == ["sync", "failing", "async"]


async def test_stop_lets_a_request_in_flight_finish(gate: Gate) -> None:
    threads_before, descriptors_before = threading.active_count(), open_fds()
    finished: list[str] = []
    server = local_server(make_app(gate), on_finish=[lambda: finished.append("done")])
    await server.start()
    port = server.port
    assert port is not None
    async with aiohttp.ClientSession() as session:
        request = asyncio.ensure_future(session.get(f"http://127.0.0.1:{port}/slow"))
        assert await settle(gate.started.exists)
        stopping = asyncio.ensure_future(server.stop())
        assert await settle(lambda: refuses_connections(("127.0.0.1", port)))
        assert not stopping.done()
        assert finished == []
        gate.release()
        async with await request as response:
            assert response.status == 200
            assert await response.text() == "finished"
        await asyncio.wait_for(stopping, 30)
    assert finished == ["done"]
    # The adapter's worker threads end and every socket is closed.
    assert await settle(lambda: threading.active_count() <= threads_before)
    assert await settle(lambda: open_fds() <= descriptors_before)


async def test_stop_gives_up_on_a_stuck_request_after_shutdown_timeout(gate: Gate) -> None:
    finished: list[str] = []
    server = local_server(
        make_app(gate), shutdown_timeout=0.2, on_finish=[lambda: finished.append("done")]
    )
    await server.start()
    try:
        async with aiohttp.ClientSession() as session:
            request = asyncio.ensure_future(session.get(f"http://127.0.0.1:{server.port}/slow"))
            assert await settle(gate.started.exists)
            await asyncio.wait_for(server.stop(), 30)
            assert finished == ["done"]
            with pytest.raises(aiohttp.ClientError):
                await request
    finally:
        gate.release()  # let the worker thread end


async def test_open_websockets_are_closed_with_1001_at_stop() -> None:
    server = local_server(routes=[("GET", "/ws", websocket_echo)])
    await server.start()
    async with aiohttp.ClientSession() as session:
        url = f"http://127.0.0.1:{server.port}/ws"
        sockets = [await session.ws_connect(url) for _ in range(3)]
        for ws in sockets:
            await ws.send_str("ping")
            assert (await ws.receive_str(timeout=10)) == "ping"
        await asyncio.wait_for(server.stop(), 30)
        for ws in sockets:
            message = await ws.receive(timeout=10)
            assert message.type is aiohttp.WSMsgType.CLOSE
            # (mypy takes the enum member and the number for different values)
            assert message.data == aiohttp.WSCloseCode.GOING_AWAY == 1001  # type: ignore[comparison-overlap]
            await ws.close()


async def test_unknown_options_and_conflicting_addresses_are_refused() -> None:
    with pytest.raises(TypeError, match="'no_such_option'"):
        configure_server(make_app(), no_such_option=1)
    with socket.socket() as sock, pytest.raises(ValueError, match="unix_socket or socket"):
        configure_server(make_app(), unix_socket="/tmp/x.sock", socket=sock)
    with pytest.raises(ValueError, match="shutdown_timeout"):
        configure_server(make_app(), shutdown_timeout=-1)


async def test_an_address_in_use_is_an_oserror_naming_it() -> None:
    finished: list[str] = []
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        server = local_server(port=port, on_finish=[lambda: finished.append("done")])
        with pytest.raises(OSError, match=f"cannot listen on http://127.0.0.1:{port}"):
            await server.start()
    assert server.addresses == []
    assert finished == ["done"]


async def test_server_serves_any_aiohttp_application() -> None:
    app = web.Application()
    app.router.add_get("/", native)
    async with Server(app, host="127.0.0.1", port=0) as server:
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"http://127.0.0.1:{server.port}/") as response,
        ):
            assert await response.text() == "native aiohttp route"
        with pytest.raises(RuntimeError, match="already started"):
            await server.start()


def test_addresses_are_described_as_urls() -> None:
    assert describe_address(("127.0.0.1", 8000)) == "http://127.0.0.1:8000"
    assert describe_address(("::1", 8000, 0, 0)) == "http://[::1]:8000"
    assert describe_address("/run/site.sock") == "unix:/run/site.sock"
