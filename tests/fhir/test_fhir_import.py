"""FHIR into a case: codes and units from the data dictionary, precision kept, nothing guessed."""

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from fusionwatch.casefile import parse_data
from fusionwatch.core.compiled import Knowledge
from fusionwatch.core.errors import CaseError
from fusionwatch.fhir.caseimport import import_bundle, import_resources
from fusionwatch.fhir.questionnaire import import_response
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
    procedure = {
        "resourceType": "Procedure",
        "id": "f",
        "status": "completed",
        "code": {"coding": [{"system": "http://snomed.info/sct", "code": "55705006"}]},
        "subject": PATIENT,
        "performedDateTime": performed,
    }
    imported = import_resources([procedure], kb, AS_OF)
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
