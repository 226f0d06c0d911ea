"""FHIR into a case: codes and units from the data dictionary, precision kept, nothing guessed."""

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from fusionwatch.core.compiled import Knowledge
from fusionwatch.core.derive.timing import prior_failed_fusion
from fusionwatch.core.engine import assess
from fusionwatch.core.errors import CaseError
from fusionwatch.fhir.caseimport import import_bundle, import_resources
from fusionwatch.fhir.codes import System
from fusionwatch.fhir.questionnaire import import_response
from fusionwatch.files.case import parse_data
from tests.conftest import AS_OF

HERE = Path(__file__).parent
PATIENT = {"reference": "Patient/p1"}


def _bundle() -> dict[str, Any]:
    return json.loads((HERE / "bundle-post-fusion.json").read_text())


def _observation(code: dict[str, str], **value: Any) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": "o1",
        "status": "final",
        "code": {"coding": [code]},
        "subject": PATIENT,
        **value,
    }


def _fusion(
    performed: str, *levels: str, id: str = "f", region: dict[str, str] | None = None
) -> dict[str, Any]:
    """A fusion Procedure; ``region`` a coding of its body site, ``levels`` texts beside it."""
    sites: list[dict[str, Any]] = [{"text": level} for level in levels]
    if region:
        sites.insert(0, {"coding": [region]})
    return {
        "resourceType": "Procedure",
        "id": id,
        "status": "completed",
        "code": {"coding": [{"system": "http://snomed.info/sct", "code": "55705006"}]},
        "subject": PATIENT,
        "performedDateTime": performed,
        **({"bodySite": sites} if sites else {}),
    }


def test_bundle_imports_to_the_hand_written_case(kb: Knowledge) -> None:
    imported = import_bundle(_bundle(), kb, AS_OF)
    expected = yaml.safe_load((HERE / "bundle-post-fusion.expected.yaml").read_text())
    assert imported.case == parse_data(expected, AS_OF)
    assert imported.patient_id == "fw-synthetic-1"


def test_what_is_not_used_is_reported_with_a_reason(kb: Knowledge) -> None:
    notes = {n.source: n.reason for n in import_bundle(_bundle(), kb, AS_OF).notes}
    assert notes == {
        "Procedure/fusion": "fusion date known to the month (2026-01): months since surgery "
        "taken from mid-month, ±0.5 month",
        "Condition/m96": "noted, not used by the rules: M96.0 Pseudarthrosis after fusion or "
        "arthrodesis",
        "Observation/vitd-nmol": "cannot assess: unit nmol/L is not UCUM ng/mL",
        "Observation/unknown-code": "cannot assess: observation code not in the data dictionary",
        "Encounter/visit": "ignored: fusionwatch does not read this resource type",
    }


def test_the_latest_observation_wins(kb: Knowledge) -> None:
    assert import_bundle(_bundle(), kb, AS_OF).case.pain.axial == 7


@pytest.mark.parametrize(
    ("performed", "date", "months"),
    [("2026-01-15", "2026-01-15", None), ("2026-01", None, 10.3), ("2026", None, None)],
)
def test_partial_fusion_dates_keep_their_precision(
    kb: Knowledge, performed: str, date: str | None, months: float | None
) -> None:
    imported = import_resources([_fusion(performed)], kb, AS_OF)
    assert str(imported.case.surgery.date) == str(date)
    assert imported.case.surgery.months_since == months
    if performed == "2026":
        assert "cannot assess timing" in imported.notes[0].reason


def test_an_unknown_answer_code_is_not_guessed(kb: Knowledge) -> None:
    smoking = _observation(
        {"system": "http://loinc.org", "code": "72166-2"},
        valueCodeableConcept={"coding": [{"system": "http://snomed.info/sct", "code": "999999"}]},
    )
    imported = import_resources([smoking], kb, AS_OF)
    assert imported.case.risk.nicotine is None
    assert imported.notes[0].reason == "cannot assess: answer code not recognised"


def test_a_number_without_the_expected_unit_is_not_used(kb: Knowledge) -> None:
    hba1c = _observation(
        {"system": "http://loinc.org", "code": "4548-4"},
        valueQuantity={"value": 68, "unit": "mmol/mol"},
    )
    imported = import_resources([hba1c], kb, AS_OF)
    assert imported.case.risk.hba1c_percent is None
    assert imported.notes[0].fact == "risk.hba1c_percent"


def test_invalid_fhir_is_reported_not_read(kb: Knowledge) -> None:
    broken = {"resourceType": "Observation", "id": "x", "status": "final"}
    imported = import_resources([broken], kb, AS_OF)
    assert "not valid FHIR R4" in imported.notes[0].reason


