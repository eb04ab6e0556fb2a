"""Real frameworks through the adapter: Django's WSGI handler and a Flask app."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import flask
import pytest
from django.core.signals import request_finished
from django.core.wsgi import get_wsgi_application

from tests.support.servers import MakeServed

from . import django_urls


@pytest.fixture
def django_app(settings: Any) -> Iterator[Any]:
    settings.ROOT_URLCONF = "tests.wsgi.django_urls"
    django_urls.view_threads.clear()
    django_urls.served_file.clear()
    yield get_wsgi_application()


async def test_django_views_through_the_adapter(
    serve_wsgi: MakeServed, django_app: Any, tmp_path: Path
) -> None:
    finished_threads: list[int] = []

    def on_finished(**kwargs: Any) -> None:
        finished_threads.append(threading.get_ident())

    request_finished.connect(on_finished)
    try:
        data = os.urandom(200_000)
        (tmp_path / "data.bin").write_bytes(data)
        django_urls.served_file.append(tmp_path / "data.bin")
        served = await serve_wsgi(django_app, "/site")
        client = served.client

        response = await client.get("/site/hello/")
        assert response.status == 200
        assert response.headers["Content-Length"] == str(len(await response.read()))
        assert await response.text() == "hello from django at /site/hello/"
        # close() (which sends request_finished) ran on the view's own worker thread.
        assert finished_threads == django_urls.view_threads

        response = await client.get("/site/stream/")
        assert await response.text() == "".join(f"block {n}\n" for n in range(5))

        response = await client.get("/site/file/")
        assert response.headers["Content-Length"] == str(len(data))
        assert "data.bin" in response.headers["Content-Disposition"]
        assert await response.read() == data

        form = aiohttp.FormData()
        form.add_field("field", "value")
        form.add_field("document", data, filename="upload.bin")
        response = await client.post("/site/upload/", data=form)
        assert await response.json() == {"name": "upload.bin", "size": len(data), "field": "value"}

        assert (await client.get("/site/missing/")).status == 404
        assert len(finished_threads) == 5
    finally:
        request_finished.disconnect(on_finished)


async def test_flask_app_through_the_adapter(serve_wsgi: MakeServed, tmp_path: Path) -> None:
    app = flask.Flask(__name__)
    (tmp_path / "page.txt").write_text("a file from flask\n")

    @app.route("/")
    def index() -> str:
        return f"index; link to {flask.url_for('echo')}"

    @app.route("/echo", methods=["POST"])
    def echo() -> dict[str, Any]:
        return {"json": flask.request.get_json(), "args": flask.request.args.to_dict()}

    @app.route("/stream")
    def stream() -> flask.Response:
        return flask.Response((f"{n};" for n in range(3)), mimetype="text/plain")

    @app.route("/file")
    def file() -> flask.Response:
        return flask.send_file(tmp_path / "page.txt")

    served = await serve_wsgi(app.wsgi_app, "/flask")
    client = served.client
    assert await (await client.get("/flask/")).text() == "index; link to /flask/echo"
    response = await client.post("/flask/echo?x=1", json={"a": [1, 2]})
    assert await response.json() == {"json": {"a": [1, 2]}, "args": {"x": "1"}}
    assert await (await client.get("/flask/stream")).text() == "0;1;2;"
    assert await (await client.get("/flask/file")).text() == "a file from flask\n"
    assert (await client.get("/flask/nope")).status == 404
