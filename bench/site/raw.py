"""A plain aiohttp application, no Django: the speed a lifted view is measured against."""

import gc

from aiohttp import WSMsgType, web

HELLO = "Hello, world!"


async def hello(request: web.Request) -> web.Response:
    return web.Response(text=HELLO)


async def echo(request: web.Request) -> web.WebSocketResponse:
    socket = web.WebSocketResponse()
    await socket.prepare(request)
    async for message in socket:
        if message.type == WSMsgType.TEXT:
            await socket.send_str(message.data)
    return socket


app = web.Application()
app.router.add_get("/async/hello/", hello)
app.router.add_get("/ws/echo/", echo)
gc.freeze()  # as in wsgi.py: the deployment guide's advice, for every server
