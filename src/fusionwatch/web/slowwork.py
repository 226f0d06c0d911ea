"""Slow work off the event loop, bounded and at a lower priority: password checks on a few
threads, PDFs and charts in a few processes.

Each kind of work has its own small pool, whose size bounds how many run at once per worker
process, and whose threads or processes run at a lower scheduling priority (nice +10; Linux sets
it per thread), so that when the cores are busy the operating system serves the event loop and
the quick requests first. argon2 releases the GIL while it hashes, so threads suffice for it.
WeasyPrint and matplotlib hold the GIL for most of their work: on threads, two PDFs slowed every
other request of the worker nine-fold (benchmarks/bench_flood.py), so they run in processes
(started on first use, by spawning: forking a process that runs threads is unsafe).
"""

import asyncio
import contextlib
import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
NICENESS = 10


def _lower_priority() -> None:
    # Best effort: where a thread's priority cannot be set, the work runs at normal priority.
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), NICENESS)


def _start_process() -> None:
    """In each pool process: a lower priority, and an exit when the server process is gone
    (a killed server would otherwise leave its PDF processes behind)."""
    _lower_priority()
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1)
        os._exit(0)

    threading.Thread(target=watch, name="fw-parent-watch", daemon=True).start()


class SlowWork:
    """At most ``workers`` calls at once, each on a low-priority thread or, with
    ``processes=True``, in a low-priority process (the function and its arguments must then
    pickle: a module-level function, or a ``functools.partial`` of one); more wait their turn."""

    def __init__(self, workers: int, name: str, *, processes: bool = False) -> None:
        self.workers, self.name, self.processes = workers, name, processes
        self._pool: Executor | None = None
        self._lock = threading.Lock()

    async def run(self, function: Callable[[], T]) -> T:
        return await asyncio.wrap_future(self._executor().submit(function))

    def _executor(self) -> Executor:
        with self._lock:
            if self._pool is None:
                self._pool = self._start()
            return self._pool

    def _start(self) -> Executor:
        if not self.processes:
            return ThreadPoolExecutor(
                self.workers, thread_name_prefix=self.name, initializer=_lower_priority
            )
        spawn = multiprocessing.get_context("spawn")
        return ProcessPoolExecutor(self.workers, mp_context=spawn, initializer=_start_process)

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
