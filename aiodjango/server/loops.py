"""The event loop a server runs on: asyncio's own, or uvloop's when it is installed.

``auto`` (the default of the command line and ``runserver``) takes uvloop when it can be
imported (``pip install "aiodjango[uvloop]"``) and asyncio's loop otherwise; ``uvloop`` without
uvloop installed is a :class:`LoopUnavailable` naming the extra. The loop is made by
``asyncio.Runner(loop_factory=...)``: no event loop policy is set or changed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

__all__ = ["LOOPS", "LoopFactory", "LoopUnavailable", "loop_factory", "loop_name", "run_on_loop"]

#: The choices of ``--loop``.
LOOPS = ("auto", "asyncio", "uvloop")
#: Makes a new event loop; None stands for asyncio's default, as ``asyncio.run()`` makes it.
LoopFactory = Callable[[], asyncio.AbstractEventLoop] | None

T = TypeVar("T")


class LoopUnavailable(ValueError):
    """The loop asked for cannot be used here; the message says how to get it."""


def loop_factory(choice: str) -> LoopFactory:
    """The factory of the loop named by ``choice`` (one of :data:`LOOPS`)."""
    if choice not in LOOPS:
        raise ValueError(f"loop must be one of {', '.join(LOOPS)}, not {choice!r}")
    if choice == "asyncio":
        return None
    try:
        import uvloop
    except ImportError:
        if choice == "uvloop":
            raise LoopUnavailable(
                'loop "uvloop": uvloop is not installed (pip install "aiodjango[uvloop]")'
            ) from None
        return None
    factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
    return factory


def run_on_loop(main: Coroutine[Any, Any, T], factory: LoopFactory = None) -> T:
    """Run ``main`` to completion on a new loop made by ``factory``, as ``asyncio.run()``."""
    with asyncio.Runner(loop_factory=factory) as runner:
        return runner.run(main)


def loop_name(loop: asyncio.AbstractEventLoop | None = None) -> str:
    """``"uvloop"`` or ``"asyncio"`` (or another loop's module) for ``loop``, by default the
    running one: what the startup log says."""
    if loop is None:
        loop = asyncio.get_running_loop()
    module = type(loop).__module__
    return "asyncio" if module.startswith("asyncio") else module.partition(".")[0]
