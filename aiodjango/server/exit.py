"""Leaving a process at once: threads stuck past the shutdown timeout, a second signal."""

from __future__ import annotations

import logging
import os
import sys
import threading
import time

__all__ = ["exit_now", "leave_stuck_threads_behind"]

logger = logging.getLogger("aiodjango.server")


def leave_stuck_threads_behind(grace: float = 1.0) -> None:
    """Exit the process at once (status 0) if threads are still busy after a server stopped.

    A WSGI request stuck in the application past ``shutdown_timeout`` keeps its worker thread,
    and the interpreter would wait for it at exit (thread pools join their threads): a request
    stuck forever would keep the process alive. Idle threads get ``grace`` seconds to end.
    Call this after the server has stopped, when the process has nothing else to do.
    """
    deadline = time.monotonic() + grace
    stuck = []
    for thread in threading.enumerate():
        if thread is threading.main_thread() or thread.daemon:
            continue
        thread.join(max(0.0, deadline - time.monotonic()))
        if thread.is_alive():
            stuck.append(thread.name)
    if stuck:
        logger.warning("exiting without waiting for busy threads: %s", ", ".join(stuck))
        exit_now(0)


def exit_now(status: int) -> None:
    """End the process at once with ``status``, without waiting for any thread; what was
    logged or printed is flushed first."""
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)
