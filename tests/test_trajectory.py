"""Trajectory patterns on synthetic series: every pattern, the edge cases and a property."""

from hypothesis import given
from hypothesis import strategies as st

from fusionwatch.core.derive.trajectory import (
    MCID,
    SDC,
    Limit,
    Pattern,
    Phases,
    Point,
    limit_for,
    trajectory,
)
from fusionwatch.core.scores import Instrument
from fusionwatch.knowledge import load

KB = load()
PHASES = Phases(early=3, judged=6)
ODI = limit_for(Instrument.ODI, KB.thresholds)  # individual threshold: SDC 18


def odi(*pairs: tuple[float, float], baseline: float | None = None) -> str:
    points = [Point(m, v) for m, v in pairs]
    if baseline is not None:
        points.append(Point(0, baseline, baseline=True))
    return trajectory(Instrument.ODI, points, ODI, PHASES).pattern


def test_thresholds_come_from_the_knowledge_base() -> None:
    assert ODI.threshold == KB.thresholds["sdc.odi"] == 18
    assert ODI.basis == SDC
    ndi = limit_for(Instrument.NDI, KB.thresholds)
    assert ndi.basis == MCID
    assert ndi.threshold == KB.thresholds["mcid.ndi"]
    assert limit_for(Instrument.WALKING_MINUTES, KB.thresholds).threshold is None


def test_every_pattern() -> None:
    assert odi((1.5, 40), baseline=50) == Pattern.TOO_EARLY
    assert odi((1.5, 30), (3, 20), (6, 18), baseline=50) == Pattern.IMPROVING
    assert odi((3, 45), (4, 44), baseline=50) == Pattern.PLATEAU
    assert odi((3, 45), (6, 44), baseline=50) == Pattern.NOT_IMPROVED_BY_6_MONTHS
    assert odi((3, 20), (9, 45), baseline=50) == Pattern.IMPROVED_THEN_WORSENED
    assert odi((3, 60), (6, 70), baseline=50) == Pattern.WORSENING


def test_one_point_and_baseline_only_are_not_enough() -> None:
    assert odi((6, 40)) == Pattern.NOT_ENOUGH_DATA
    assert odi(baseline=50) == Pattern.NOT_ENOUGH_DATA
    assert odi((6, 40), baseline=50) == Pattern.NOT_IMPROVED_BY_6_MONTHS


def test_without_baseline_the_first_visit_is_the_start_and_no_6_month_verdict() -> None:
    result = trajectory(Instrument.ODI, [Point(2, 30), Point(7, 29)], ODI, PHASES)
    assert result.reference == Point(2, 30)
    assert not result.has_baseline
    assert result.pattern == Pattern.PLATEAU
    assert odi((1.5, 40), (4, 15), (9, 38)) == Pattern.IMPROVED_THEN_WORSENED


def test_exactly_at_the_threshold_counts() -> None:
    # Better counts from the MCID (12.8); worse counts from the individual SDC (18).
    assert odi((3, 37.2), baseline=50) == Pattern.IMPROVING
    assert odi((3, 37.3), baseline=50) == Pattern.PLATEAU
    assert odi((3, 32), (9, 50), baseline=50) == Pattern.IMPROVED_THEN_WORSENED  # fell 18
    # After a gain beyond the MCID, losing at least the MCID (12.8) is a relapse even below the
    # SDC (issue 12); losing less is not, and the series is then no longer meaningfully better.
    assert odi((3, 32), (9, 44.8), baseline=50) == Pattern.IMPROVED_THEN_WORSENED  # fell 12.8
    assert odi((3, 32), (9, 44.7), baseline=50) == Pattern.NOT_IMPROVED_BY_6_MONTHS
    assert odi((3, 60), (6, 68), baseline=50) == Pattern.WORSENING
    assert odi((3, 60), (6, 67.9), baseline=50) == Pattern.NOT_IMPROVED_BY_6_MONTHS


def test_an_improvement_past_the_mcid_but_below_the_sdc_still_counts() -> None:
    leg = limit_for(Instrument.NRS_LIMB, KB.thresholds)
    points = [Point(0, 6, True), Point(3, 2), Point(9, 3)]
    assert trajectory(Instrument.NRS_LIMB, points, leg, PHASES).pattern == Pattern.IMPROVING


def test_worsening_before_month_3_is_too_early_and_relapse_needs_month_3() -> None:
    assert odi((1.5, 70), baseline=50) == Pattern.TOO_EARLY
    assert odi((1, 20), (2.9, 45), baseline=50) == Pattern.TOO_EARLY
    assert odi((1, 20), (3, 45), baseline=50) == Pattern.IMPROVED_THEN_WORSENED


