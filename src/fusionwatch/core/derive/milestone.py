"""The usual follow-up check points after a fusion, and which one is due next for a person."""

from collections.abc import Mapping
from dataclasses import dataclass

from fusionwatch.core.knowledge import Threshold
from fusionwatch.core.months import DAYS_PER_MONTH

# (threshold id, what the check is for). The months come from thresholds.yaml with their sources.
CHECKPOINTS: tuple[tuple[str, str], ...] = (
    ("milestone.first_review", "first check: wound, walking, pain medicine"),
    ("months.early_recovery", "end of early recovery: most of the early gain is usually seen"),
    ("months.fusion_assessment", "fusion progress starts to be judged (usually 6 to 12 months)"),
    ("months.established", "fusion usually judged: no bony union by now defines a nonunion"),
    ("milestone.fusion_progress", "late check: fusion can still progress; recovery levels off"),
)


@dataclass(frozen=True, slots=True)
class Milestone:
    """One check point: when (months after the fusion), what for, and where it stands."""

    name: str
    month: float
    purpose: str
    threshold: str
    status: str
    source: str


def milestones(
    thresholds: Mapping[str, Threshold], months_since: float | None
) -> tuple[Milestone, ...]:
    """Every check point with its status: passed, next (the first one not yet passed), later.

    With no known surgery date every status is "unknown".
    """
    found: list[Milestone] = []
    next_given = False
    for threshold_id, purpose in CHECKPOINTS:
        known = thresholds[threshold_id]
        month, name = _when(known.value, known.unit)
        if months_since is None:
            status = "unknown"
        elif month < months_since:
            status = "passed"
        elif not next_given:
            status, next_given = "next", True
        else:
            status = "later"
        kind = " - a setting, no published value" if known.kind.value == "setting" else ""
        source = f"{known.cite}: {known.locator}{kind}"
        found.append(Milestone(name, month, purpose, threshold_id, status, source))
    return tuple(found)


def _when(value: float, unit: str) -> tuple[float, str]:
    if unit == "weeks":
        return round(value * 7 / DAYS_PER_MONTH, 2), f"{value:g} weeks"
    return value, f"{value:g} months"
