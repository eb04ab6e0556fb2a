"""``python -m tests.reliability.serve_main --unix-socket PATH``: the project through ``serve()``.

The Django project is the WSGI application; its websocket echo and async gate are added as
extra aiohttp routes, and ``on_finish`` records each run in ``$RELIABILITY_FINISH``.
"""

import argparse
import logging
import os

from django.core.wsgi import get_wsgi_application

from aiodjango import serve
from tests.reliability.project import views
from tests.reliability.project.environment import adapter_options, record_finish


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--unix-socket", required=True)
    parser.add_argument("--shutdown-timeout", type=float, default=60.0)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.reliability.project.settings")
    serve(
        get_wsgi_application(),
        unix_socket=args.unix_socket,
        routes=[("GET", "/async/gate/", views.async_gate), ("GET", "/ws/echo/", views.echo)],
        on_finish=[record_finish],
        shutdown_timeout=args.shutdown_timeout,
        **adapter_options(),
    )


if __name__ == "__main__":
    main()
