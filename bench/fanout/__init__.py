"""The fan-out benchmark: one ``group_send`` to thousands of websockets over two workers.

``python -m bench.fanout`` (see ``__main__``) serves the same websocket endpoint with aiodjango
(gunicorn, aiohttp workers, a lifted view joining a group) and with Channels (uvicorn workers,
an ``AsyncWebsocketConsumer``), both on channels_redis' pub/sub layer and one redis-server.
"""