def test_irregular_dates_are_ordered_and_relapse_month_found() -> None:
    points = [Point(11.3, 44), Point(0.7, 38), Point(4.2, 22), Point(7.9, 41), Point(0, 52, True)]
    result = trajectory(Instrument.ODI, points, ODI, PHASES)
    assert [p.month for p in result.points] == [0, 0.7, 4.2, 7.9, 11.3]
    assert result.pattern == Pattern.IMPROVED_THEN_WORSENED
    assert result.best == Point(4.2, 22)
    assert result.worsening_month == 7.9


def test_higher_is_better_scores() -> None:
    promis = limit_for(Instrument.PROMIS_PF, KB.thresholds)  # MCID 4.2, no SDC
    up = [Point(0, 30, True), Point(3, 36), Point(6, 40)]
    assert trajectory(Instrument.PROMIS_PF, up, promis, PHASES).pattern == Pattern.IMPROVING
    down = [Point(0, 30, True), Point(3, 40), Point(8, 34)]
    assert trajectory(Instrument.PROMIS_PF, down, promis, PHASES).pattern == (
        Pattern.IMPROVED_THEN_WORSENED
    )


def test_walking_is_shown_not_classified() -> None:
    limit = limit_for(Instrument.WALKING_MINUTES, KB.thresholds)
    points = [Point(0, 5, True), Point(6, 30)]
    result = trajectory(Instrument.WALKING_MINUTES, points, limit, PHASES)
    assert result.pattern == Pattern.NOT_CLASSIFIED
    assert result.change == 25


@given(
    start=st.floats(30, 100),
    steps=st.lists(st.floats(0, 10), min_size=1, max_size=8),
    gaps=st.lists(st.floats(0.25, 6), min_size=8, max_size=8),
    baseline=st.booleans(),
)
def test_a_series_that_never_gets_worse_is_never_improved_then_worsened(
    start: float, steps: list[float], gaps: list[float], baseline: bool
) -> None:
    points, value, month = [Point(0, start, baseline=baseline)], start, 0.5
    for step, gap in zip(steps, gaps, strict=False):
        value, month = max(value - step, 0), month + gap
        points.append(Point(month, value))
    for limit in (ODI, Limit(mcid=1.0, sdc=None)):
        pattern = trajectory(Instrument.ODI, points, limit, PHASES).pattern
        assert pattern not in {Pattern.IMPROVED_THEN_WORSENED, Pattern.WORSENING}


def test_a_big_gain_lost_by_less_than_the_sdc_is_a_relapse_not_no_recovery() -> None:
    """Issue 12: ODI 50-30-45 and EQ-5D 0.35-0.78-0.40 were called "not improved by 6 months"."""
    assert odi((3, 30), (9, 45), baseline=50) == Pattern.IMPROVED_THEN_WORSENED
    eq5d = limit_for(Instrument.EQ5D_INDEX, KB.thresholds)  # MCID 0.10, SDC 0.49
    points = [Point(0, 0.35, True), Point(3, 0.78), Point(9, 0.40)]
    judged = trajectory(Instrument.EQ5D_INDEX, points, eq5d, PHASES)
    assert judged.pattern == Pattern.IMPROVED_THEN_WORSENED
    assert judged.worsening_month == 9
    # A gain below the MCID that fades again is still no recovery, not a relapse.
    assert odi((3, 42), (9, 48), baseline=50) == Pattern.NOT_IMPROVED_BY_6_MONTHS


def test_the_relapse_limit_is_the_step_the_pattern_uses() -> None:
    # ODI: the MCID (12.8) is smaller than the SDC (18), so a relapse is judged by the MCID.
    at = trajectory(Instrument.ODI, [Point(0, 50, True), Point(3, 32), Point(9, 44.8)], ODI, PHASES)
    assert at.pattern == Pattern.IMPROVED_THEN_WORSENED
    assert at.relapse_limit == (KB.thresholds["mcid.odi"], MCID)
    ndi = limit_for(Instrument.NDI, KB.thresholds)  # no published SDC: the MCID throughout
    series = [Point(0, 50, True), Point(3, 30), Point(9, 44)]
    assert trajectory(Instrument.NDI, series, ndi, PHASES).relapse_limit == (
        KB.thresholds["mcid.ndi"],
        MCID,
    )
    walking = limit_for(Instrument.WALKING_MINUTES, KB.thresholds)
    series = [Point(0, 5, True), Point(3, 30), Point(9, 10)]
    assert trajectory(Instrument.WALKING_MINUTES, series, walking, PHASES).relapse_limit is None
