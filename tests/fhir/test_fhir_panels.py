"""Imaging studies and score series through FHIR: exact round trip, and what cannot be read."""

import copy
from typing import Any

import pytest

from fusionwatch.core.case import Case
from fusionwatch.core.compiled import Knowledge
from fusionwatch.core.errors import CaseError
from fusionwatch.fhir.caseexport import export_case
from fusionwatch.fhir.caseimport import Imported, import_bundle
from fusionwatch.fhir.codes import System
from fusionwatch.fhir.panels import LEVEL, STUDY, VISIT, nest, panel_kind
from fusionwatch.files.case import parse_data
from tests.conftest import AS_OF


def _corners(dx: float, dy: float) -> dict[str, list[float]]:
    return {
        "anterior_superior": [10.0 + dx, 0.0 + dy],
        "posterior_superior": [50.0 + dx, 1.5 + dy],
        "anterior_inferior": [11.0 + dx, 30.0 + dy],
        "posterior_inferior": [49.0 + dx, 31.0 + dy],
    }


# Every kind of field: dated and undated studies, landmark points with pixel spacing, answers,
# grades, a study without levels, a baseline and dated and month-placed visits (synthetic).
CASE: dict[str, Any] = {
    "label": "panel round trip",
    "surgery": {"date": "2025-05-02", "region": "lumbar", "levels": ["L4-L5", "L5-S1"]},
    "imaging": {
        "hardware_failure": "no",
        "studies": [
            {
                "modality": "ct",
                "date": "2026-05-20",
                "levels": [
                    {"level": "L4-L5", "bridwell": "III", "mayfield": "IV", "cage_lucency": "yes"},
                    {"level": "L5-S1", "brantigan": "locked_nonunion", "periscrew_lucency_mm": 1.2},
                ],
            },
            {
                "modality": "flexion_extension",
                "months_since": 13,
                "levels": [
                    {
                        "level": "L4-L5",
                        "landmarks": {
                            "flexion": {"upper": _corners(0, 0), "lower": _corners(2, 40)},
                            "extension": {"upper": _corners(1, 0), "lower": _corners(2.5, 41)},
                            "mm_per_pixel": [0.2, 0.1],
                        },
                    }
                ],
            },
            {"modality": "mri", "months_since": 14, "nerve_compression": "no", "collection": "no"},
        ],
    },
    "follow_up": [
        {"baseline": True, "date": "2025-04-01", "odi": 48, "nrs_axial": 7, "analgesics": "daily"},
        {"date": "2025-08-01", "odi": 30, "eq5d_index": 0.61},
        {"month": 12, "odi": 41, "walking_minutes": 20, "promis_pf": 35.5},
    ],
}


def _case() -> Case:
    return parse_data(copy.deepcopy(CASE), AS_OF)