def test_an_out_of_range_value_is_an_input_error(kb: Knowledge) -> None:
    pain = _observation({"system": "http://loinc.org", "code": "72514-3"}, valueInteger=12)
    with pytest.raises(CaseError) as error:
        import_resources([pain], kb, AS_OF)
    assert error.value.problems[0].field == "pain.axial"


def test_questionnaire_response_imports_by_link_id(kb: Knowledge) -> None:
    response = {
        "resourceType": "QuestionnaireResponse",
        "status": "completed",
        "subject": PATIENT,
        "item": [
            {
                "linkId": "signs.mechanical_pain",
                "answer": [
                    {"valueCoding": {"system": "http://snomed.info/sct", "code": "373066001"}}
                ],
            },
            {"linkId": "pain.axial", "answer": [{"valueDecimal": 6}]},
            {"linkId": "surgery.months_since", "answer": [{"valueDecimal": 9.5}]},
            {
                "linkId": "risk.nicotine",
                "answer": [
                    {
                        "valueCoding": {
                            "system": "https://fusionwatch.example/fhir/CodeSystem/fact/risk.nicotine",
                            "code": "former",
                        }
                    }
                ],
            },
            {"linkId": "risk.nicotine_quit_date", "answer": [{"valueDate": "2025-06-01"}]},
        ],
    }
    case = import_response(response, kb, AS_OF).case
    assert case.signs.mechanical_pain == "yes"
    assert (case.pain.axial, case.surgery.months_since) == (6, 9.5)
    assert (case.risk.nicotine, str(case.risk.nicotine_quit_date)) == ("former", "2025-06-01")


def _score(oid: str, loinc: str, when: str, **value: Any) -> dict[str, Any]:
    code = {"system": "http://loinc.org", "code": loinc}
    return _observation(code, effectiveDateTime=when, **value) | {"id": oid}


def test_single_scores_from_an_ehr_become_visits(kb: Knowledge) -> None:
    score = {
        "valueQuantity": {"value": 44, "system": "http://unitsofmeasure.org", "code": "{score}"}
    }
    resources = [
        _score("old", "97909-6", "2025-03-01", valueInteger=60),
        _score("pre", "97909-6", "2025-04-20T09:30:00Z", valueInteger=52),
        _score("m3", "97909-6", "2025-08-01", **score),
        _score("pf", "77866-2", "2025-08-01", valueInteger=38),
        _score("mg", "97909-6", "2026-02-01", valueQuantity={"value": 3, "code": "mg"}),
        _score("month", "82237-9", "2026-03", valueInteger=20),
        _fusion("2025-05-02"),
    ]
    imported = import_resources(resources, kb, AS_OF)
    visits = [v.model_dump(exclude_defaults=True) for v in imported.case.follow_up]
    assert [{k: str(v) for k, v in visit.items()} for visit in visits] == [
        {"baseline": "True", "date": "2025-04-20", "odi": "52.0"},
        {"date": "2025-08-01", "odi": "44.0", "promis_pf": "38.0"},
    ]
    assert {n.source: n.reason for n in imported.notes} == {
        "Observation/old": "ignored: an earlier pre-operative score (2025-03-01)",
        "Observation/pre": "read as the pre-operative baseline (2025-04-20; fusion 2025-05-02)",
        "Observation/mg": "cannot assess: odi score in unit mg, not a score unit",
        "Observation/month": "cannot assess: ndi score not dated to the day (2026-03)",
    }


def test_scores_without_a_fusion_date_are_not_placed(kb: Knowledge) -> None:
    imported = import_resources([_score("s", "97909-6", "2025-08-01", valueInteger=30)], kb, AS_OF)
    assert imported.case.follow_up == ()
    assert imported.notes[0].reason == (
        "cannot assess: a dated score needs the fusion date to the day"
    )


def test_vitamin_d3_alone_is_not_read_as_total_vitamin_d(kb: Knowledge) -> None:
    code = {"system": "http://loinc.org", "code": "1989-3"}
    quantity = {"value": 12, "system": "http://unitsofmeasure.org", "code": "ng/mL"}
    imported = import_resources([_observation(code, valueQuantity=quantity)], kb, AS_OF)
    assert imported.case.risk.vitamin_d_ng_ml is None
    assert "D3 alone is not total 25-OH vitamin D" in imported.notes[0].reason


