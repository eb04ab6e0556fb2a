"""``python -m aiodjango``: the ``aiodjango-serve`` command (:mod:`aiodjango.server.cli`)."""

import sys

from aiodjango.server.cli import main

if __name__ == "__main__":
    sys.exit(main(prog="python -m aiodjango"))
