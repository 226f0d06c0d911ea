"""Concurrent requests on SQLite: no request fails because another one holds the write lock.

Found by the soak script: with two clients, more than half the requests answered 500
("database is locked"). A unit of work began as a reader and tried to become a writer (every
request writes an audit event) after another connection had written; SQLite refuses that
upgrade at once, without waiting. Units of work now take the write lock when they begin.
"""

import json
import threading
from pathlib import Path

from fastapi.testclient import TestClient

from conftest import api_token
from fusionwatch.store.access import Scope
from fusionwatch.store.database import Database

CASE = json.loads(
    (Path(__file__).parents[2] / "examples" / "referral-smoker-mechanical-pain.json").read_text()
)
THREADS, ROUNDS = 4, 6


def test_concurrent_reads_and_writes_never_answer_500(
    client: TestClient, database: Database
) -> None:
    auth = {"authorization": f"Bearer {api_token(database, Scope.READ, Scope.WRITE)}"}
    statuses: list[int] = []
    lock = threading.Lock()

    def work(n: int) -> None:
        # One client per thread, as browsers would be (the app's limiters are not used here:
        # they belong to one event loop, and each test client runs its own).
        with TestClient(client.app, base_url="http://127.0.0.1") as c:
            for i in range(ROUNDS):
                made = c.post("/api/v1/patients", json={"display_name": f"P{n}-{i}"}, headers=auth)
                found = [made]
                if made.status_code == 201:
                    pid = made.json()["id"]
                    found.append(
                        c.post(
                            f"/api/v1/patients/{pid}/assessments", json={"case": CASE}, headers=auth
                        )
                    )
                    found.append(c.get(f"/api/v1/patients/{pid}", headers=auth))
                    found.append(c.get("/api/v1/patients/999999", headers=auth))  # audited 404
                found.append(c.get("/api/v1/patients", headers=auth))
                with lock:
                    statuses.extend(r.status_code for r in found)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(statuses) == THREADS * ROUNDS * 5
    assert not [s for s in statuses if s >= 500], statuses
    assert statuses.count(404) == THREADS * ROUNDS
