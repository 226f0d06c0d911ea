"""The rules as FHIR PlanDefinitions (ECA rules), each with its citations."""

import json
from typing import Any

from fusionwatch.core.compiled import Knowledge
from fusionwatch.core.knowledge import Citation, Evidence, Rule
from fusionwatch.fhir.validation import validate

Resource = dict[str, Any]
BASE = "https://fusionwatch.example/fhir/PlanDefinition"
_TYPE = "http://terminology.hl7.org/CodeSystem/plan-definition-type"
# Not a registered expression language: the condition is the rule's own JSON, for reading.
_LANGUAGE = "application/x-fusionwatch-condition+json"


def plan_definitions(kb: Knowledge) -> Resource:
    """Every rule as a PlanDefinition, in a collection Bundle."""
    citations = {c.id: c for c in kb.data.citations}
    entries = [
        {"fullUrl": f"{BASE}/{_id(rule)}", "resource": plan_definition(rule, citations, kb.version)}
        for rule in kb.data.rules
    ]
    return {"resourceType": "Bundle", "type": "collection", "entry": entries}


def plan_definition(rule: Rule, citations: dict[str, Citation], version: str) -> Resource:
    condition = json.dumps(rule.when.model_dump(by_alias=True, exclude_none=True), sort_keys=True)
    action = {
        "title": rule.title,
        "description": rule.then.clinician,
        "textEquivalent": rule.then.summary,
        "condition": [
            {
                "kind": "applicability",
                "expression": {"language": _LANGUAGE, "expression": condition},
            }
        ],
    }
    resource = {
        "resourceType": "PlanDefinition",
        "id": _id(rule),
        "url": f"{BASE}/{_id(rule)}",
        "identifier": [
            {"system": "https://fusionwatch.example/fhir/CodeSystem/rule", "value": rule.id}
        ],
        "version": version,
        "name": rule.id.replace("-", ""),
        "title": rule.title,
        "type": {"coding": [{"system": _TYPE, "code": "eca-rule"}]},
        "status": "active",
        "description": rule.then.clinician,
        "topic": [{"text": f"{rule.kind.value} ({rule.section})"}],
        "relatedArtifact": [_artifact(e, citations.get(e.cite)) for e in rule.evidence],
        "action": [action],
    }
    return validate(resource)


def _id(rule: Rule) -> str:
    return rule.id.lower()


def _artifact(evidence: Evidence, citation: Citation | None) -> Resource:
    artifact: Resource = {"type": "citation", "label": evidence.cite}
    if citation is None:
        return artifact | {"display": evidence.locator}
    artifact |= {"display": f"{citation.title} — {evidence.locator}", "citation": citation.source}
    return artifact | ({"url": citation.url} if citation.url else {})


def primary_citation(rule: Rule, kb: Knowledge) -> Citation | None:
    """The first cited source of a rule (the rulebook lists the strongest evidence first)."""
    citations = {c.id: c for c in kb.data.citations}
    return next((citations[e.cite] for e in rule.evidence if e.cite in citations), None)
