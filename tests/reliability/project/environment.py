"""How a test configures the project's servers through the environment.

``$RELIABILITY_THREADS`` and ``$RELIABILITY_MAX_QUEUED`` size the WSGI adapter; when
``$RELIABILITY_FINISH`` names a file, every cleanup (or ``on_finish``) run appends a line to it,
so a test can count the runs.
"""

import os
from typing import Any

THREADS_ENV = "RELIABILITY_THREADS"
MAX_QUEUED_ENV = "RELIABILITY_MAX_QUEUED"
FINISH_ENV = "RELIABILITY_FINISH"


def adapter_options() -> dict[str, Any]:
    """The WSGI adapter's ``threads`` and ``max_queued``."""
    return {
        "threads": int(os.environ.get(THREADS_ENV, "8")),
        "max_queued": int(os.environ.get(MAX_QUEUED_ENV, "128")),
    }


def record_finish() -> None:
    """Append a line to ``$RELIABILITY_FINISH``, if set."""
    if path := os.environ.get(FINISH_ENV):
        with open(path, "a") as finished:
            finished.write(f"finished in {os.getpid()}\n")
