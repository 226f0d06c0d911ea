"""Score trajectories: the starting, best and latest point of each score, and its pattern.

An improvement counts when it reaches the *minimal clinically important difference* (MCID), the
smallest change patients notice. A worsening counts only when it reaches one person's *smallest
detectable change* (SDC) where the evidence gives one, because a smaller change can be measurement
error in a single person; without a published SDC the MCID is used, and each trajectory says which
(``basis``). Decision 0004.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from fusionwatch.core.scores import HIGHER_IS_BETTER, Instrument


class Pattern(StrEnum):
    NOT_ENOUGH_DATA = "not_enough_data"
    NOT_CLASSIFIED = "not_classified"
    TOO_EARLY = "too_early"
    IMPROVING = "improving_as_expected"
    PLATEAU = "plateau"
    NOT_IMPROVED_BY_6_MONTHS = "not_improved_by_6_months"
    IMPROVED_THEN_WORSENED = "improved_then_worsened"
    WORSENING = "worsening"


PATTERN_TEXT: Mapping[Pattern, str] = {
    Pattern.NOT_ENOUGH_DATA: "not enough data (one measurement)",
    Pattern.NOT_CLASSIFIED: "shown only (no published threshold for this measure)",
    Pattern.TOO_EARLY: "too early to judge (before month 3)",
    Pattern.IMPROVING: "improving as expected",
    Pattern.PLATEAU: "plateau (no meaningful change so far)",
    Pattern.NOT_IMPROVED_BY_6_MONTHS: "not improved by 6 months",
    Pattern.IMPROVED_THEN_WORSENED: "improved, then worsened",
    Pattern.WORSENING: "worsening",
}

# Threshold ids (thresholds.yaml) per instrument: group MCID, then individual SDC if published.
LIMIT_IDS: Mapping[Instrument, tuple[str | None, str | None]] = {
    Instrument.NRS_AXIAL: ("mcid.nrs_axial", "sdc.nrs_axial"),
    Instrument.NRS_LIMB: ("mcid.nrs_limb", "sdc.nrs_limb"),
    Instrument.ODI: ("mcid.odi", "sdc.odi"),
    Instrument.NDI: ("mcid.ndi", None),
    Instrument.PROMIS_PF: ("mcid.promis_pf", None),
    Instrument.EQ5D_INDEX: ("mcid.eq5d_index", "sdc.eq5d_index"),
    Instrument.WALKING_MINUTES: (None, None),
}
SDC = "smallest detectable change"
MCID = "minimal clinically important difference"


@dataclass(frozen=True, slots=True)
class Point:
    """One measurement; ``month`` is months after the fusion (0 or less for the baseline)."""

    month: float
    value: float
    baseline: bool = False


@dataclass(frozen=True, slots=True)
class Limit:
    """The thresholds one instrument is judged by (None where the evidence gives none)."""

    mcid: float | None
    sdc: float | None
    mcid_id: str | None = None
    sdc_id: str | None = None

    @property
    def threshold(self) -> float | None:
        """How far a score must fall to count as worse for one person."""
        return self.sdc if self.sdc is not None else self.mcid

    @property
    def improvement(self) -> float | None:
        """How far a score must rise to count as better."""
        return self.mcid if self.mcid is not None else self.sdc

    @property
    def basis(self) -> str | None:
        if self.sdc is not None:
            return SDC
        return MCID if self.mcid is not None else None

    @property
    def threshold_id(self) -> str | None:
        return self.sdc_id if self.sdc is not None else self.mcid_id


@dataclass(frozen=True, slots=True)
class Phases:
    """Month lines the patterns use (thresholds months.early_recovery, months.fusion_assessment)."""

    early: float
    judged: float


@dataclass(frozen=True, slots=True)
class Trajectory:
    """One score over time, judged."""

    instrument: str
    higher_is_better: bool
    points: tuple[Point, ...]
    pattern: str
    reference: Point | None = None
    best: Point | None = None
    latest: Point | None = None
    change: float | None = None
    threshold: float | None = None
    basis: str | None = None
    threshold_id: str | None = None
    mcid: float | None = None
    beyond_mcid: bool | None = None
    worsening_month: float | None = None

    @property
    def has_baseline(self) -> bool:
        return self.reference is not None and self.reference.baseline

    @property
    def relapse_limit(self) -> tuple[float, str] | None:
        """How far a score must fall back from its best to count as a relapse, and which
        threshold that is: the smaller of the SDC and the MCID, as ``_pattern`` judges it."""
        if self.threshold is None or self.basis is None:
            return None
        if self.mcid is not None and self.mcid < self.threshold:
            return self.mcid, MCID
        return self.threshold, self.basis


def limit_for(instrument: Instrument, thresholds: Mapping[str, float]) -> Limit:
    """The MCID and SDC of an instrument, read from the knowledge base's thresholds."""
    mcid_id, sdc_id = LIMIT_IDS[instrument]
    mcid = thresholds[mcid_id] if mcid_id else None
    sdc = thresholds[sdc_id] if sdc_id else None
    return Limit(mcid, sdc, mcid_id, sdc_id)


