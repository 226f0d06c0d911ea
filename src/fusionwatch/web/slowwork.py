"""Slow work (PDFs, charts, password checks) on a few dedicated threads of lower priority.

Each kind of work has its own small pool, whose size bounds how many run at once per worker
process. The pools' threads run at a lower scheduling priority (nice +10; Linux sets it per
thread), so that when the cores are busy the operating system serves the event loop and the
quick requests first. argon2 releases the GIL while it hashes, so its checks then yield the CPU
to everything else; WeasyPrint holds the GIL for much of its work, so a PDF still slows the
worker's other requests (measured by benchmarks/bench_flood.py).
"""

import asyncio
import contextlib
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
NICENESS = 10


def _lower_priority() -> None:
    # Best effort: where a thread's priority cannot be set, the work runs at normal priority.
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), NICENESS)


class SlowWork:
    """At most ``workers`` calls at once, each on a low-priority thread; more wait their turn."""

    def __init__(self, workers: int, name: str) -> None:
        self._pool = ThreadPoolExecutor(
            workers, thread_name_prefix=name, initializer=_lower_priority
        )

    async def run(self, function: Callable[[], T]) -> T:
        return await asyncio.wrap_future(self._pool.submit(function))

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
