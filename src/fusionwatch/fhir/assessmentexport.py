"""An assessment written as a FHIR Bundle: risk, requests, plan, findings, red flags, provenance."""

from typing import Any

from fusionwatch.core.compiled import Knowledge
from fusionwatch.core.results import Assessment, Conclusion, Value
from fusionwatch.fhir.caseexport import concept, entry, full_url
from fusionwatch.fhir.codes import System
from fusionwatch.fhir.validation import validate

Resource = dict[str, Any]
# Recommendations that become orders (ServiceRequest); the others go into the CarePlan.
_ORDER_KINDS = {"next_step"}
_PLAN_KINDS = {"risk_factor", "management", "revision", "stimulator"}
_NONUNION = "Nonunion (pseudarthrosis) of the spinal fusion"
# Triage to FHIR request-priority (routine | urgent | asap | stat), decision 0009: stat = "an
# emergency", asap = higher than urgent (our same-day tier), urgent = "promptly", routine.
PRIORITY = {
    "emergency": "stat",
    "urgent": "asap",
    "prompt_referral": "urgent",
    "routine": "routine",
}
_TIME_FRAME = {
    "emergency": "emergency care now",
    "urgent": "same day, within 24 hours",
    "prompt_referral": "specialist within days to weeks",
    "routine": "next planned follow-up",
}


def export_assessment(assessment: Assessment, kb: Knowledge, patient_id: str) -> Resource:
    """A collection Bundle; every resource is validated against the R4B models on the way."""
    key = f"{patient_id}/{assessment.as_of}"
    subject = {"reference": f"Patient/{patient_id}"}
    findings = [_finding(kb, fact, value, subject, key) for fact, value in _derived(assessment)]
    priority = PRIORITY[assessment.triage.level]
    orders = [_order(c, subject, key, priority) for c in _orders(assessment)]
    flags = [_red_flag(c, subject, assessment.as_of, key) for c in _emergencies(assessment)]
    risk = _risk(assessment, subject, [url for url, _ in findings], key)
    plan = _plan(assessment, subject, [url for url, _ in orders], key)
    entries = [risk, *orders, plan, *findings, *flags]
    targets = [url for url, _ in entries]
    entries.append(_provenance(assessment, targets, key))
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [entry(r, u) for u, r in entries],
    }


def service_requests(assessment: Assessment, patient_id: str) -> list[tuple[str, Resource]]:
    """The proposed orders alone (rule id, validated ServiceRequest), e.g. for CDS suggestions."""
    subject = {"reference": f"Patient/{patient_id}"}
    key = f"{patient_id}/{assessment.as_of}"
    found = []
    for conclusion in _orders(assessment):
        _, request = _order(conclusion, subject, key, PRIORITY[assessment.triage.level])
        found.append((conclusion.rule, validate(request)))
    return found


def _derived(assessment: Assessment) -> list[tuple[str, Value]]:
    return [(fact, value) for fact, value in assessment.derived.items() if value is not None]


def _orders(assessment: Assessment) -> list[Conclusion]:
    found = [c for c in assessment.recommendations if c.kind in _ORDER_KINDS]
    return found + [c for c in assessment.triage.reasons if c.kind in {"referral", "urgent"}]


def _emergencies(assessment: Assessment) -> list[Conclusion]:
    return [c for c in assessment.triage.reasons if c.kind in {"emergency", "urgent"}]


def _rule_concept(conclusion: Conclusion) -> Resource:
    coding = {"system": System.RULE, "code": conclusion.rule, "display": conclusion.title}
    return {"coding": [coding], "text": conclusion.summary}


def _note(conclusion: Conclusion) -> list[Resource]:
    cites = "; ".join(f"{s.title} ({s.locator})" for s in conclusion.sources)
    return [{"text": f"{conclusion.clinician} Sources: {cites}"}]


