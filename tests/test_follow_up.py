"""Score series in the case: validation, and how the scores feed signs 2 and 6 in an assessment."""

import datetime as dt
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fusionwatch.core.case import Case
from fusionwatch.core.compiled import Knowledge
from fusionwatch.core.engine import assess
from fusionwatch.core.errors import CaseError
from fusionwatch.core.results import Assessment
from fusionwatch.core.scores import Visit
from fusionwatch.core.vocab import SUSPICION_ORDER, TRIAGE_ORDER
from fusionwatch.files.case import parse_data
from fusionwatch.knowledge import load
from tests.conftest import AS_OF
from tests.test_safety_properties import CASES

RELAPSE = [
    {"baseline": True, "odi": 52, "nrs_axial": 7},
    {"month": 3, "odi": 24, "nrs_axial": 2},
    {"month": 9, "odi": 46, "nrs_axial": 6},
]
STEADY = [
    {"baseline": True, "odi": 52},
    {"month": 3, "odi": 30},
    {"month": 9, "odi": 20},
]


def case(visits: list[dict[str, Any]], **signs: str) -> dict[str, Any]:
    return {
        "surgery": {"months_since": 9, "region": "lumbar"},
        "signs": signs,
        "follow_up": visits,
    }


def run(kb: Knowledge, data: dict[str, Any]) -> Assessment:
    return assess(parse_data(data, AS_OF), kb, AS_OF)


def problems(data: dict[str, Any]) -> str:
    with pytest.raises(CaseError) as caught:
        parse_data(data, AS_OF)
    return "\n".join(f"{p.field}: {p.message}" for p in caught.value.problems)


def test_out_of_range_score_is_refused_with_its_field() -> None:
    text = problems(case([{"month": 3, "odi": 120}]))
    assert "follow_up.0.odi" in text
    assert "100" in text


def test_instrument_must_fit_the_region() -> None:
    text = problems(case([{"month": 3, "ndi": 30}]))
    assert "visit 1 (ndi)" in text
    assert "lumbar" in text
    cervical = {
        "surgery": {"months_since": 4, "region": "cervical"},
        "follow_up": [{"month": 1, "odi": 30}],
    }
    assert "use ndi" in problems(cervical)


def test_duplicate_time_points_are_refused() -> None:
    text = problems(case([{"month": 3, "odi": 30}, {"month": 3, "odi": 28}]))
    assert "visit 2 (when)" in text
    assert "visit 1" in text
    assert "baseline" in problems(
        case([{"baseline": True, "odi": 5}, {"baseline": True, "odi": 6}])
    )


def test_a_date_and_a_month_resolving_to_the_same_point_are_duplicates() -> None:
    data = {
        "surgery": {"date": "2026-01-10", "region": "lumbar"},
        "follow_up": [{"date": "2026-04-10", "odi": 30}, {"month": 3, "odi": 31}],
    }
    assert "same time point" in problems(data)


def test_dated_visits_need_a_surgery_date_and_must_not_be_in_the_future() -> None:
    assert "surgery.date" in problems(case([{"date": "2026-05-01", "odi": 30}]))
    future = {
        "surgery": {"date": "2026-01-10", "region": "lumbar"},
        "follow_up": [{"date": "2026-12-01", "odi": 30}],
    }
    assert "after the assessment date" in problems(future)


def test_a_visit_needs_a_time_and_a_score() -> None:
    assert "date or month" in problems(case([{"odi": 30}]))
    assert "at least one score" in problems(case([{"month": 2}]))


def test_no_series_leaves_the_signs_as_answered(kb: Knowledge) -> None:
    result = run(kb, case([], improved_then_worse="yes"))
    assert result.derived["derived.sign_relapse"] is True
    assert result.derived["derived.scores_relapse"] is None
    assert result.derived["derived.scores_disagree"] is False
    assert result.follow_up is not None
    assert not result.follow_up.trajectories


def test_scores_raise_sign_2_when_the_person_said_no_and_both_are_shown(kb: Knowledge) -> None:
    result = run(kb, case(RELAPSE, improved_then_worse="no"))
    assert result.derived["derived.sign_relapse"] is True
    assert result.derived["derived.scores_relapse_month"] == 9
    assert result.follow_up is not None
    check = result.follow_up.signs[0]
    assert (check.answer, check.scores, check.counted) == (False, True, True)
    assert "DISAGREE" in check.note
    assert "fell back 22" in check.note
    assert "ODI" in check.note
    # A relapse is judged from the best by the smaller of the SDC (18) and the MCID (12.8): the
    # note said "worse counts from 18 (smallest detectable change)".
    assert "a fall from the best counts from 12.8 (minimal clinically important" in check.note
    assert "worse counts from 18" not in check.note
    fired = {c.rule for c in result.recommendations}
    assert "FW-TRAJ-001" in fired


