"""Benchmark: the paged patient list with 100,000 patients (and one assessment each).

Run with ``uv run python benchmarks/bench_lists.py [--patients N] [--url URL]``. It migrates a
throw-away SQLite file (or the database at ``--url``, e.g. a PostgreSQL one), seeds N patients of
one team, each with one assessment (a real result for the first 100, a small stand-in for the
rest: the lists read only the summary columns on the patient row, so the result's size does not
enter the query), then requests the first page and a deep page (the last but one) of
``GET /api/v1/patients`` and searches (an exact reference; a name word that one patient has,
one that every patient has, a whole name, a word nobody has) through the whole app in-process,
200 times each,
and prints p50/p99 and the process's peak memory before and after. Target: p99 <= 200 ms and
flat memory.
"""

import argparse
import datetime as dt
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import insert, select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from fusionwatch.settings import Settings  # noqa: E402
from fusionwatch.store import accounts, records, teams  # noqa: E402
from fusionwatch.store.access import Role, Scope  # noqa: E402
from fusionwatch.store.database import Database  # noqa: E402
from fusionwatch.store.tables import AssessmentRecord, Patient, PatientNameWord  # noqa: E402
from fusionwatch.web.app import create_app, settle  # noqa: E402

NOW = dt.datetime(2026, 11, 30, 12, 0)
TARGET_P99_MS = 200.0
REPEAT = 200


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def seed(db: Database, count: int) -> str:
    with db.session() as s:
        user = accounts.add_user(s, "bench", "a-long-benchmark-password", NOW)
        team = teams.add_team(s, "bench-team", NOW)
        teams.set_member(s, "bench-team", "bench", Role.CLINICIAN)
        token = accounts.create_token(
            s, username="bench", name="b", scopes=frozenset(Scope), now=NOW, expires_at=None
        )
        user_id, team_id = user.id, team.id
    batch = 5_000
    for start in range(1, count + 1, batch):
        ids = range(start, min(start + batch, count + 1))
        with db.session() as s:
            s.execute(
                insert(Patient),
                [
                    {
                        "id": i,
                        "team_id": team_id,
                        "display_name": f"Synthetic Patient {i}",
                        "reference": f"SYN-{i}",
                        "created_at": NOW,
                        "created_by": user_id,
                        "latest_assessment_id": i,
                        "latest_triage": "routine",
                        "latest_suspicion": "low",
                        "latest_as_of": NOW.date(),
                    }
                    for i in ids
                ],
            )
            s.execute(
                insert(PatientNameWord),
                [
                    {"word": word, "patient_id": i}
                    for i in ids
                    for word in records.name_words(f"Synthetic Patient {i}")
                ],
            )
            s.execute(
                insert(AssessmentRecord),
                [
                    {
                        "id": i,
                        "patient_id": i,
                        "created_at": NOW,
                        "created_by": user_id,
                        "as_of": NOW.date(),
                        "knowledge_version": "bench",
                        "triage": "routine",
                        "suspicion": "low",
                        "case_data": {"label": "synthetic"},
                        "result": {"triage": {"level": "routine"}, "padding": "x" * 2000},
                    }
                    for i in ids
                ],
            )
    return token


def measure(client: TestClient, path: str, headers: dict[str, str]) -> tuple[float, float]:
    times = []
    for _ in range(REPEAT):
        started = time.perf_counter()
        response = client.get(path, headers=headers)
        times.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"{path}: {response.status_code}")
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.99) - 1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--url", default=None)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="fw-bench-lists-"))
    url = args.url or f"sqlite:///{folder / 'lists.sqlite3'}"
    db = Database(url)
    db.migrate()
    started = time.perf_counter()
    token = seed(db, args.patients)
    print(f"seeded {args.patients} patients in {time.perf_counter() - started:.0f} s ({url})")
    with db.session() as s:
        second_lowest = s.scalars(select(Patient.id).order_by(Patient.id).limit(60)).all()[-1]
    app = settle(create_app(Settings(database_url=url), db=db))  # as the server does
    auth = {"authorization": f"Bearer {token}"}
    with TestClient(app, base_url="http://127.0.0.1") as client:
        client.get("/api/v1/patients", headers=auth)
        before = rss_mb()
        rows = []
        for label, path in (
            ("API first page", "/api/v1/patients"),
            ("API deep page", f"/api/v1/patients?before={second_lowest}"),
            ("reference", "/api/v1/patients?q=SYN-77777"),
            ("rare name word", "/api/v1/patients?q=77777"),
            ("common name word", "/api/v1/patients?q=synth"),
            ("whole name", "/api/v1/patients?q=Synthetic+Patient+77777"),
            ("no match", "/api/v1/patients?q=nobody"),
        ):
            p50, p99 = measure(client, path, auth)
            rows.append((label, p50, p99))
        after = rss_mb()
    for label, p50, p99 in rows:
        verdict = "met" if p99 <= TARGET_P99_MS else "NOT met"
        print(f"{label:16s} p50 {p50:7.1f} ms   p99 {p99:7.1f} ms   ({verdict})")
    print(f"peak memory {before:.0f} MB before the runs, {after:.0f} MB after")
    db.close()


if __name__ == "__main__":
    main()
