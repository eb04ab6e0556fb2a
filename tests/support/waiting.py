"""The suite's one way to wait for something: poll a condition until it holds, with a deadline.

Tests synchronise on conditions, never on fixed sleeps: a sleep long enough for a loaded CI
machine slows every run, and one short enough for a quiet laptop fails on the loaded machine.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable

#: How long a condition may take to hold: generous, for a loaded machine.
DEFAULT_WITHIN = 30.0


async def settle(
    check: Callable[[], bool] | Callable[[], Awaitable[bool]], within: float = DEFAULT_WITHIN
) -> bool:
    """Wait until ``check()`` holds and return True; False if it still fails after ``within``.

    ``check`` may watch another thread or process (a file appearing, a descriptor count, a
    port accepting connections), so there is no event to await: it is polled every 20 ms. It
    may be a coroutine function.
    """

    async def holds() -> bool:
        result = check()
        return bool(await result) if inspect.isawaitable(result) else bool(result)

    loop = asyncio.get_running_loop()
    end = loop.time() + within
    while not await holds():
        if loop.time() > end:
            return False
        await asyncio.sleep(0.02)
    return True
