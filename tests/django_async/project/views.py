"""Views as a project written since Django 3.1 has them: async, unannotated, Django's API."""

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

from aiohttp import web
from django.core.handlers.asgi import ASGIRequest
from django.http import (
    FileResponse,
    HttpResponse,
    HttpResponseNotModified,
    JsonResponse,
    StreamingHttpResponse,
)
from django.shortcuts import redirect, render
from django.views import View

#: A regular file for FileResponse (sent with sendfile by aiodjango).
DATA = Path(__file__).resolve()

#: What the in-process tests watch: views started and cancelled, by label.
EVENTS: list[str] = []


async def hello(request):  # type: ignore[no-untyped-def]
    return JsonResponse({"user": str(request.user), "q": request.GET.get("q")})


async def whoami(request):  # type: ignore[no-untyped-def]
    user = await request.auser()
    return HttpResponse(f"authenticated={user.is_authenticated}")


async def page(request, slug, number):  # type: ignore[no-untyped-def]
    return render(request, "page.html", {"slug": slug, "number": number * 2})


async def comment(request):  # type: ignore[no-untyped-def]
    if request.method == "POST":
        return JsonResponse({"text": request.POST.get("text"), "n": len(request.body)})
    return render(request, "form.html")


async def go(request):  # type: ignore[no-untyped-def]
    return redirect("page", slug="from-redirect", number=4)


class Clock(View):
    async def get(self, request):  # type: ignore[no-untyped-def]
        return JsonResponse({"view": "Clock", "method": request.method})

    async def post(self, request):  # type: ignore[no-untyped-def]
        return JsonResponse({"view": "Clock", "posted": request.POST.get("x")})


async def _parts() -> AsyncIterator[bytes]:
    for number in range(5):
        await asyncio.sleep(0)
        yield f"async part {number}\n".encode()


async def stream_async(request):  # type: ignore[no-untyped-def]
    return StreamingHttpResponse(_parts(), content_type="text/plain")


async def stream_sync(request):  # type: ignore[no-untyped-def]
    return StreamingHttpResponse((f"sync part {n}\n" for n in range(5)), content_type="text/plain")


async def download(request):  # type: ignore[no-untyped-def]
    return FileResponse(DATA.open("rb"), as_attachment=True, filename="views.py")


async def upload(request):  # type: ignore[no-untyped-def]
    body = request.body
    response = JsonResponse({"size": len(body), "sum": sum(body) % 65521})
    # Which path served it: Django's ASGI request on the loop, its WSGI request in a thread.
    response["X-Request-Class"] = (
        "ASGIRequest" if isinstance(request, ASGIRequest) else "WSGIRequest"
    )
    return response


# What @csrf_exempt sets; Django 4.2's decorator would hide the coroutine in a sync wrapper.
upload.csrf_exempt = True  # type: ignore[attr-defined]


async def not_modified(request):  # type: ignore[no-untyped-def]
    return HttpResponseNotModified()


async def empty(request):  # type: ignore[no-untyped-def]
    return HttpResponse(status=204)


async def slow(request):  # type: ignore[no-untyped-def]
    await asyncio.sleep(float(request.GET.get("s", "1")))
    return HttpResponse("slept")


async def hang(request):  # type: ignore[no-untyped-def]
    label = request.GET.get("label", "hang")
    EVENTS.append(f"started {label}")
    try:
        await asyncio.sleep(3600)
    except asyncio.CancelledError:
        EVENTS.append(f"cancelled {label}")
        raise
    return HttpResponse("never")


async def boom(request):  # type: ignore[no-untyped-def]
    if request.GET.get("fail", "yes") == "yes":
        raise ValueError("boom")
    return HttpResponse("no boom")


def sync_view(request):  # type: ignore[no-untyped-def]
    return HttpResponse(f"sync q={request.GET.get('q')}")


async def ticker(request):  # type: ignore[no-untyped-def]
    """aiohttp-style, unannotated: lifted because of what it uses."""
    return web.json_response({"served_by": "aiohttp", "x": request.match_info.get("x")})


async def undecided(request):  # type: ignore[no-untyped-def]
    """Nothing in its code tells: lifted, and ``manage.py check`` names it."""
    return await _respond(request)


async def _respond(request: object) -> web.Response:
    kind = "an aiohttp request" if isinstance(request, web.BaseRequest) else type(request).__name__
    return web.Response(text=f"undecided, {kind}")
