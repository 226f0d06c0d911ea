"""Time since surgery, from the case's operations and the assessment date (never from a clock).

A case may hold several operations: the index fusion, then extensions, revisions or stages. The
healing clock restarts with each fusion operation, so the time that counts is the time since the
last operation at the fused levels (or, for one level, the last operation at that level).
"""

import datetime as dt
from dataclasses import dataclass

from fusionwatch.core.case import Surgery
from fusionwatch.core.months import months_between
from fusionwatch.core.spine import span_text
from fusionwatch.core.vocab import OperationKind, OperationReason

# How a clinician's sentence names an operation when its kind alone would not read well.
_NAMES = {"index": "index fusion", OperationKind.UNSPECIFIED.value: "later fusion operation"}


@dataclass(frozen=True, slots=True)
class Done:
    """One operation in the history, with its timing as known."""

    kind: str
    levels: tuple[str, ...]
    date: dt.date | None
    months_ago: float | None

    def describe(self) -> str:
        name = _NAMES.get(self.kind, self.kind)
        where = f" at {span_text(self.levels)}" if self.levels else ""
        when = self.date.isoformat() if self.date else None
        if when is None and self.months_ago is not None:
            when = f"{self.months_ago:g} months ago"
        return f"{name}{where}" + (f" ({when})" if when else " (timing not given)")


def history(surgery: Surgery, as_of: dt.date) -> tuple[Done, ...]:
    """The index fusion and every later operation, each with months before ``as_of``."""
    index = Done(
        "index", surgery.levels, surgery.date, _ago(surgery.date, surgery.months_since, as_of)
    )
    later = tuple(
        Done(op.kind.value, op.levels, op.date, _ago(op.date, op.months_since, as_of))
        for op in surgery.operations
    )
    return (index, *later)


def _ago(date: dt.date | None, months: float | None, as_of: dt.date) -> float | None:
    return months_between(date, as_of) if date is not None else months


def last_operation(surgery: Surgery, as_of: dt.date) -> Done | None:
    """The most recent operation; None when any timing is unknown (that one could be later)."""
    done = history(surgery, as_of)
    if any(d.months_ago is None for d in done):
        return None
    return min(done, key=lambda d: d.months_ago if d.months_ago is not None else 0.0)


def months_since_surgery(surgery: Surgery, as_of: dt.date) -> float | None:
    """Months from the last fusion operation to ``as_of``; None when that is not known."""
    last = last_operation(surgery, as_of)
    return None if last is None else last.months_ago


def prior_failed_fusion(surgery: Surgery) -> bool:
    """The history shows a revision for nonunion at levels fused before it (the same site)."""
    earlier = set(surgery.levels)
    for op in surgery.operations:
        for_nonunion = op.kind is OperationKind.REVISION and op.reason is OperationReason.NONUNION
        if for_nonunion and (not op.levels or not earlier or earlier & set(op.levels)):
            return True
        earlier |= set(op.levels)
    return False
