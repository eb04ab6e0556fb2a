"""aiodjango: run a Django project on aiohttp, sync and async views on one port."""

__version__ = "0.1.0.dev0"