def test_a_lumbar_t_score_alone_is_not_read_as_the_lowest(kb: Knowledge) -> None:
    # One site's normal value must not stand for the lowest T-score (it would look reassuring).
    code = {"system": "http://loinc.org", "code": "38267-1"}
    quantity = {"value": -0.5, "system": "http://unitsofmeasure.org", "code": "{SD}"}
    imported = import_resources([_observation(code, valueQuantity=quantity)], kb, AS_OF)
    assert imported.case.risk.dxa_t_score is None
    (note,) = imported.notes
    assert note.reason.startswith("cannot assess: a lumbar-spine DXA T-score is one site")


@pytest.mark.parametrize(
    ("performed", "when", "baseline"),
    [
        # Same day with zoned times: the time decides.
        ("2025-04-20T08:00:00-05:00", "2025-04-20T07:10:00-05:00", True),
        ("2025-04-20T08:00:00-05:00", "2025-04-20T23:30:00-05:00", False),
        # Same day without times: cannot tell, so not used.
        ("2025-04-20", "2025-04-20", None),
        # After the fusion by the clock, but on an earlier local day: not used.
        ("2025-04-21T02:00:00Z", "2025-04-20T23:30:00-05:00", None),
    ],
)
def test_a_score_on_the_fusion_day_counts_only_when_the_time_tells(
    kb: Knowledge, performed: str, when: str, baseline: bool | None
) -> None:
    later = _score("later", "97909-6", "2025-10-20", valueInteger=30)
    imported = import_resources(
        [_score("day", "97909-6", when, valueInteger=70), later, _fusion(performed)], kb, AS_OF
    )
    first = imported.case.follow_up[0]
    if baseline is None:
        assert len(imported.case.follow_up) == 1
        assert first.odi == 30
        assert "before or after it unknown" in imported.notes[0].reason
    else:
        assert first.baseline is baseline
        assert first.odi == 70


def test_different_scores_on_one_day_are_both_left_out(kb: Knowledge) -> None:
    resources = [
        _score("a", "97909-6", "2025-10-20", valueInteger=60),
        _score("b", "97909-6", "2025-10-20", valueInteger=20),
        _score("c", "77866-2", "2025-10-20", valueInteger=40),
        _fusion("2025-05-02"),
    ]
    imported = import_resources(resources, kb, AS_OF)
    (visit,) = imported.case.follow_up
    assert (visit.odi, visit.promis_pf) == (None, 40)
    assert {n.source for n in imported.notes} == {"Observation/a", "Observation/b"}
    assert "different odi scores on 2025-10-20 (60, 20)" in imported.notes[0].reason


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (
            {"valueQuantity": {"value": 45, "unit": "kg"}},
            "odi score in unit 'kg' without a UCUM code",
        ),
        (
            {
                "valueQuantity": {
                    "value": 45,
                    "system": "http://unitsofmeasure.org",
                    "code": "{T-score}",
                }
            },
            "odi score in unit {T-score}, not a score unit",
        ),
        ({"valueQuantity": {"value": 20, "comparator": "<"}}, "odi score is < 20"),
        ({"valueInteger": 150}, "odi score 150: must be 100 or less"),
    ],
)
def test_a_score_that_cannot_be_trusted_is_reported_not_read(
    kb: Knowledge, value: dict[str, Any], reason: str
) -> None:
    imported = import_resources(
        [_score("s", "97909-6", "2025-10-20", **value), _fusion("2025-05-02")], kb, AS_OF
    )
    assert imported.case.follow_up == ()
    assert imported.notes[0].reason == "cannot assess: " + reason


def test_a_score_after_the_assessment_date_is_not_used(kb: Knowledge) -> None:
    imported = import_resources(
        [
            _score("s", "97909-6", "2026-11-24T00:30:00+09:00", valueInteger=30),
            _fusion("2025-05-02"),
        ],
        kb,
        AS_OF,
    )
    assert imported.case.follow_up == ()
    assert imported.notes[0].reason == "cannot assess: dated 2026-11-24, after 2026-11-23"


LUMBAR = {"system": "http://snomed.info/sct", "code": "122496007"}
CERVICAL = {"system": "http://snomed.info/sct", "code": "122494005"}


@pytest.mark.parametrize(
    ("text", "levels", "noted"),
    [
        ("L4-S1", ("L4-L5", "L5-S1"), False),
        ("Lumbar spine", (), False),
        ("L4/5 and L5/S1", (), True),
    ],
)
def test_levels_written_beside_a_region_code_are_read_or_noted(
    kb: Knowledge, text: str, levels: tuple[str, ...], noted: bool
) -> None:
    """Issue 12: a bodySite with a region code and the levels as text lost the levels silently."""
    fusion = _fusion("2026-01-15") | {"bodySite": [{"coding": [LUMBAR], "text": text}]}
    imported = import_resources([fusion], kb, AS_OF)
    assert imported.case.surgery.region == "lumbar"
    assert imported.case.surgery.levels == levels
    reasons = [n.reason for n in imported.notes if n.fact == "surgery.levels"]
    assert bool(reasons) is noted


