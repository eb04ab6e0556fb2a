"""A URLconf for the adapter's Django tests: plain, streaming, file and upload views."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

from django.core.files.uploadedfile import UploadedFile
from django.http import (
    FileResponse,
    HttpRequest,
    HttpResponse,
    JsonResponse,
    StreamingHttpResponse,
)
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

#: Thread idents the views ran on, for checking that close() runs on the same thread.
view_threads: list[int] = []
#: Set by the tests to the file the ``file/`` view serves.
served_file: list[Path] = []


def hello(request: HttpRequest) -> HttpResponse:
    view_threads.append(threading.get_ident())
    return HttpResponse(f"hello from django at {request.path}")


def stream(request: HttpRequest) -> StreamingHttpResponse:
    def blocks() -> Iterator[bytes]:
        for n in range(5):
            yield b"block %d\n" % n

    return StreamingHttpResponse(blocks(), content_type="text/plain")


def file(request: HttpRequest) -> FileResponse:
    return FileResponse(served_file[0].open("rb"), as_attachment=True, filename="data.bin")


@csrf_exempt
def upload(request: HttpRequest) -> JsonResponse:
    upload = cast("UploadedFile[Any]", request.FILES["document"])
    return JsonResponse({"name": upload.name, "size": upload.size, "field": request.POST["field"]})


urlpatterns = [
    path("hello/", hello),
    path("stream/", stream),
    path("file/", file),
    path("upload/", upload),
]