def trajectory(
    instrument: Instrument, points: Sequence[Point], limit: Limit, phases: Phases
) -> Trajectory:
    """Judge one score series (points in any order; at most one baseline)."""
    ordered = tuple(sorted(points, key=lambda p: (not p.baseline, p.month)))
    higher = instrument in HIGHER_IS_BETTER
    base = Trajectory(instrument.value, higher, ordered, Pattern.NOT_ENOUGH_DATA.value)
    post = [p for p in ordered if not p.baseline]
    reference = ordered[0] if ordered else None
    if reference is None or len(post) < (1 if reference.baseline else 2):
        return base
    return _judged(base, reference, post, limit, phases)


def _judged(
    base: Trajectory, reference: Point, post: list[Point], limit: Limit, phases: Phases
) -> Trajectory:
    sign = 1.0 if base.higher_is_better else -1.0

    def gain(p: Point) -> float:
        return round((p.value - reference.value) * sign, 6)

    later = post if reference.baseline else post[1:]
    # The best point: the largest gain, the earliest of equals.
    best = max([reference, *later], key=gain)
    latest = post[-1]
    threshold, improvement = limit.threshold, limit.improvement
    pattern, month = Pattern.NOT_CLASSIFIED, None
    if threshold is not None and improvement is not None:
        steps = (improvement, threshold)
        pattern, month = _pattern(reference, best, later, gain, steps, phases)
    change = round(latest.value - reference.value, 6)
    return Trajectory(
        base.instrument,
        base.higher_is_better,
        base.points,
        pattern.value,
        reference=reference,
        best=best,
        latest=latest,
        change=change,
        threshold=threshold,
        basis=limit.basis,
        threshold_id=limit.threshold_id,
        mcid=limit.mcid,
        beyond_mcid=None if limit.mcid is None else gain(latest) >= limit.mcid,
        worsening_month=month,
    )


def _pattern(  # noqa: PLR0917  (each argument is a distinct part of one judgement)
    reference: Point,
    best: Point,
    later: list[Point],
    gain: Callable[[Point], float],
    steps: tuple[float, float],
    phases: Phases,
) -> tuple[Pattern, float | None]:
    improvement, threshold = steps
    latest = later[-1]
    now = gain(latest)
    # A change exactly at the threshold counts: MCID and SDC are "at least this much" values.
    improved = best is not reference and gain(best) >= improvement
    # Losing a clinically important gain is a relapse (sign 2) even when the fall is smaller than
    # one person's detectable change: the gain itself was beyond the MCID, so the series is not
    # "never improved" (issue 12: EQ-5D 0.35 -> 0.78 -> 0.40 was called "not improved").
    # Trajectory.relapse_limit states the same step for charts and reports.
    step = min(threshold, improvement) if improved else threshold
    fell = gain(best) - now >= step
    if improved and fell and latest.month >= phases.early and latest.month > best.month:
        after = [p for p in later if p.month > best.month and gain(best) - gain(p) >= step]
        return Pattern.IMPROVED_THEN_WORSENED, after[0].month
    if now <= -threshold and latest.month >= phases.early:
        return Pattern.WORSENING, next(p.month for p in later if gain(p) <= -threshold)
    if now >= improvement:
        return Pattern.IMPROVING, None
    if latest.month < phases.early:
        return Pattern.TOO_EARLY, None
    # Without a pre-operative score, "not improved" cannot be told from "improved before the first
    # measurement", so the series is only called a plateau (decision 0004).
    if latest.month >= phases.judged and reference.baseline:
        return Pattern.NOT_IMPROVED_BY_6_MONTHS, None
    return Pattern.PLATEAU, None
