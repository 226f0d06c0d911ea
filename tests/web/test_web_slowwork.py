"""The slow-work pools: bounded, and at a priority that leaves the cores to quick requests."""

import asyncio
import os
import sys
import time
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any, TypeVar

import pytest

from fusionwatch.settings import Settings
from fusionwatch.store import passwords
from fusionwatch.web.app import create_app
from fusionwatch.web.slowwork import SlowWork

T = TypeVar("T")
linux_only = pytest.mark.skipif(sys.platform != "linux", reason="Linux scheduling classes")


def _run(make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine on its own event loop in a thread of its own: other tests of the suite
    (Playwright's sync API) may leave an event loop running in the main thread."""
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(lambda: asyncio.run(make())).result()


def _policy_and_pid() -> tuple[int, int]:
    return os.sched_getscheduler(0), os.getpid()


@linux_only
@pytest.mark.parametrize("kind", ["fw-pdf", "fw-hash"])
def test_the_apps_slow_work_runs_in_idle_class_processes(kind: str) -> None:
    # The app's own pools: PDFs and password checks never compete with quick requests for a
    # core, and never hold the server's GIL.
    app = create_app(Settings(database_url="sqlite://"))
    pool = {"fw-pdf": app.state.ctx.pdfs, "fw-hash": app.state.ctx.hashing}[kind]
    try:
        policy, pid = _run(lambda: pool.run(_policy_and_pid))
    finally:
        pool.close()
    assert pid != os.getpid()
    assert policy == os.SCHED_IDLE
    assert os.sched_getscheduler(0) != os.SCHED_IDLE  # the server itself is untouched


def test_a_password_check_in_a_pool_process_gives_the_right_answer() -> None:
    stored = passwords.hash_password("correct horse battery")
    pool = SlowWork(1, "test-hash")

    async def both() -> list[bool]:
        return [
            await pool.run(partial(passwords.verify_password, stored, "correct horse battery")),
            await pool.run(partial(passwords.verify_password, stored, "wrong horse battery")),
        ]

    try:
        assert _run(both) == [True, False]
    finally:
        pool.close()


def _pid_after(seconds: float) -> tuple[int, float, float]:
    start = time.monotonic()
    time.sleep(seconds)
    return os.getpid(), start, time.monotonic()


def test_pdf_processes_are_replaced_after_their_share_of_documents() -> None:
    # A PDF process grows with every document (the soak): fresh ones take over after a while.
    pool = SlowWork(1, "test-recycle", recycle_after=2)

    async def one_by_one() -> list[int]:
        return [(await pool.run(partial(_pid_after, 0.0)))[0] for _ in range(5)]

    try:
        pids = _run(one_by_one)
    finally:
        pool.close()
    assert pids[0] == pids[1] != pids[2] == pids[3] != pids[4]
    assert os.getpid() not in pids


def test_the_bound_holds_while_processes_are_replaced() -> None:
    pool = SlowWork(2, "test-recycle-bound", recycle_after=1)

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
