"""Lifted views used by the auth tests: coroutine functions that take the aiohttp request."""

from __future__ import annotations

import threading

from aiohttp import WSMsgType, web
from asgiref.sync import sync_to_async
from django.contrib.auth.models import User

from aiodjango.lifted import (
    allow_any_origin,
    csrf_protect,
    get_session,
    get_user,
    login_required,
    permission_required,
    save_session,
)


async def whoami(request: web.Request) -> web.Response:
    """Who the session says the caller is; each helper is asked twice to show the caching."""
    session = await get_session(request)
    user = await get_user(request)
    return web.json_response(
        {
            "username": user.get_username() if user.is_authenticated else None,
            "session_key": session.session_key,
            "keys": sorted(session.keys()),
            "cached": session is await get_session(request) and user is await get_user(request),
        }
    )


async def count(request: web.Request) -> web.Response:
    """Count visits in the session; saved by protect_lifted_view after the view."""
    session = await get_session(request)
    session["count"] = session.get("count", 0) + 1
    return web.json_response({"count": session["count"]})


async def count_then_fail(request: web.Request) -> web.Response:
    session = await get_session(request)
    session["count"] = session.get("count", 0) + 1
    return web.Response(status=503, text="try later")


async def count_then_redirect(request: web.Request) -> web.Response:
    session = await get_session(request)
    session["count"] = session.get("count", 0) + 1
    raise web.HTTPFound("/whoami/")


async def count_streamed(request: web.Request) -> web.StreamResponse:
    """A stream must save its session before its headers go out."""
    session = await get_session(request)
    session["count"] = session.get("count", 0) + 1
    response = web.StreamResponse()
    if "save" in request.query:
        await save_session(request, response)
    await response.prepare(request)
    await response.write(b"counted")
    return response


async def logout(request: web.Request) -> web.Response:
    # flush() deletes from the store: blocking, so it goes to a thread like any store access.
    await sync_to_async((await get_session(request)).flush)()
    return web.Response(text="bye")


@login_required
async def private(request: web.Request) -> web.Response:
    user = await get_user(request)
    return web.Response(text=f"hello {user.get_username()}")


@login_required(login_url="/sign-in/?source=lifted", redirect_field_name="back")
async def private_elsewhere(request: web.Request) -> web.Response:
    return web.Response(text="private")


@login_required
async def private_socket(request: web.Request) -> web.WebSocketResponse:
    user = await get_user(request)
    socket = web.WebSocketResponse()
    await socket.prepare(request)
    await socket.send_str(f"hello {user.get_username()}")
    await socket.close()
    return socket


@permission_required("auth.change_user")
async def change_users(request: web.Request) -> web.Response:
    return web.Response(text="may change users")


@permission_required(["auth.change_user", "auth.delete_user"], raise_exception=True)
async def delete_users(request: web.Request) -> web.Response:
    return web.Response(text="may delete users")


@permission_required("auth.change_user")
async def change_users_socket(request: web.Request) -> web.WebSocketResponse:
    socket = web.WebSocketResponse()
    await socket.prepare(request)
    await socket.send_str("may change users")
    await socket.close()
    return socket


class Dashboard(web.View):
    """Decorators work on the methods of aiohttp class-based views too."""

    @login_required
    async def get(self) -> web.Response:
        user = await get_user(self.request)
        return web.Response(text=f"dashboard of {user.get_username()}")

    @csrf_protect
    async def post(self) -> web.Response:
        return web.Response(text="posted")


@csrf_protect
async def submit(request: web.Request) -> web.Response:
    """Echo the form's ``message`` field: the view can still read the form after the check."""
    if request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.post()
        return web.Response(text=f"accepted {form.get('message')!s}")
    return web.Response(text=f"accepted {await request.text()}")


async def echo_socket(request: web.Request) -> web.WebSocketResponse:
    socket = web.WebSocketResponse()
    await socket.prepare(request)
    async for message in socket:
        if message.type == WSMsgType.TEXT:
            await socket.send_str("echo: " + message.data)
    return socket


@allow_any_origin
async def public_socket(request: web.Request) -> web.WebSocketResponse:
    socket = web.WebSocketResponse()
    await socket.prepare(request)
    await socket.send_str("public")
    await socket.close()
    return socket


async def plain(request: web.Request) -> web.Response:
    return web.Response(text="plain")


async def user_count(request: web.Request) -> web.Response:
    """One ORM query through Django's async ORM."""
    return web.Response(text=str(await User.objects.acount()))


async def thread_of_view(request: web.Request) -> web.Response:
    return web.Response(text=str(threading.get_ident()))
