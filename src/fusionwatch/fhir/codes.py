"""Code systems and the data dictionary's codes, looked up both ways."""

from dataclasses import dataclass
from enum import StrEnum

from fusionwatch.core.compiled import Knowledge
from fusionwatch.core.knowledge import Fact


class System(StrEnum):
    LOINC = "http://loinc.org"
    SNOMED = "http://snomed.info/sct"
    ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
    UCUM = "http://unitsofmeasure.org"
    # fusionwatch's own code system: one code per fact id, for facts with no standard code.
    FACT = "https://fusionwatch.example/fhir/CodeSystem/fact"
    RULE = "https://fusionwatch.example/fhir/CodeSystem/rule"
    # Identifier system of a case's label (a non-identifying tag) on an exported Bundle.
    CASE_LABEL = "https://fusionwatch.example/fhir/case-label"
    RISK = "http://terminology.hl7.org/CodeSystem/risk-probability"
    OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
    CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
    CONDITION_VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
    # A later fusion operation (Procedure.category), its reason, and its months since (extension).
    OPERATION_KIND = "https://fusionwatch.example/fhir/CodeSystem/fact/surgery.operations.kind"
    OPERATION_REASON = "https://fusionwatch.example/fhir/CodeSystem/fact/surgery.operations.reason"
    OPERATION_MONTHS = "https://fusionwatch.example/fhir/StructureDefinition/months-since-operation"


# The code systems the data dictionary's `codes` keys stand for.
KEY_SYSTEM = {"loinc": System.LOINC, "snomed": System.SNOMED, "icd10cm": System.ICD10CM}

# SNOMED CT qualifier values for yes / no / unknown answers in a CodeableConcept.
# "not sure" (asked, could not say) is exported as SNOMED Unknown; "not asked" is not exported at
# all, so an imported Unknown reads back as "not sure" and the round trip keeps the difference.
ANSWER_CODES = {"yes": "373066001", "no": "373067005", "not_sure": "261665006"}

# LOINC codes of follow-up total scores (docs/interop.md says where each was checked). PROMIS
# Physical Function has one code per form, and a case does not record the form, so the export
# gives it none (the import reads two forms' codes: ``scoreseries``).
SCORE_LOINC = {"odi": "97909-6", "ndi": "82237-9"}

# Codes close to a fact but measuring something else: never read, and the import says why.
NOT_THE_SAME = {
    (System.LOINC, "1989-3"): "25-hydroxyvitamin D3 alone is not total 25-OH vitamin D "
    "(LOINC 62292-8)",
    # The case holds the lowest T-score of all sites; one site's value could look reassuring.
    (System.LOINC, "38267-1"): "a lumbar-spine DXA T-score is one site; the case needs the "
    "lowest T-score of all sites measured (enter it in the workspace)",
}

# ICD-10-CM codes the import recognises but the case model has no field for: shown, never used.
NOTED_DIAGNOSES = {
    "M96.0": "Pseudarthrosis after fusion or arthrodesis",
    "Z98.1": "Arthrodesis status",
}


@dataclass(frozen=True, slots=True)
class Coding:
    system: str
    code: str
    display: str | None = None

    def data(self) -> dict[str, str]:
        found = {"system": self.system, "code": self.code}
        return found | ({"display": self.display} if self.display else {})


def fact_codings(fact: Fact) -> tuple[Coding, ...]:
    """Standard codings of a fact first, then its fusionwatch code (always present)."""
    standard = tuple(
        Coding(KEY_SYSTEM[key], code) for key, code in fact.codes.items() if key in KEY_SYSTEM
    )
    return (*standard, Coding(System.FACT, fact.id, fact.clinician))


def fact_index(kb: Knowledge) -> dict[tuple[str, str], Fact]:
    """(system, code) -> the case fact it carries, for every fact the case holds."""
    index: dict[tuple[str, str], Fact] = {}
    for fact in kb.data.facts:
        if fact.derived:
            continue
        for coding in fact_codings(fact):
            index.setdefault((coding.system, coding.code), fact)
    return index


def case_facts(kb: Knowledge) -> tuple[Fact, ...]:
    """The facts a case holds as single values (imaging studies and score series are panels)."""
    lists = {"file_only", "series"}
    return tuple(f for f in kb.data.facts if not f.derived and not lists & set(f.groups))
