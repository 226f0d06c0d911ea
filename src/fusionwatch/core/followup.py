"""The follow-up part of an assessment: score trajectories, the two time-pattern signs, milestones.

The scores can make sign 2 (improved, then worse) or sign 6 (no expected recovery) count, but they
never clear a sign and never replace the person's answer: the rules read ``derived.sign_*``, which
is yes when the answer *or* the scores say yes, and both are shown side by side (decision 0004).
"""

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from fusionwatch.core.derive.milestone import Milestone, milestones
from fusionwatch.core.derive.trajectory import (
    PATTERN_TEXT,
    Pattern,
    Phases,
    Point,
    Trajectory,
    limit_for,
    trajectory,
)
from fusionwatch.core.knowledge import Threshold
from fusionwatch.core.scores import INSTRUMENT_LABEL, Instrument, Visit, visit_month

# The two signs are about pain, so only the pain and pain-disability scores feed them.
FEEDS_SIGNS = frozenset({Instrument.NRS_AXIAL, Instrument.NRS_LIMB, Instrument.ODI, Instrument.NDI})
_RELAPSE = frozenset({Pattern.IMPROVED_THEN_WORSENED.value})
_NO_RECOVERY = frozenset({Pattern.NOT_IMPROVED_BY_6_MONTHS.value, Pattern.WORSENING.value})
_UNJUDGED = frozenset({Pattern.NOT_ENOUGH_DATA.value, Pattern.NOT_CLASSIFIED.value})
# The patterns that raise a time-pattern sign; reports highlight the same ones.
CONCERNING = _RELAPSE | _NO_RECOVERY


@dataclass(frozen=True, slots=True)
class SignCheck:
    """A time-pattern sign: the person's answer, what the scores show, and what the rules count."""

    sign: str
    label: str
    answer: bool | None
    scores: bool | None
    counted: bool | None
    note: str


@dataclass(frozen=True, slots=True)
class Restart:
    """A later operation restarts the scores' clock: ``shift`` months after the index fusion."""

    shift: float
    operation: str


@dataclass(frozen=True, slots=True)
class FollowUpResult:
    """Trajectories (with a one-line summary each), the sign checks and the check points.

    ``counted_from`` names the later operation the months count from, when there is one.
    """

    trajectories: tuple[Trajectory, ...]
    summaries: tuple[str, ...]
    signs: tuple[SignCheck, ...]
    milestones: tuple[Milestone, ...]
    counted_from: str | None = None


def follow_up(  # noqa: PLR0917 - one call site, each argument distinct
    visits: tuple[Visit, ...],
    surgery_date: dt.date | None,
    thresholds: Mapping[str, float],
    info: Mapping[str, Threshold],
    env: Mapping[str, object],
    restart: Restart | None = None,
) -> tuple[FollowUpResult, dict[str, bool | float | None]]:
    """The follow-up result and the derived facts it adds for the rules."""
    found, facts = score_facts(visits, surgery_date, thresholds, env, restart)
    return explained(found, facts, info, env, restart), facts


def score_facts(
    visits: tuple[Visit, ...],
    surgery_date: dt.date | None,
    thresholds: Mapping[str, float],
    env: Mapping[str, object],
    restart: Restart | None = None,
) -> tuple[tuple[Trajectory, ...], dict[str, bool | float | None]]:
    """The trajectories and the derived facts they add for the rules (no explanations).

    Visits are placed in months after the index fusion. After a later operation (an extension or a
    revision) the healing clock restarts, as the timing rules' does: months count from that
    operation, the latest score before it is the baseline, and earlier scores are left out.
    """
    phases = Phases(thresholds["months.early_recovery"], thresholds["months.fusion_assessment"])
    series = _series(visits, surgery_date)
    if restart is not None:
        series = {i: _restarted(points, restart.shift) for i, points in series.items()}
    found = tuple(
        trajectory(i, series[i], limit_for(i, thresholds), phases)
        for i in Instrument
        if i in series
    )
    return found, _facts(found, env)


