"""Cases and assessments out as FHIR: golden files, R4B validation, a lossless round trip."""

from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle

from fusionwatch.core.compiled import Knowledge
from fusionwatch.core.engine import assess
from fusionwatch.core.serialize import to_data
from fusionwatch.fhir.assessmentexport import export_assessment
from fusionwatch.fhir.caseexport import export_case
from fusionwatch.fhir.caseimport import import_bundle
from fusionwatch.fhir.plandefinition import plan_definitions
from fusionwatch.fhir.questionnaire import questionnaire
from fusionwatch.fhir.validation import validate
from fusionwatch.files.case import read_case
from fusionwatch.knowledge.loader import load_in
from tests.conftest import AS_OF
from tests.fhir.golden import check_golden

# examples/imaging-motion holds DICOM films and landmarks for `imaging measure`, not cases.
EXAMPLES = sorted(
    p
    for p in (Path(__file__).parents[2] / "examples").glob("**/*.[jy]*")
    if "imaging-motion" not in p.parts
)


def _kinds(bundle: dict[str, object]) -> list[str]:
    return [e["resource"]["resourceType"] for e in bundle["entry"]]  # type: ignore[index,union-attr]


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_case_bundle_case_loses_nothing_mapped(kb: Knowledge, path: Path) -> None:
    case = read_case(path, AS_OF)
    back = import_bundle(export_case(case, kb, "p1"), kb, AS_OF)
    assert back.case == case
    assert back.notes == ()


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_a_bundle_gives_the_same_assessment_as_the_case_file(kb: Knowledge, path: Path) -> None:
    case = read_case(path, AS_OF)
    from_fhir = import_bundle(export_case(case, kb, "p1"), kb, AS_OF).case
    assert to_data(assess(from_fhir, kb, AS_OF)) == to_data(assess(case, kb, AS_OF))


def test_the_sample_bundle_assesses_like_its_case_file(kb: Knowledge) -> None:
    here = Path(__file__).parent
    bundle = Bundle.model_validate_json((here / "bundle-post-fusion.json").read_text())
    imported = import_bundle(bundle.model_dump(mode="json"), kb, AS_OF)
    case = read_case(here / "bundle-post-fusion.expected.yaml", AS_OF)
    assert to_data(assess(imported.case, kb, AS_OF)) == to_data(assess(case, kb, AS_OF))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_every_emitted_resource_validates(kb: Knowledge, path: Path) -> None:
    case = read_case(path, AS_OF)
    for bundle in (
        export_case(case, kb, "p1"),
        export_assessment(assess(case, kb, AS_OF), kb, "p1"),
    ):
        Bundle.model_validate(bundle)
        for item in bundle["entry"]:
            validate(item["resource"])


def test_assessment_bundle_golden(kb: Knowledge) -> None:
    path = next(p for p in EXAMPLES if p.name == "referral-ct-nonunion-revision.yaml")
    bundle = export_assessment(assess(read_case(path, AS_OF), kb, AS_OF), kb, "p1")
    assert _kinds(bundle)[0] == "RiskAssessment"
    assert _kinds(bundle)[-1] == "Provenance"
    check_golden("assessment-referral-ct-nonunion-revision.json", bundle)


def test_emergency_becomes_a_detected_issue(kb: Knowledge) -> None:
    path = next(p for p in EXAMPLES if p.name == "emergency-saddle-numbness.json")
    bundle = export_assessment(assess(read_case(path, AS_OF), kb, AS_OF), kb, "p1")
    assert "DetectedIssue" in _kinds(bundle)
    check_golden("assessment-emergency-saddle-numbness.json", bundle)


@pytest.mark.parametrize(
    "name",
    [
        "referral-smoker-mechanical-pain.json",
        "imaging-ct-and-motion-films.yaml",
        "case-with-scores.yaml",
    ],
)
def test_case_bundle_golden(kb: Knowledge, name: str) -> None:
    path = next(p for p in EXAMPLES if p.name == name)
    golden = f"case-{path.stem}.json"
    check_golden(golden, export_case(read_case(path, AS_OF), kb, "p1"))


