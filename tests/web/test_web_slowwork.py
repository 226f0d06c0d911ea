"""The slow-work pools: bounded, and at a priority that leaves the cores to quick requests."""

import asyncio
import os
import sys
import threading
import time
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any, TypeVar

import pytest

from fusionwatch.web.slowwork import NICENESS, SlowWork

T = TypeVar("T")
linux_only = pytest.mark.skipif(sys.platform != "linux", reason="Linux scheduling classes")


def _run(make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine on its own event loop in a thread of its own: other tests of the suite
    (Playwright's sync API) may leave an event loop running in the main thread."""
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(lambda: asyncio.run(make())).result()


def _policy_and_pid() -> tuple[int, int]:
    return os.sched_getscheduler(0), os.getpid()


def _thread_niceness() -> int:
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


@linux_only
def test_pdf_processes_run_in_the_idle_class_apart_from_the_server() -> None:
    pool = SlowWork(2, "test-pdf", processes=True)
    try:
        policy, pid = _run(lambda: pool.run(_policy_and_pid))
    finally:
        pool.close()
    assert pid != os.getpid()
    assert policy == os.SCHED_IDLE
    assert os.sched_getscheduler(0) != os.SCHED_IDLE  # the server itself is untouched


@linux_only
def test_hashing_threads_are_niced_not_idle() -> None:
    # A thread of the server's own process may hold the GIL: it must never starve.
    pool = SlowWork(2, "test-hash")
    try:
        niceness = _run(lambda: pool.run(_thread_niceness))
        policy = _run(lambda: pool.run(lambda: os.sched_getscheduler(0)))
    finally:
        pool.close()
    assert niceness >= NICENESS
    assert policy != os.SCHED_IDLE


def test_at_most_workers_calls_run_at_once() -> None:
    pool = SlowWork(2, "test-bound")
    running, most = 0, 0
    lock, go = threading.Lock(), threading.Event()

    def job() -> None:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        go.wait(timeout=0.2)
        with lock:
            running -= 1

    async def many() -> None:
        await asyncio.gather(*(pool.run(job) for _ in range(6)))

    try:
        _run(many)
    finally:
        pool.close()
    assert most == 2


def _pid_after(seconds: float) -> tuple[int, float, float]:
    start = time.monotonic()
    time.sleep(seconds)
    return os.getpid(), start, time.monotonic()


def test_pdf_processes_are_replaced_after_their_share_of_documents() -> None:
    # A PDF process grows with every document (the soak): fresh ones take over after a while.
    pool = SlowWork(1, "test-recycle", processes=True, recycle_after=2)

    async def one_by_one() -> list[int]:
        return [(await pool.run(partial(_pid_after, 0.0)))[0] for _ in range(5)]

    try:
        pids = _run(one_by_one)
    finally:
        pool.close()
    assert pids[0] == pids[1] != pids[2] == pids[3] != pids[4]
    assert os.getpid() not in pids


def test_the_bound_holds_while_processes_are_replaced() -> None:
    pool = SlowWork(2, "test-recycle-bound", processes=True, recycle_after=1)

    async def many() -> list[tuple[int, float, float]]:
        return await asyncio.gather(*(pool.run(partial(_pid_after, 0.4)) for _ in range(6)))

    try:
        spans = _run(many)
    finally:
        pool.close()
    assert len({pid for pid, _, _ in spans}) == 6  # every call in a fresh process
    # CLOCK_MONOTONIC is shared by the processes of one machine: count overlapping calls.
    most = max(sum(1 for _, s, e in spans if s <= start < e) for _, start, _ in spans)
    assert most <= 2
