"""Slow work off the event loop, bounded and at the lowest priority: password checks, PDFs and
charts, each kind in a small pool of processes of its own.

argon2 releases the GIL while it hashes, and once ran on threads at nice +10; WeasyPrint and
matplotlib hold the GIL for most of their work, and on threads two PDFs slowed every other
request of the worker nine-fold (benchmarks/bench_flood.py). Both now run in processes (started
on first use, by spawning: forking a process that runs threads is unsafe) in Linux's SCHED_IDLE
class: any ordinary task that wakes up, the event loop first of all, takes the core from them at
once. They share no lock with the server, so starving them never stalls it (a thread of the
server's own process in that class could be starved while it held the GIL). Under a flood of
PDFs and sign-ins the API's p99 went from 2.5× its quiet value with hashing on threads to 1.9×
with hashing in processes (docs/web.md, "Flood").

A pool's processes can be replaced after ``recycle_after`` calls: the 30-minute soak found each
PDF process growing by about 0.25 MB a PDF without levelling off, in the C libraries under
WeasyPrint (docs/web.md, "Soak"). Python's own ``max_tasks_per_child`` would do this but can
deadlock on Python 3.11 (CPython gh-115634), so a used-up pool is swapped for a fresh one and
left to finish its work; a semaphore keeps the bound on work at once across both.
"""

import asyncio
import contextlib
import multiprocessing
import os
import threading
import time
import weakref
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor
from typing import TypeVar

T = TypeVar("T")
NICENESS = 10
# Documents a PDF process renders before it is replaced: about 25 MB of growth at most, against
# a start-up of about a second per process every hundred documents.
PDF_RECYCLE_AFTER = 100


def _lower_priority() -> None:
    # Best effort: where a process's priority cannot be set, the work runs at normal priority.
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, 0, NICENESS)


def _idle_priority() -> None:
    """The whole process in the idle scheduling class (Linux); elsewhere, a lower priority."""
    try:
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    except (AttributeError, OSError):
        _lower_priority()


def _start_process() -> None:
    """In each pool process: the idle scheduling class, and an exit when the server process is
    gone (a killed server would otherwise leave its PDF processes behind)."""
    _idle_priority()
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1)
        os._exit(0)

    threading.Thread(target=watch, name="fw-parent-watch", daemon=True).start()


class SlowWork:
    """At most ``workers`` calls at once, each in an idle-class process (the function and its
    arguments must pickle: a module-level function, or a ``functools.partial`` of one); more
    wait their turn. With ``recycle_after``, processes are replaced after that many calls."""

    def __init__(self, workers: int, name: str, *, recycle_after: int | None = None) -> None:
        self.workers, self.name, self.recycle_after = workers, name, recycle_after
        self._pool: Executor | None = None
        self._submitted = 0
        # Re-entrant: the garbage collector may run close() (an app's finalizer) in the middle of
        # _executor() on the same thread.
        self._lock = threading.RLock()
        # One semaphore per event loop (an asyncio semaphore belongs to the loop that uses it).
        self._slots: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore]
        self._slots = weakref.WeakKeyDictionary()

    async def run(self, function: Callable[[], T]) -> T:
        loop = asyncio.get_running_loop()
        slots = self._slots.setdefault(loop, asyncio.Semaphore(self.workers))
        async with slots:
            return await asyncio.wrap_future(self._executor().submit(function))

    def _executor(self) -> Executor:
        with self._lock:
            used_up = self.recycle_after is not None and self._submitted >= self.recycle_after
            if self._pool is not None and used_up:
                # The used-up processes finish what they hold, then exit; new work goes to fresh
                # ones (the semaphore in run() still bounds the work at once across both).
                self._pool.shutdown(wait=False)
                self._pool = None
            if self._pool is None:
                spawn = multiprocessing.get_context("spawn")
                self._pool = ProcessPoolExecutor(
                    self.workers, mp_context=spawn, initializer=_start_process
                )
                self._submitted = 0
            self._submitted += 1
            return self._pool

    def close(self, *, wait: bool = False) -> None:
        """Cancel waiting work and let the processes go; ``wait`` until they have exited."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=wait, cancel_futures=True)