def test_provenance_names_the_knowledge_version(kb: Knowledge) -> None:
    path = EXAMPLES[0]
    bundle = export_assessment(assess(read_case(path, AS_OF), kb, AS_OF), kb, "p1")
    provenance = bundle["entry"][-1]["resource"]
    assert provenance["entity"][0]["what"]["identifier"]["value"] == kb.version
    assert len(provenance["target"]) == len(bundle["entry"]) - 1


def test_questionnaires_golden_and_follow_ups_enabled_when(kb: Knowledge) -> None:
    patient = questionnaire(kb, "patient", {"es": load_in("es")})
    links = {item["linkId"]: item for item in patient["item"]}
    assert links["signs.worsening_began_month"]["enableWhen"][0]["question"] == (
        "signs.improved_then_worse"
    )
    assert patient["item"][0]["linkId"].startswith("emergency.")
    check_golden("questionnaire-patient.json", patient)
    check_golden(
        "questionnaire-clinician.json", questionnaire(kb, "clinician", {"es": load_in("es")})
    )


def translations(element: dict[str, Any]) -> dict[str, str]:
    """The translation extensions on one primitive element, by language."""
    found = {}
    for ext in element["extension"]:
        assert ext["url"] == "http://hl7.org/fhir/StructureDefinition/translation"
        parts = {e["url"]: e for e in ext["extension"]}
        found[parts["lang"]["valueCode"]] = parts["content"]["valueString"]
    return found


def test_the_patient_questionnaire_carries_the_spanish_wording(kb: Knowledge) -> None:
    patient = questionnaire(kb, "patient", {"es": load_in("es")})
    links = {item["linkId"]: item for item in patient["item"]}
    weakness = links["emergency.new_weakness"]
    assert translations(weakness["_text"])["es"].startswith("¿Ha notado debilidad nueva")
    displays = [translations(o["valueCoding"]["_display"])["es"] for o in weakness["answerOption"]]
    assert displays == ["Sí", "No", "No lo sé"]
    region = links["surgery.region"]["answerOption"]
    lumbar = next(o["valueCoding"] for o in region if o["valueCoding"]["code"] == "lumbar")
    assert lumbar["display"] == "Low back"
    assert translations(lumbar["_display"]) == {"es": "Parte baja de la espalda"}
    # Every question and every choice has its Spanish wording; the English stays as it was.
    for item in patient["item"]:
        assert "es" in translations(item["_text"]), item["linkId"]
        for option in item.get("answerOption", ()):
            assert "es" in translations(option["valueCoding"]["_display"]), item["linkId"]
    assert questionnaire(kb, "patient")["item"][0]["text"] == weakness["text"]
    # The Questionnaire's own title and description too, not only its items.
    assert patient["title"] == "Self-check after spinal fusion"
    assert translations(patient["_title"]) == {
        "es": "Autoevaluación después de una fusión vertebral"
    }
    assert translations(patient["_description"])["es"].startswith("Preguntas sobre cómo se")


def test_the_clinician_questionnaire_stays_english(kb: Knowledge) -> None:
    clinician = questionnaire(kb, "clinician", {"es": load_in("es")})
    assert "_text" not in str(clinician)
    assert "_title" not in clinician
    assert "_description" not in clinician


def test_plan_definitions_carry_citations(kb: Knowledge) -> None:
    bundle = plan_definitions(kb)
    assert len(bundle["entry"]) == len(kb.data.rules)
    for item in bundle["entry"]:
        assert item["resource"]["relatedArtifact"]


def test_an_operation_history_is_several_fusion_procedures(kb: Knowledge) -> None:
    path = next(p for p in EXAMPLES if p.name == "history-extension-adjacent.yaml")
    case = read_case(path, AS_OF)
    bundle = export_case(case, kb, "p1")
    procedures = [
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Procedure"
    ]
    assert len(procedures) == 3
    kinds = [(p.get("category") or {}).get("text") for p in procedures]
    assert kinds == [None, "revision", "extension"]
    revision = procedures[1]
    assert {"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "M96.0"} in revision[
        "reasonCode"
    ][0]["coding"]
    back = import_bundle(bundle, kb, AS_OF).case
    assert back.surgery.operations == case.surgery.operations