def _observations(bundle: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [
        e["resource"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "Observation" and panel_kind(e["resource"]) == kind
    ]


def _import(bundle: dict[str, Any], kb: Knowledge) -> Imported:
    return import_bundle(bundle, kb, AS_OF)


def test_every_field_comes_back_exactly(kb: Knowledge) -> None:
    case = _case()
    back = _import(export_case(case, kb, "p1"), kb)
    assert back.case == case
    assert back.notes == ()


def test_shape_of_the_panels(kb: Knowledge) -> None:
    bundle = export_case(_case(), kb, "p1")
    studies, levels, visits = (_observations(bundle, k) for k in (STUDY, LEVEL, VISIT))
    assert (len(studies), len(levels), len(visits)) == (3, 3, 3)
    assert studies[0]["effectiveDateTime"] == "2026-05-20"
    assert [m["reference"] for m in studies[0]["hasMember"]] == [
        e["fullUrl"] for e in bundle["entry"] if e["resource"] in levels[:2]
    ]
    assert "hasMember" not in studies[2]
    assert levels[0]["bodySite"] == {"text": "L4-L5"}
    odi = next(
        c for c in visits[0]["component"] if c["code"]["coding"][-1]["code"] == "follow_up.odi"
    )
    assert odi["code"]["coding"][0] == {"system": System.LOINC, "code": "97909-6"}
    assert odi["valueQuantity"]["value"] == 48
    point = next(
        c
        for c in levels[2]["component"]
        if c["code"]["coding"][0]["code"].endswith("flexion.upper.anterior_superior.1")
    )
    assert point["valueQuantity"]["code"] == "{pixel}"
    assert bundle["identifier"] == {"system": System.CASE_LABEL, "value": "panel round trip"}


def test_a_component_in_another_unit_is_reported_and_left_out(kb: Knowledge) -> None:
    bundle = export_case(_case(), kb, "p1")
    level = _observations(bundle, LEVEL)[1]
    lucency = next(c for c in level["component"] if "periscrew" in c["code"]["coding"][0]["code"])
    lucency["valueQuantity"] |= {"code": "cm", "unit": "cm", "value": 0.12}
    back = _import(bundle, kb)
    assert back.case.imaging.studies[0].levels[1].periscrew_lucency_mm is None
    assert back.case.imaging.studies[0].levels[1].brantigan == "locked_nonunion"
    (note,) = back.notes
    assert "unit cm is not UCUM mm" in note.reason
    assert note.fact == LEVEL


def test_unknown_component_and_orphan_level_are_reported(kb: Knowledge) -> None:
    bundle = export_case(_case(), kb, "p1")
    study = _observations(bundle, STUDY)[0]
    study["component"].append(
        {"code": {"coding": [{"system": System.LOINC, "code": "0000-0"}]}, "valueString": "x"}
    )
    del study["hasMember"][1]
    back = _import(bundle, kb)
    assert [lv.level for lv in back.case.imaging.studies[0].levels] == ["L4-L5"]
    reasons = sorted(n.reason for n in back.notes)
    assert reasons == [
        "cannot assess: component 0000-0 is not a field of imaging.studies",
        "ignored: imaging level not a member of any study",
    ]


def test_a_missing_member_is_reported(kb: Knowledge) -> None:
    bundle = export_case(_case(), kb, "p1")
    member = _observations(bundle, STUDY)[0]["hasMember"][0]["reference"]
    bundle["entry"] = [e for e in bundle["entry"] if e["fullUrl"] != member]
    back = _import(bundle, kb)
    assert [lv.level for lv in back.case.imaging.studies[0].levels] == ["L5-S1"]
    assert [n.reason for n in back.notes] == [f"cannot assess: member {member} not in the input"]


def test_an_invalid_panel_is_an_input_error_naming_the_field(kb: Knowledge) -> None:
    bundle = export_case(_case(), kb, "p1")
    visit = _observations(bundle, VISIT)[1]
    odi = next(c for c in visit["component"] if c["code"]["coding"][-1]["code"] == "follow_up.odi")
    odi["valueQuantity"]["value"] = 140
    with pytest.raises(CaseError) as raised:
        _import(bundle, kb)
    assert any(p.field.startswith("follow_up.1.odi") for p in raised.value.problems)


def test_nest_turns_numbered_keys_into_lists_only_without_gaps() -> None:
    flat = {"a.1": 2.0, "a.0": 1.0, "b.c": "x", "d.0": 3, "d.2": 4}
    assert nest(flat) == {"a": [1.0, 2.0], "b": {"c": "x"}, "d": {"0": 3, "2": 4}}


def test_levels_found_by_full_url_when_resources_have_no_id(kb: Knowledge) -> None:
    bundle = export_case(_case(), kb, "p1")
    for item in bundle["entry"]:
        if panel_kind(item["resource"]) == LEVEL:
            del item["resource"]["id"]
    assert _import(bundle, kb).case == _case()


def test_levels_found_by_versioned_relative_reference(kb: Knowledge) -> None:
    bundle = export_case(_case(), kb, "p1")
    study = _observations(bundle, STUDY)[0]
    for n, member in enumerate(study["hasMember"]):
        level = next(e for e in bundle["entry"] if e["fullUrl"] == member["reference"])
        level["fullUrl"] = f"https://ehr.test/fhir/Observation/lv{n}"
        level["resource"]["id"] = f"lv{n}"
        member["reference"] = f"Observation/lv{n}/_history/2"
    assert _import(bundle, kb).case == _case()


@pytest.mark.parametrize(
    ("codes", "reason"),
    [
        (
            ["imaging.studies.collection", "imaging.studies.collection.x"],
            "imaging.studies.collection: clashes with another component's field; left out",
        ),
        (
            ["imaging.studies.nerve_compression", "imaging.studies.nerve_compression"],
            "imaging.studies.nerve_compression: given twice; the first value is kept",
        ),
    ],
)
def test_odd_components_are_reported_not_crashed_on(
    kb: Knowledge, codes: list[str], reason: str
) -> None:
    bundle = export_case(_case(), kb, "p1")
    study = _observations(bundle, STUDY)[2]
    for code in codes:
        coding = {"system": System.FACT, "code": code}
        study["component"].append({"code": {"coding": [coding]}, "valueBoolean": True})
    back = _import(bundle, kb)
    assert "cannot assess: " + reason in [n.reason for n in back.notes]


def test_a_panel_that_is_not_a_record_is_dropped_with_a_note(kb: Knowledge) -> None:
    bundle = export_case(_case(), kb, "p1")
    study = _observations(bundle, STUDY)[2]
    study["component"] = [
        {
            "code": {"coding": [{"system": System.FACT, "code": "imaging.studies.0"}]},
            "valueString": "x",
        }
    ]
    back = _import(bundle, kb)
    assert len(back.case.imaging.studies) == 2
    assert "cannot assess: the components do not form one imaging.studies record" in [
        n.reason for n in back.notes
    ]


def test_a_quantity_with_a_comparator_is_not_read_as_the_number(kb: Knowledge) -> None:
    bundle = export_case(_case(), kb, "p1")
    level = _observations(bundle, LEVEL)[1]
    lucency = next(c for c in level["component"] if "periscrew" in c["code"]["coding"][0]["code"])
    lucency["valueQuantity"]["comparator"] = "<"
    back = _import(bundle, kb)
    assert back.case.imaging.studies[0].levels[1].periscrew_lucency_mm is None
    assert "value is < 1.2, not a number" in back.notes[0].reason
