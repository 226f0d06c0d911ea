"""The case model rejects impossible input with a message naming the field and what is allowed."""

import datetime as dt
import json

import pytest

from fusionwatch.core.case import Case
from fusionwatch.core.errors import CaseError
from fusionwatch.core.vocab import Answer
from fusionwatch.files.case import parse_data, parse_json, parse_yaml
from tests.conftest import AS_OF


def problems(data: object) -> dict[str, str]:
    with pytest.raises(CaseError) as caught:
        parse_data(data, AS_OF)
    return {p.field: p.message for p in caught.value.problems}


@pytest.mark.parametrize(
    ("data", "field", "words"),
    [
        ({"pain": {"axial": 11}}, "pain.axial", "must be 10 or less"),
        ({"pain": {"limb": -1}}, "pain.limb", "must be 0 or more"),
        ({"surgery": {"months_since": -2}}, "surgery.months_since", "must be 0 or more"),
        ({"surgery": {"date": "2027-01-01"}}, "surgery.date", "after the assessment date"),
        ({"surgery": {"levels": ["L7-L8"]}}, "surgery.levels", "unknown level 'L7-L8'"),
        ({"surgery": {"levels": ["L5-L4"]}}, "surgery.levels", "upper to the lower"),
        (
            {"signs": {"mechanical_pain": "maybe"}},
            "signs.mechanical_pain",
            "must be one of: yes, no, unknown or not_sure",
        ),
        (
            {"signs": {"mechanical_pain": True}},
            "signs.mechanical_pain",
            "one of: yes, no, unknown or not_sure",
        ),
        ({"pain": {"axial": "5"}}, "pain.axial", "must be a whole number"),
        ({"risk": {"hba1c_percent": 45}}, "risk.hba1c_percent", "must be 20 or less"),
        ({"risk": {"smoker": "yes"}}, "risk.smoker", "not a known field"),
        (
            {"exam": {"strength": "weak"}},
            "exam.strength",
            "one of: normal, abnormal or not_examined",
        ),
    ],
)
def test_impossible_values_are_rejected_by_field(data: object, field: str, words: str) -> None:
    found = problems(data)
    assert field in found, found
    assert words in found[field]


def test_date_and_months_together_are_refused() -> None:
    found = problems({"surgery": {"date": "2026-01-01", "months_since": 3}})
    assert "not both" in found["surgery"]


def test_levels_must_fit_the_region() -> None:
    found = problems({"surgery": {"region": "cervical", "levels": ["L4-L5"]}})
    assert "do not belong to region cervical" in found["surgery"]


def test_quit_date_needs_former_smoker() -> None:
    found = problems({"risk": {"nicotine": "current", "nicotine_quit_date": "2025-01-01"}})
    assert "only allowed with nicotine 'former'" in found["risk"]


def test_spans_expand_and_counts_are_derived() -> None:
    case = parse_data({"surgery": {"levels": ["L4-S1", "L4-L5"]}}, AS_OF)
    assert case.surgery.levels == ("L4-L5", "L5-S1")
    assert (case.surgery.level_count, case.surgery.vertebra_count) == (2, 3)
    single = parse_data({"surgery": {"levels": ["l5–s1"]}}, AS_OF)
    assert (single.surgery.level_count, single.surgery.vertebra_count) == (1, 2)


def test_unanswered_questions_default_to_unknown_not_no() -> None:
    case = Case()
    assert case.emergency.new_weakness is Answer.UNKNOWN
    assert case.signs.mechanical_pain is Answer.UNKNOWN


def test_yaml_dates_and_json_text_give_the_same_case() -> None:
    from_yaml = parse_yaml("surgery:\n  date: 2026-01-15\n", AS_OF)
    from_json = parse_json(json.dumps({"surgery": {"date": "2026-01-15"}}), AS_OF)
    assert from_yaml == from_json
    assert from_yaml.surgery.date == dt.date(2026, 1, 15)


def test_not_json_and_not_a_mapping_are_clear_errors() -> None:
    with pytest.raises(CaseError, match="not valid JSON"):
        parse_json("{nope", AS_OF)
    assert "mapping" in problems([1, 2])["(file)"]


@pytest.mark.parametrize(
    ("start", "end", "months"),
    [
        ("2025-11-23", "2026-11-23", 12.0),
        ("2025-12-01", "2026-03-01", 3.0),
        ("2026-01-31", "2026-02-28", 0.92),
        ("2026-01-15", "2026-07-30", 6.49),
        ("2024-02-29", "2025-02-28", 11.99),
    ],
)
def test_months_since_surgery_counts_calendar_months(start: str, end: str, months: float) -> None:
    from fusionwatch.core.case import Surgery
    from fusionwatch.core.derive.timing import months_since_surgery

    surgery = Surgery(date=dt.date.fromisoformat(start))
    assert months_since_surgery(surgery, dt.date.fromisoformat(end)) == months


def _problems(data: dict[str, object], as_of: dt.date = dt.date(2026, 11, 23)) -> list[str]:
    with pytest.raises(CaseError) as caught:
        parse_data(data, as_of)
    return [str(p) for p in caught.value.problems]


def test_a_quit_date_in_the_future_is_refused_with_a_reason() -> None:
    found = _problems({"risk": {"nicotine": "former", "nicotine_quit_date": "2027-01-05"}})
    assert found == [
        "risk.nicotine_quit_date: the quit date 2027-01-05 is after today (2026-11-23); "
        "give a date in the past"
    ]


def test_more_weeks_of_rehab_than_weeks_since_surgery_are_refused() -> None:
    found = _problems({"surgery": {"months_since": 30}, "care": {"rehab_weeks": 500}})
    assert found == [
        "care.rehab_weeks: 500 weeks of rehab is longer than the time since surgery "
        "(about 130 weeks); give the weeks done since the fusion"
    ]
    dated = _problems({"surgery": {"date": "2026-10-26"}, "care": {"rehab_weeks": 12}})
    assert dated[0].startswith("care.rehab_weeks: 12 weeks of rehab is longer")


def test_pain_coming_back_after_today_is_refused() -> None:
    found = _problems({"surgery": {"months_since": 4}, "signs": {"worsening_began_month": 9}})
    assert found[0].startswith("signs.worsening_began_month: month 9 is later than")
    # The month counts from the last fusion operation, and the message says so.
    assert found[0].endswith(
        "give the month after the last fusion operation when the pain came back"
    )


def test_the_worsening_month_counts_from_the_last_fusion_operation() -> None:
    """Twenty months after the index fusion and five after a revision, 'month 9' cannot be."""
    revision = {"kind": "revision", "months_since": 5, "reason": "nonunion"}
    surgery = {"months_since": 20, "operations": [revision]}
    found = _problems({"surgery": surgery, "signs": {"worsening_began_month": 9}})
    assert found
    assert found[0].startswith("signs.worsening_began_month: month 9 is later than")


def test_answers_that_fit_in_time_are_accepted() -> None:
    data = {
        "surgery": {"months_since": 6},
        "care": {"rehab_weeks": 26},  # six months is about 26 weeks, and people round
        "signs": {"improved_then_worse": "yes", "worsening_began_month": 6},
        "risk": {"nicotine": "former", "nicotine_quit_date": "2026-11-23"},
    }
    assert parse_data(data, dt.date(2026, 11, 23)).care.rehab_weeks == 26