def _restarted(points: list[Point], shift: float) -> list[Point]:
    """Months from the later operation; its baseline is the latest score before it."""
    moved = [Point(p.month - shift, p.value, p.baseline) for p in points]
    before = [p for p in moved if p.month <= 0]
    after = [Point(p.month, p.value) for p in moved if p.month > 0]
    if not before:
        return after
    # The latest; on a tie, the visit given as the baseline (the screen's SQL picks the same).
    latest = max(before, key=lambda p: (p.month, p.baseline))
    return [Point(latest.month, latest.value, baseline=True), *after]


def explained(
    found: tuple[Trajectory, ...],
    facts: Mapping[str, object],
    info: Mapping[str, Threshold],
    env: Mapping[str, object],
    restart: Restart | None = None,
) -> FollowUpResult:
    """The trajectories with their summaries, the sign checks and the check points."""
    months_since = env.get("derived.months_since_surgery")
    known = isinstance(months_since, int | float) and not isinstance(months_since, bool)
    when = milestones(info, float(months_since) if known else None)  # type: ignore[arg-type]
    start = "before surgery" if restart is None else f"before the {restart.operation}"
    signs = _sign_checks(found, facts, env, start)
    lines = tuple(summary(t, start) for t in found)
    counted = None if restart is None else restart.operation
    return FollowUpResult(found, lines, signs, when, counted)


def _series(
    visits: tuple[Visit, ...], surgery_date: dt.date | None
) -> dict[Instrument, list[Point]]:
    start = surgery_date
    series: dict[Instrument, list[Point]] = {}
    for visit in visits:
        month = visit_month(visit, start)
        # An undated baseline sits at month 0 (the day of surgery) on charts and in the maths.
        at = min(month or 0.0, 0.0) if visit.baseline else month
        if at is None:
            continue
        for instrument, value in visit.scores().items():
            series.setdefault(instrument, []).append(Point(at, value, visit.baseline))
    return series


def _verdict(found: tuple[Trajectory, ...], wanted: frozenset[str]) -> bool | None:
    judged = [t for t in found if Instrument(t.instrument) in FEEDS_SIGNS]
    judged = [t for t in judged if t.pattern not in _UNJUDGED]
    if any(t.pattern in wanted for t in judged):
        return True
    return False if judged else None


def _either(answer: object, scores: bool | None) -> bool | None:
    """Kleene OR: yes if either says yes, no only if both say no, otherwise unknown."""
    if answer is True or scores is True:
        return True
    if answer is False and scores is False:
        return False
    if answer is False and scores is None:
        return False
    return None


def counted_signs(env: Mapping[str, object]) -> dict[str, bool | None]:
    """The two time-pattern signs as the rules count them, from the answers and the scores."""
    return {
        "derived.sign_relapse": _either(
            env.get("signs.improved_then_worse"), _tri(env.get("derived.scores_relapse"))
        ),
        "derived.sign_no_recovery": _either(
            env.get("signs.no_expected_recovery"), _tri(env.get("derived.scores_no_recovery"))
        ),
    }


def _tri(value: object) -> bool | None:
    return value if isinstance(value, bool) else None


def _facts(
    found: tuple[Trajectory, ...], env: Mapping[str, object]
) -> dict[str, bool | float | None]:
    relapse, stalled = _verdict(found, _RELAPSE), _verdict(found, _NO_RECOVERY)
    months = [t.worsening_month for t in found if t.pattern in _RELAPSE and t.worsening_month]
    answers = (env.get("signs.improved_then_worse"), env.get("signs.no_expected_recovery"))
    disagree = any(
        a is not None and s is not None and a is not s
        for a, s in zip(answers, (relapse, stalled), strict=True)
    )
    return {
        "derived.scores_relapse": relapse,
        "derived.scores_relapse_month": min(months) if months else None,
        "derived.scores_no_recovery": stalled,
        "derived.sign_relapse": _either(answers[0], relapse),
        "derived.sign_no_recovery": _either(answers[1], stalled),
        "derived.scores_disagree": disagree,
    }


