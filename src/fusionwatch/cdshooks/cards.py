"""An assessment turned into CDS Hooks cards: urgency, why, the source, and what to do next."""

import json
import re
import uuid
from collections.abc import Sequence
from typing import Any

from fusionwatch.core.compiled import Knowledge
from fusionwatch.core.results import Assessment, Conclusion
from fusionwatch.core.vocab import Suspicion, Triage
from fusionwatch.fhir.assessmentexport import service_requests
from fusionwatch.fhir.plandefinition import primary_citation

Card = dict[str, Any]
SUMMARY_LIMIT = 139  # the spec: summary shorter than 140 characters
_NAMESPACE = uuid.UUID("2f6b3e0a-9a51-4c1e-8d0e-3c7f4b1a6d55")
OVERRIDE_SYSTEM = "https://fusionwatch.example/fhir/CodeSystem/override-reason"
OVERRIDE_REASONS = (
    ("already-evaluated", "Already evaluated by a spine specialist"),
    ("not-applicable", "Not applicable to this patient"),
    ("patient-declined", "Patient declined"),
)
_SUMMARY = {
    "critical": "Emergency red flags after spinal fusion: send for emergency care now",
    "urgent": "Urgent after spinal fusion: same-day review by the surgical team (within 24 h)",
    "warning": "Possible failed spinal fusion (nonunion): suspicion {level}; specialist review",
    "info": "Spinal fusion follow-up: nonunion suspicion {level}",
}


def indicator(assessment: Assessment) -> str | None:
    """How loud the card is, or None when the record holds nothing that changes care.

    Only findings in the record count: emergency questions nobody asked (the EHR never holds the
    person's answers) are listed on a card that is shown for another reason, but never raise one
    (evidence 19: alert fatigue).
    """
    triage, suspicion = assessment.triage, assessment.suspicion
    if triage.level == Triage.EMERGENCY:
        return "critical"
    # The same-day tier (decision 0009) is a warning: act today, not an emergency transfer.
    if triage.level == Triage.URGENT or triage.reasons:
        return "warning"
    if suspicion.reasons and suspicion.level == Suspicion.HIGH:
        return "warning"
    candidate = assessment.stimulator is not None and assessment.stimulator.candidate is True
    if suspicion.reasons or candidate:
        return "info"
    return None


def cards(
    assessment: Assessment,
    kb: Knowledge,
    patient_id: str,
    hook_instance: str,
    workspace: str,
    *,
    unused: Sequence[str] = (),
) -> list[Card]:
    """At most one card per call: the main result, its reasons, what in the record was not used,
    the source and next steps; no card when the record holds nothing that changes care."""
    level = indicator(assessment)
    if level is None:
        return []
    reasons = _reasons(assessment)
    card: Card = {
        "uuid": str(uuid.uuid5(_NAMESPACE, f"{hook_instance}/{level}")),
        "summary": shorten(_summary(assessment, level)),
        "indicator": level,
        "detail": _detail(assessment, reasons, unused),
        "source": _source(kb, reasons),
        "overrideReasons": [
            {"system": OVERRIDE_SYSTEM, "code": code, "display": display}
            for code, display in OVERRIDE_REASONS
        ],
        "links": [_workspace_link(workspace, patient_id)],
    }
    if level != "info":
        suggestions = _suggestions(assessment, patient_id)
        if suggestions:
            card |= {"suggestions": suggestions, "selectionBehavior": "any"}
    return [card]


def _summary(assessment: Assessment, level: str) -> str:
    key = "urgent" if assessment.triage.level == Triage.URGENT else level
    return _SUMMARY[key].format(level=assessment.suspicion.level.replace("_", " "))


def shorten(text: str) -> str:
    return text if len(text) <= SUMMARY_LIMIT else text[: SUMMARY_LIMIT - 1].rstrip() + "…"


def _reasons(assessment: Assessment) -> list[Conclusion]:
    return [*assessment.triage.reasons, *assessment.suspicion.reasons]


def _detail(assessment: Assessment, reasons: list[Conclusion], unused: Sequence[str]) -> str:
    lines = [f"**{assessment.triage.clinician_headline}**", "", assessment.suspicion.explanation]
    if reasons:
        lines += ["", "Why:"]
        lines += [f"- {c.summary} ({c.rule})" for c in reasons]
    missing = assessment.triage.unanswered_emergency
    if missing:
        lines += ["", "Unanswered emergency questions: " + "; ".join(m.clinician for m in missing)]
    stimulator = assessment.stimulator
    if stimulator is not None and stimulator.in_question:
        verdict = {True: "candidate", False: "not a candidate", None: "cannot tell yet"}
        lines += ["", f"Bone stimulator: {verdict[stimulator.candidate]} under {stimulator.title}."]
    settings = assessment.provenance.settings
    if settings:
        lines += ["", "Site settings: " + ", ".join(f"{k} {v}" for k, v in settings.items())]
    if unused:
        lines += ["", "From the record, not used:"]
        lines += [f"- {_plain(line)}" for line in dict.fromkeys(unused)]
    return "\n".join(lines)


def _plain(text: str) -> str:
    """Text from the EHR's data shown literally in the card's Markdown."""
    return re.sub(r"([\\`*_{}\[\]()#+!|<>])", r"\\\1", text)


def _source(kb: Knowledge, reasons: list[Conclusion]) -> dict[str, Any]:
    source: dict[str, Any] = {"label": f"fusionwatch knowledge {kb.version}"}
    rules = {r.id: r for r in kb.data.rules}
    for conclusion in reasons:
        citation = primary_citation(rules[conclusion.rule], kb)
        if citation is not None:
            topic = {"system": "https://fusionwatch.example/fhir/CodeSystem/rule"}
            source |= {"topic": topic | {"code": conclusion.rule, "display": conclusion.title}}
            label = f"fusionwatch {kb.version}: {citation.title}"
            source["label"] = shorten(label)
            if citation.url:
                source["url"] = citation.url
            break
    return source


def _workspace_link(workspace: str, patient_id: str) -> dict[str, Any]:
    return {
        "label": "Open the fusionwatch clinician workspace",
        "url": workspace,
        "type": "smart",
        "appContext": json.dumps({"fhirPatient": patient_id}),
    }


def _suggestions(assessment: Assessment, patient_id: str) -> list[dict[str, Any]]:
    found = []
    for rule, request in service_requests(assessment, patient_id):
        found.append(
            {
                "label": shorten(f"Order: {request['code']['coding'][0]['display']}"),
                "uuid": str(uuid.uuid5(_NAMESPACE, f"{patient_id}/{rule}")),
                "actions": [
                    {"type": "create", "description": request["code"]["text"], "resource": request}
                ],
            }
        )
    return found