def test_the_first_fusion_is_the_index_and_a_later_one_an_operation_in_any_order(
    kb: Knowledge,
) -> None:
    # An L4-S1 fusion extended to L3-L4 two years later, neither Procedure saying its kind: the
    # fused span is L3-S1 (three levels), not the last operation's one level.
    first = _fusion("2023-03-01", "L4-L5", "L5-S1", id="first", region=LUMBAR)
    later = _fusion("2025-03-10", "L3-L4", id="later", region=LUMBAR)
    for order in ([first, later], [later, first]):
        imported = import_resources(order, kb, AS_OF)
        surgery = imported.case.surgery
        assert str(surgery.date) == "2023-03-01"
        assert surgery.levels == ("L4-L5", "L5-S1")
        assert [(op.kind, str(op.date), op.levels) for op in surgery.operations] == [
            ("unspecified", "2025-03-10", ("L3-L4",))
        ]
        assert surgery.level_count == 3
        notes = {n.source: n.reason for n in imported.notes}
        assert "later operation of unspecified kind" in notes["Procedure/later"]


def test_procedures_on_one_day_are_one_fusion(kb: Knowledge) -> None:
    front = _fusion("2024-05-02", "L4-L5", id="front", region=LUMBAR)
    back = _fusion("2024-05-02", "L5-S1", id="back", region=LUMBAR)
    surgery = import_resources([front, back], kb, AS_OF).case.surgery
    assert surgery.levels == ("L4-L5", "L5-S1")
    assert surgery.operations == ()


def test_a_later_fusion_in_another_region_leaves_timing_and_levels_unknown(kb: Knowledge) -> None:
    # A neck fusion after a low-back one may be a separate fusion or, coded by region alone, the
    # border of an extension: neither the clock nor the level count is guessed from it.
    low_back = _fusion("2023-03-01", "L4-L5", id="low", region=LUMBAR)
    neck = _fusion("2025-01-20", "C5-C6", id="neck", region=CERVICAL)
    imported = import_resources([neck, low_back], kb, AS_OF)
    surgery = imported.case.surgery
    assert surgery.region == "lumbar"
    assert [(op.kind, op.date, op.levels) for op in surgery.operations] == [
        ("unspecified", None, ())
    ]
    assert surgery.level_count is None
    assert surgery.levels_at_least == 1
    derived = assess(imported.case, kb, AS_OF).derived
    assert derived.get("derived.months_since_surgery") is None
    notes = {n.source: n.reason for n in imported.notes}
    assert notes["Procedure/neck"].startswith(
        "cannot assess timing: a later fusion coded in another region (cervical)"
    )


def test_an_undated_second_fusion_leaves_timing_unknown(kb: Knowledge) -> None:
    # It may be the last operation, so months are not counted from the dated one.
    dated = _fusion("2023-03-01", "L4-L5", id="dated", region=LUMBAR)
    undated = _fusion("", "L4-L5", id="undated", region=LUMBAR)
    undated.pop("performedDateTime")
    imported = import_resources([dated, undated], kb, AS_OF)
    [operation] = imported.case.surgery.operations
    assert operation.date is None
    assert operation.months_since is None
    derived = assess(imported.case, kb, AS_OF).derived
    assert derived.get("derived.months_since_surgery") is None
    assert any("cannot assess timing" in n.reason for n in imported.notes)


def test_later_operations_are_in_date_order_whatever_says_their_kind(kb: Knowledge) -> None:
    # L4-L5 fused, extended to L3-L4 (a Procedure that does not say its kind), then revised at
    # L3-L4 for nonunion: a revision at levels fused before it, so a failed fusion at the same
    # site. Read revision first, the extension used to be listed after it and the history missed.
    index = _fusion("2021-02-01", "L4-L5", id="index", region=LUMBAR)
    extension = _fusion("2022-06-01", "L3-L4", id="extension", region=LUMBAR)
    revision = _fusion("2024-09-01", "L3-L4", id="revision", region=LUMBAR) | {
        "category": {"coding": [{"system": System.OPERATION_KIND, "code": "revision"}]},
        "reasonCode": [{"coding": [{"system": System.OPERATION_REASON, "code": "nonunion"}]}],
    }
    surgery = import_resources([revision, index, extension], kb, AS_OF).case.surgery
    assert [(op.kind, str(op.date)) for op in surgery.operations] == [
        ("unspecified", "2022-06-01"),
        ("revision", "2024-09-01"),
    ]
    assert prior_failed_fusion(surgery)
