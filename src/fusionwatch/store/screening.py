"""Saved cohort screening runs: written once by `fusionwatch screen --save-to-team`, read by team.

A run holds patient-level rows, so it belongs to one care team and is reached only through it, as
patients are. Rows keep the worklist's order and the case data that opens each full assessment.
"""

import datetime as dt
from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from fusionwatch.store.access import WRITERS
from fusionwatch.store.accounts import AccountError, roles_of, user_named
from fusionwatch.store.tables import ScreeningRow, ScreeningRun
from fusionwatch.store.teams import team_named

# Rows are written in batches: a registry of 200,000 episodes stays within flat memory.
BATCH = 2_000


@dataclass(frozen=True, slots=True)
class RunFacts:
    """What a run was: where it came from and the settings it used (never a full path)."""

    source: str
    input_format: str
    engine: str
    as_of: dt.date
    knowledge_version: str
    settings: Mapping[str, object]


def writer_in(db: Session, team: str, username: str) -> tuple[int, int]:
    """The team's and the user's ids, when the user may write there (clinician or administrator)."""
    found = team_named(db, team)
    if found is None:
        raise AccountError(f"team: no team named '{team}'")
    user = user_named(db, username)
    if not user.active or roles_of(db, user.id).get(found.id) not in WRITERS:
        raise AccountError(
            f"user: '{username}' is not an active clinician or administrator of team '{team}'"
        )
    return found.id, user.id


def save_run(
    db: Session,
    *,
    team_id: int,
    user_id: int,
    now: dt.datetime,
    facts: RunFacts,
    rows: Iterable[Mapping[str, Any]],
) -> ScreeningRun:
    """Store a run and its worklist rows (already in worklist order); one transaction."""
    run = ScreeningRun(
        team_id=team_id,
        created_at=now,
        created_by=user_id,
        source=facts.source[:200],
        input_format=facts.input_format,
        engine=facts.engine,
        as_of=facts.as_of,
        knowledge_version=facts.knowledge_version,
        settings=dict(facts.settings),
        episodes=0,
        groups={},
    )
    db.add(run)
    db.flush()
    groups: Counter[str] = Counter()
    batch: list[dict[str, Any]] = []
    for position, row in enumerate(rows, start=1):
        groups[str(row["worklist_group"])] += 1
        batch.append({**row, "run_id": run.id, "position": position})
        if len(batch) >= BATCH:
            db.execute(insert(ScreeningRow), batch)
            batch = []
    if batch:
        db.execute(insert(ScreeningRow), batch)
    run.episodes = sum(groups.values())
    run.groups = dict(groups)
    db.flush()
    return run


def runs(db: Session, teams: Collection[int], limit: int = 50) -> Sequence[ScreeningRun]:
    """The teams' runs, newest first."""
    query = select(ScreeningRun).where(ScreeningRun.team_id.in_(list(teams)))
    return db.scalars(query.order_by(ScreeningRun.id.desc()).limit(limit)).all()


def run(db: Session, teams: Collection[int], run_id: int) -> ScreeningRun | None:
    """The run, only when one of ``teams`` holds it (another team's run is None)."""
    found = db.get(ScreeningRun, run_id)
    return found if found is not None and found.team_id in teams else None


def rows_page(
    db: Session,
    run_id: int,
    *,
    after: int = 0,
    limit: int = 50,
    group: str | None = None,
    suspicion: str | None = None,
) -> Sequence[ScreeningRow]:
    """One page of a run's worklist in order (keyset: ``after`` = the last position shown).

    ``limit + 1`` rows are read so the caller knows whether there is a next page.
    """
    query = select(ScreeningRow).where(ScreeningRow.run_id == run_id)
    query = query.where(ScreeningRow.position > after)
    if group:
        query = query.where(ScreeningRow.worklist_group == group)
    if suspicion:
        query = query.where(ScreeningRow.suspicion == suspicion)
    return db.scalars(query.order_by(ScreeningRow.position).limit(limit + 1)).all()


def row(db: Session, run_id: int, position: int) -> ScreeningRow | None:
    query = select(ScreeningRow).where(
        ScreeningRow.run_id == run_id, ScreeningRow.position == position
    )
    return db.scalars(query).first()