def _risk(
    assessment: Assessment, subject: Resource, basis: list[str], key: str
) -> tuple[str, Resource]:
    suspicion = assessment.suspicion
    prediction = {
        "outcome": {"text": _NONUNION},
        "qualitativeRisk": {"coding": [{"system": System.RISK, "code": suspicion.level}]},
        "rationale": suspicion.explanation,
    }
    resource = {
        "resourceType": "RiskAssessment",
        "status": "final",
        "subject": subject,
        "occurrenceDateTime": assessment.as_of,
        "method": {
            "text": f"fusionwatch rules, knowledge {assessment.provenance.knowledge_version}"
        },
        "basis": [{"reference": url} for url in basis],
        "prediction": [prediction],
        "mitigation": _disposition(assessment),
        "note": [
            {"text": f"{c.rule}: {c.summary}"} for c in suspicion.reasons + suspicion.limited_by
        ],
    }
    return full_url("RiskAssessment", key), resource


def _disposition(assessment: Assessment) -> str:
    """The triage tier and its time frame, with the request priority it maps to."""
    level = assessment.triage.level
    return (
        f"Triage: {level} ({_TIME_FRAME[level]}; request priority {PRIORITY[level]}). "
        f"{assessment.triage.clinician_headline}"
    )


def _order(
    conclusion: Conclusion, subject: Resource, key: str, priority: str
) -> tuple[str, Resource]:
    resource = {
        "resourceType": "ServiceRequest",
        "status": "draft",
        "intent": "proposal",
        "priority": priority,
        "code": _rule_concept(conclusion),
        "subject": subject,
        "reasonCode": [{"text": conclusion.summary}],
        "note": _note(conclusion),
    }
    return full_url("ServiceRequest", f"{key}/{conclusion.rule}"), resource


def _plan(
    assessment: Assessment, subject: Resource, orders: list[str], key: str
) -> tuple[str, Resource]:
    activities: list[Resource] = [{"reference": {"reference": url}} for url in orders]
    for item in assessment.recommendations:
        if item.kind in _PLAN_KINDS:
            detail = {
                "status": "not-started",
                "code": _rule_concept(item),
                "description": item.clinician,
            }
            activities.append({"detail": detail})
    resource = {
        "resourceType": "CarePlan",
        "status": "draft",
        "intent": "proposal",
        "title": "fusionwatch plan for suspected nonunion",
        "description": assessment.triage.clinician_headline,
        "subject": subject,
        "activity": activities,
    }
    return full_url("CarePlan", key), resource


def _finding(
    kb: Knowledge, fact_id: str, value: Value, subject: Resource, key: str
) -> tuple[str, Resource]:
    fact = next(f for f in kb.data.facts if f.id == fact_id)
    resource: Resource = {
        "resourceType": "Observation",
        "status": "final",
        "code": concept(fact),
        "subject": subject,
    }
    if isinstance(value, bool):
        resource["valueBoolean"] = value
    elif isinstance(value, int | float):
        resource["valueQuantity"] = {"value": value, "unit": fact.unit or "1"}
    else:
        resource["valueString"] = str(value)
    return full_url("Observation", f"{key}/{fact_id}"), resource


def _red_flag(
    conclusion: Conclusion, subject: Resource, as_of: str, key: str
) -> tuple[str, Resource]:
    resource = {
        "resourceType": "DetectedIssue",
        "status": "final",
        "severity": "high" if conclusion.kind == "emergency" else "moderate",
        "code": _rule_concept(conclusion),
        "patient": subject,
        "identifiedDateTime": as_of,
        "detail": conclusion.clinician,
    }
    return full_url("DetectedIssue", f"{key}/{conclusion.rule}"), resource


def _provenance(assessment: Assessment, targets: list[str], key: str) -> tuple[str, Resource]:
    version = assessment.provenance.knowledge_version
    resource = {
        "resourceType": "Provenance",
        "target": [{"reference": url} for url in targets],
        "recorded": f"{assessment.as_of}T00:00:00Z",
        "agent": [{"who": {"display": "fusionwatch"}}],
        "entity": [
            {
                "role": "source",
                "what": {
                    "identifier": {
                        "system": "https://fusionwatch.example/knowledge",
                        "value": version,
                    },
                    "display": f"fusionwatch knowledge base {version}",
                },
            }
        ],
    }
    return full_url("Provenance", key), resource
