"""The slow-work pools: bounded, and at a priority that leaves the cores to quick requests."""

import asyncio
import os
import sys
import threading

import pytest

from fusionwatch.web.slowwork import NICENESS, SlowWork

linux_only = pytest.mark.skipif(sys.platform != "linux", reason="Linux scheduling classes")


def _policy_and_pid() -> tuple[int, int]:
    return os.sched_getscheduler(0), os.getpid()


def _thread_niceness() -> int:
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


@linux_only
def test_pdf_processes_run_in_the_idle_class_apart_from_the_server() -> None:
    pool = SlowWork(2, "test-pdf", processes=True)
    try:
        policy, pid = asyncio.run(pool.run(_policy_and_pid))
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
        niceness = asyncio.run(pool.run(_thread_niceness))
        policy = asyncio.run(pool.run(lambda: os.sched_getscheduler(0)))
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
        asyncio.run(many())
    finally:
        pool.close()
    assert most == 2
