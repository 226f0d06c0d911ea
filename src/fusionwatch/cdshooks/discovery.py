"""The discovery document (GET /cds-services), derived from the knowledge base's codes."""

from typing import Any

from fusionwatch.core.compiled import Knowledge
from fusionwatch.core.knowledge import FactType
from fusionwatch.fhir.codes import NOTED_DIAGNOSES, System, case_facts
from fusionwatch.fhir.scoreseries import INSTRUMENT_OF_LOINC

SERVICE_ID = "fusionwatch-nonunion"
HOOK = "patient-view"
# Without these two the service cannot place the patient in time: 412 when absent.
REQUIRED_PREFETCH = ("patient", "fusions")
_PATIENT = "{{context.patientId}}"


def prefetch(kb: Knowledge) -> dict[str, str]:
    """FHIR query templates for what the rules read, codes taken from the data dictionary."""
    facts = case_facts(kb)
    fusion = next(f for f in facts if f.id == "surgery.date").codes["snomed"]
    conditions = [f"{System.ICD10CM}|{code}" for code in NOTED_DIAGNOSES] + [
        f"{System.SNOMED}|{f.codes['snomed']}"
        for f in facts
        if f.type is FactType.ANSWER and "snomed" in f.codes
    ]
    labs = [f"{System.LOINC}|{f.codes['loinc']}" for f in facts if "loinc" in f.codes]
    labs += [f"{System.LOINC}|{code}" for code in INSTRUMENT_OF_LOINC]
    return {
        "patient": f"Patient/{_PATIENT}",
        "fusions": f"Procedure?patient={_PATIENT}&code={System.SNOMED}|{fusion}",
        "conditions": f"Condition?patient={_PATIENT}&code={','.join(conditions)}",
        "observations": f"Observation?patient={_PATIENT}&code={','.join(labs)}",
        "surveys": f"Observation?patient={_PATIENT}&category=survey",
    }


def services(kb: Knowledge) -> dict[str, Any]:
    description = (
        "Looks for signs of a failed spinal fusion (pseudarthrosis) and emergency red flags "
        f"when a patient's chart is opened, using fusionwatch knowledge {kb.version}. "
        "Each card explains why and cites its source."
    )
    service = {
        "hook": HOOK,
        "id": SERVICE_ID,
        "title": "fusionwatch: suspected nonunion after spinal fusion",
        "description": description,
        "prefetch": prefetch(kb),
        "usageRequirements": "Needs the Patient and the fusion Procedure in prefetch; "
        "this service never queries the FHIR server.",
    }
    return {"services": [service]}