def _sign_checks(
    found: tuple[Trajectory, ...],
    facts: Mapping[str, object],
    env: Mapping[str, object],
    before: str,
) -> tuple[SignCheck, ...]:
    pairs = (
        ("signs.improved_then_worse", "Sign 2 - improved early, then worse", "relapse", _RELAPSE),
        (
            "signs.no_expected_recovery",
            "Sign 6 - no expected recovery",
            "no_recovery",
            _NO_RECOVERY,
        ),
    )
    checks = []
    for sign, label, key, wanted in pairs:
        answer, scores = env.get(sign), facts[f"derived.scores_{key}"]
        feeding = [t for t in found if Instrument(t.instrument) in FEEDS_SIGNS]
        evidence = [summary(t, before) for t in feeding if t.pattern in wanted]
        note = _note(answer, scores if isinstance(scores, bool) else None, evidence)
        counted = facts[f"derived.sign_{key}"]
        checks.append(
            SignCheck(
                sign,
                label,
                answer if isinstance(answer, bool) else None,
                scores if isinstance(scores, bool) else None,
                counted if isinstance(counted, bool) else None,
                note,
            )
        )
    return tuple(checks)


def _note(answer: object, scores: bool | None, evidence: list[str]) -> str:
    said = {True: "answered yes", False: "answered no", None: "has not answered"}[
        answer if isinstance(answer, bool) else None
    ]
    shown = " ".join(evidence)
    if scores is None:
        return f"The person {said}; no scores that can judge this yet."
    if scores and answer is False:
        return f"DISAGREE: the person {said}, but the scores show it, so the sign counts. {shown}"
    if scores:
        return f"The person {said}; the scores show it, so the sign counts. {shown}"
    if answer is True:
        return f"DISAGREE: the person {said}, the scores do not show it; the answer counts."
    if answer is None:
        return f"The person {said}; the scores do not show it, but scores never clear a sign."
    return f"The person {said}; the scores agree."


def summary(t: Trajectory, before: str = "before surgery") -> str:
    """One line with the numbers behind a trajectory's pattern."""
    name = INSTRUMENT_LABEL[Instrument(t.instrument)]
    pattern = PATTERN_TEXT[Pattern(t.pattern)]
    if t.reference is None or t.best is None or t.latest is None or t.change is None:
        return f"{name}: {pattern}."
    start = before if t.has_baseline else f"first (month {t.reference.month:g})"
    line = (
        f"{name}: {start} {t.reference.value:g}, best {t.best.value:g} ({_when(t.best, before)})"
        f", latest {t.latest.value:g} (month {t.latest.month:g})"
        f" = {_direction(t)}"
    )
    if t.mcid is not None:
        reached = "reached" if t.beyond_mcid else "not reached"
        line += f"; better counts from {t.mcid:g} (MCID, {reached})"
    relapse = t.relapse_limit
    if t.pattern == Pattern.IMPROVED_THEN_WORSENED.value and relapse is not None:
        # A relapse is judged from the best score, by the smaller of the SDC and the MCID.
        fell = abs(t.latest.value - t.best.value)
        line += f"; a fall from the best counts from {relapse[0]:g} ({relapse[1]})"
        line += f"; fell back {fell:g} from the best, from month {t.worsening_month:g}"
    elif t.threshold is not None:
        line += f"; worse counts from {t.threshold:g} ({t.basis})"
    return f"{line} -> {pattern}."


def _when(p: Point, before: str) -> str:
    return before if p.baseline else f"month {p.month:g}"


def _direction(t: Trajectory) -> str:
    change = t.change or 0.0
    if change == 0:
        return "no change since the start"
    better = (change > 0) == t.higher_is_better
    return f"{abs(change):g} {'better' if better else 'worse'} than at the start"