def test_scores_never_clear_an_answer_or_an_open_question(kb: Knowledge) -> None:
    said_yes = run(kb, case(STEADY, improved_then_worse="yes"))
    assert said_yes.derived["derived.sign_relapse"] is True
    assert said_yes.derived["derived.scores_disagree"] is True
    open_question = run(kb, case(STEADY))
    assert open_question.derived["derived.sign_relapse"] is None
    assert "signs.improved_then_worse" in {m.fact for m in open_question.missing_information}


def test_not_improved_by_6_months_feeds_sign_6(kb: Knowledge) -> None:
    flat = [
        {"baseline": True, "nrs_limb": 6},
        {"month": 3, "nrs_limb": 5},
        {"month": 7, "nrs_limb": 5},
    ]
    result = run(kb, case(flat, no_expected_recovery="no"))
    assert result.derived["derived.scores_no_recovery"] is True
    assert result.derived["derived.sign_no_recovery"] is True


def test_function_scores_do_not_feed_the_pain_signs(kb: Knowledge) -> None:
    eq = [
        {"baseline": True, "eq5d_index": 0.2},
        {"month": 3, "eq5d_index": 0.8},
        {"month": 9, "eq5d_index": 0.2},
    ]
    result = run(kb, case(eq))
    assert result.follow_up is not None
    assert result.follow_up.trajectories[0].pattern == "improved_then_worsened"
    assert result.derived["derived.scores_relapse"] is None


def test_mixed_instruments_each_get_a_trajectory(kb: Knowledge) -> None:
    visits = [
        {"baseline": True, "nrs_axial": 7, "odi": 50, "walking_minutes": 5, "analgesics": "opioid"},
        {"month": 1.5, "nrs_axial": 4, "promis_pf": 35},
        {"month": 6, "odi": 28, "promis_pf": 41, "walking_minutes": 40, "analgesics": "none"},
    ]
    result = run(kb, case(visits))
    assert result.follow_up is not None
    found = {t.instrument: t.pattern for t in result.follow_up.trajectories}
    assert found == {
        "nrs_axial": "improving_as_expected",  # 3 points better: past the MCID of 1.2
        "odi": "improving_as_expected",
        "promis_pf": "improving_as_expected",
        "walking_minutes": "not_classified",
    }


def test_milestones_show_what_is_due_next(kb: Knowledge) -> None:
    result = run(kb, case([]))
    assert result.follow_up is not None
    status = {m.name: m.status for m in result.follow_up.milestones}
    assert status == {
        "6 weeks": "passed",
        "3 months": "passed",
        "6 months": "passed",
        "12 months": "next",
        "24 months": "later",
    }
    unknown = run(kb, {"follow_up": []})
    assert unknown.follow_up is not None
    assert {m.status for m in unknown.follow_up.milestones} == {"unknown"}


def test_dated_series_uses_calendar_months(kb: Knowledge) -> None:
    data = {
        "surgery": {"date": "2025-11-23", "region": "lumbar"},
        "follow_up": [
            {"baseline": True, "date": "2025-11-01", "nrs_axial": 8},
            {"date": "2026-02-23", "nrs_axial": 3},
            {"date": "2026-11-23", "nrs_axial": 7},
        ],
    }
    result = assess(parse_data(data, AS_OF), kb, AS_OF)
    assert result.follow_up is not None
    t = result.follow_up.trajectories[0]
    assert [p.month for p in t.points][1:] == [3.0, 12.0]
    assert t.pattern == "improved_then_worsened"
    assert dt.date(2026, 11, 23) == AS_OF


KB = load()
TRIAGE_RANK = TRIAGE_ORDER
# Scores can answer the facts a "cannot tell" band was waiting for; reaching "low" that way is the
# unknown being resolved, not evidence lowering the band, so the two share a rank here.
BAND_RANK = {**SUSPICION_ORDER, "cannot_tell": SUSPICION_ORDER["low"]}
SCORE = st.floats(0, 10, allow_nan=False)


@st.composite
def series(draw: st.DrawFn) -> tuple[Visit, ...]:
    visits = [Visit(baseline=True, nrs_axial=draw(SCORE), nrs_limb=draw(SCORE))]
    month = 0.0
    for _ in range(draw(st.integers(1, 5))):
        month += draw(st.floats(0.5, 6))
        visits.append(Visit(month=round(month, 2), nrs_axial=draw(SCORE), nrs_limb=draw(SCORE)))
    return tuple(visits)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=CASES, visits=series())
def test_adding_scores_never_lowers_suspicion_or_triage(
    case: Case, visits: tuple[Visit, ...]
) -> None:
    without = assess(case, KB, AS_OF)
    with_scores = assess(case.model_copy(update={"follow_up": visits}), KB, AS_OF)
    assert BAND_RANK[with_scores.suspicion.level] >= BAND_RANK[without.suspicion.level]
    assert TRIAGE_RANK[with_scores.triage.level] >= TRIAGE_RANK[without.triage.level]


def test_the_self_check_never_asks_for_a_score_series(kb: Knowledge) -> None:
    from fusionwatch.intake import questionnaire as qn

    for mode in ("patient", "clinician"):
        asked = {q.fact.id for q in qn.other_questions(kb, mode)}
        assert "follow_up" not in asked
