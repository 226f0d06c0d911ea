"""Slow work never holds up the event loop: while it runs, other requests are answered.

Found by benchmarks/bench_flood.py: the self-check's PDF was rendered on the event loop, and
sign-in's database work ran there too (on SQLite it may wait for the write lock), so one
anonymous PDF client stalled every request of the worker (a probe waited 24 s).
"""

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from conftest import csrf
from fusionwatch.store import accounts
from fusionwatch.web import selfcheck

SELF_CHECK = {"surgery.months_since": "8", "surgery.region": "lumbar"}


def _stalled(release: threading.Event, started: threading.Event, real: Callable[..., Any]) -> Any:
    def slow(*args: Any, **kwargs: Any) -> Any:
        started.set()
        release.wait(timeout=10)
        return real(*args, **kwargs)

    return slow


@pytest.mark.parametrize("slow_step", ["pdf", "login"])
def test_a_quick_request_is_answered_while_slow_work_runs(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, slow_step: str
) -> None:
    release, started = threading.Event(), threading.Event()
    if slow_step == "pdf":
        # The report is built on a thread, then drawn in a process of the PDF pool.
        stalled = _stalled(release, started, selfcheck._summary_data)
        monkeypatch.setattr(selfcheck, "_summary_data", stalled)
        path, data = "/check-summary.pdf", {"csrf_token": csrf(client), **SELF_CHECK}
    else:
        monkeypatch.setattr(
            accounts, "begin_login", _stalled(release, started, accounts.begin_login)
        )
        path = "/login"
        data = {"csrf_token": csrf(client, "/login"), "username": "alice", "password": "wrong-one!"}
    slow = threading.Thread(target=lambda: client.post(path, data=data))
    slow.start()
    try:
        assert started.wait(timeout=10)
        begun = time.perf_counter()
        assert client.get("/").status_code == 200
        assert time.perf_counter() - begun < 5
    finally:
        release.set()
        slow.join()
