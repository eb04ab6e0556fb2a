"""Static files beside the application: aiohttp's static routes, with an optional CORS header."""

from __future__ import annotations

import os
from collections.abc import Iterable

from aiohttp import web
from aiohttp.typedefs import Handler

__all__ = ["StaticRoute", "add_static_routes"]

#: A static route: (URL prefix, directory).
StaticRoute = tuple[str, "str | os.PathLike[str]"]


def add_static_routes(
    app: web.Application, static: Iterable[StaticRoute], cors: str | None = None
) -> None:
    """Serve each ``(url_prefix, directory)`` with aiohttp's static files.

    With ``cors``, those responses (and only those) carry ``Access-Control-Allow-Origin: cors``,
    so that pages on another origin may load the files (fonts, scripts with integrity checks).
    """
    if cors is not None and (not cors or not cors.isprintable() or not cors.isascii()):
        raise ValueError(f"static_cors must be an origin or '*', not {cors!r}")
    resources = {app.router.add_static(prefix, directory) for prefix, directory in static}
    if cors is None or not resources:
        return

    @web.middleware
    async def allow_origin(request: web.Request, handler: Handler) -> web.StreamResponse:
        # The route that matched, not a prefix test: "/static" must not cover "/staticky".
        if request.match_info.route.resource not in resources:
            return await handler(request)
        try:
            response = await handler(request)
        except web.HTTPException as error:  # a 404 or 403 is readable cross-origin too
            error.headers["Access-Control-Allow-Origin"] = cors
            raise
        response.headers["Access-Control-Allow-Origin"] = cors
        return response

    app.middlewares.append(allow_origin)
