"""Slow work off the event loop, bounded and at a lower priority: password checks on a few
threads, PDFs and charts in a few processes.

Each kind of work has its own small pool, whose size bounds how many run at once per worker
process. argon2 releases the GIL while it hashes, so threads suffice for it; they run at nice
+10 (Linux sets it per thread). WeasyPrint and matplotlib hold the GIL for most of their work:
on threads, two PDFs slowed every other request of the worker nine-fold
(benchmarks/bench_flood.py), so they run in processes (started on first use, by spawning:
forking a process that runs threads is unsafe). Those processes share no lock with the server,
so they run in Linux's SCHED_IDLE class: any ordinary task that wakes up, the event loop first
of all, takes the core from them at once (nice +10 only shrinks their share, and a PDF still
delayed a quick request by a time slice). The hashing threads stay at nice +10: a thread of the
server's own process must never be starved while it holds the GIL.

PDF processes are replaced after ``RECYCLE_AFTER`` documents: the 30-minute soak found each one
growing by about 0.25 MB a PDF without levelling off, in the C libraries under WeasyPrint
(docs/web.md, "Soak"). Python's own ``max_tasks_per_child`` would do this but can deadlock on
Python 3.11 (CPython gh-115634), so a used-up pool is swapped for a fresh one and left to finish
its work; a semaphore keeps the bound on work at once across both.
"""

import asyncio
import contextlib
import multiprocessing
import os
import threading
import time
import weakref
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
NICENESS = 10
# Documents a PDF process renders before it is replaced: about 25 MB of growth at most, against
# a start-up of about a second per process every hundred documents.
RECYCLE_AFTER = 100


def _lower_priority() -> None:
    # Best effort: where a thread's priority cannot be set, the work runs at normal priority.
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), NICENESS)


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
    """At most ``workers`` calls at once, each on a low-priority thread or, with
    ``processes=True``, in an idle-class process (the function and its arguments must then
    pickle: a module-level function, or a ``functools.partial`` of one); more wait their turn.
    Processes are replaced after ``recycle_after`` calls."""

    def __init__(
        self,
        workers: int,
        name: str,
        *,
        processes: bool = False,
        recycle_after: int = RECYCLE_AFTER,
    ) -> None:
        self.workers, self.name, self.processes = workers, name, processes
        self.recycle_after = recycle_after
        self._pool: Executor | None = None
        self._submitted = 0
        self._lock = threading.Lock()
        # One semaphore per event loop (an asyncio semaphore belongs to the loop that uses it).
        self._slots: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore]
        self._slots = weakref.WeakKeyDictionary()

    async def run(self, function: Callable[[], T]) -> T:
        if not self.processes:
            return await asyncio.wrap_future(self._executor().submit(function))
        loop = asyncio.get_running_loop()
        slots = self._slots.setdefault(loop, asyncio.Semaphore(self.workers))
        async with slots:
            return await asyncio.wrap_future(self._executor().submit(function))

    def _executor(self) -> Executor:
        with self._lock:
            if self._pool is not None and self.processes and self._submitted >= self.recycle_after:
                # The used-up processes finish what they hold, then exit; new work goes to fresh
                # ones (the semaphore in run() still bounds the work at once across both).
                self._pool.shutdown(wait=False)
                self._pool = None
            if self._pool is None:
                self._pool, self._submitted = self._start(), 0
            self._submitted += 1
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
