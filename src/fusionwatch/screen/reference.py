"""The single-case engine run over a cohort, one ``assess()`` per episode: the screen's reference.

Used by the equivalence test and the benchmark; chunks can run in worker processes because the
engine is a pure function of the case, the knowledge base and the date.
"""

import datetime as dt
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context

import pyarrow as pa
import pyarrow.compute as pc

from fusionwatch.core.engine import assess
from fusionwatch.core.site import DEFAULT_SITE, Site
from fusionwatch.knowledge.loader import load
from fusionwatch.screen.episode import cases
from fusionwatch.screen.schema import EPISODE_ID


@dataclass(frozen=True, slots=True)
class Verdict:
    """What the equivalence test compares: triage, suspicion, fired rules, screen not done."""

    episode: str
    triage: str
    suspicion: str
    fired: str
    not_done: bool


def verdicts(  # noqa: PLR0917
    episodes: pa.Table,
    visits: pa.Table,
    as_of: dt.date,
    site: Site = DEFAULT_SITE,
    operations: pa.Table | None = None,
    studies: pa.Table | None = None,
) -> list[Verdict]:
    """One ``assess()`` per episode, in table order."""
    kb = load()
    found = []
    for case in cases(kb, episodes, visits, as_of, operations, studies):
        result = assess(case, kb, as_of, site)
        fired = sorted(t.rule for t in result.provenance.rules if t.outcome == "fires")
        label = case.label or ""
        triage = result.triage
        not_done = bool(triage.unanswered_emergency)
        found.append(
            Verdict(label, triage.level, result.suspicion.level, " ".join(fired), not_done)
        )
    return found


def parallel_verdicts(  # noqa: PLR0917
    episodes: pa.Table,
    visits: pa.Table,
    as_of: dt.date,
    operations: pa.Table,
    site: Site = DEFAULT_SITE,
    workers: int = 2,
    initializer: Callable[[], None] | None = None,
    studies: pa.Table | None = None,
) -> list[Verdict]:
    """``verdicts`` over chunks in worker processes (spawned: DuckDB threads make fork unsafe).

    ``initializer`` runs once in each worker before any case (the equivalence test uses it).
    """
    size = -(-episodes.num_rows // (workers * 4)) or 1
    chunks = [episodes.slice(start, size) for start in range(0, episodes.num_rows, size)]
    visit_parts = [visits.filter(pc.is_in(visits[EPISODE_ID], c[EPISODE_ID])) for c in chunks]
    op_parts = [operations.filter(pc.is_in(operations[EPISODE_ID], c[EPISODE_ID])) for c in chunks]
    study_parts = [
        None if studies is None else studies.filter(pc.is_in(studies[EPISODE_ID], c[EPISODE_ID]))
        for c in chunks
    ]
    n = len(chunks)
    context = get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=context, initializer=initializer) as pool:
        results = pool.map(
            verdicts, chunks, visit_parts, [as_of] * n, [site] * n, op_parts, study_parts
        )
        return [v for chunk in results for v in chunk]
