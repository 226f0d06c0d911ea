"""The issue 11 fields through FHIR: exact round trip, "not sure" kept apart from "not asked"."""

from typing import Any

from fusionwatch.core.compiled import Knowledge
from fusionwatch.fhir.caseexport import export_case
from fusionwatch.fhir.caseimport import import_bundle
from fusionwatch.fhir.codes import ANSWER_CODES
from fusionwatch.files.case import parse_data
from tests.conftest import AS_OF

CASE: dict[str, Any] = {
    "surgery": {"date": "2025-05-02", "region": "cervical", "levels": ["C5-C6"]},
    "emergency": {"bladder_bowel_loss": "not_sure", "new_weakness": "no"},
    "signs": {"mechanical_pain": "not_sure"},
    "exam": {
        "strength": "abnormal",
        "strength_onset": "new",
        "sensation": "abnormal",
        "sensation_onset": "long_standing",
        "deficit_side": "both",
        "deficit_level": ["C6"],
        "cauda_equina": "no",
        "hyperreflexia": "yes",
        "clonus": "not_sure",
        "hoffmann": "yes",
        "gait_ataxia": "no",
        "myelopathy_onset": "new",
    },
    "infection": {
        "temperature": 101.4,
        "temperature_unit": "F",
        "fever": "yes",
        "chills": "no",
        "wound_drainage": "no",
        "wound_opening": "no",
        "spreading_redness": "not_sure",
        "prior_ssi": "yes",
        "hardware_removed": "no",
        "crp_mg_l": 42.5,
        "esr_mm_h": 38,
        "wbc_10e9_l": 12.1,
    },
    "imaging": {
        "acute_compression": "yes",
        "compression_cause": "abscess_collection",
        "cord_signal_change": "yes",
    },
}


def test_every_new_field_comes_back_exactly(kb: Knowledge) -> None:
    case = parse_data(CASE, AS_OF)
    back = import_bundle(export_case(case, kb, "p1"), kb, AS_OF)
    assert back.case == case
    assert back.notes == ()


def test_not_sure_is_exported_and_not_asked_is_not(kb: Knowledge) -> None:
    bundle = export_case(parse_data(CASE, AS_OF), kb, "p1")
    codes = {
        coding["code"]: entry["resource"]
        for entry in bundle["entry"]
        for coding in entry["resource"].get("code", {}).get("coding", [])
    }
    unsure = codes["emergency.bladder_bowel_loss"]["valueCodeableConcept"]["coding"][0]
    assert unsure["code"] == ANSWER_CODES["not_sure"]
    assert "emergency.saddle_numbness" not in codes  # not asked: no Observation at all
