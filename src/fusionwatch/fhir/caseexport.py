"""A case written as a FHIR Bundle: Patient, the fusion Procedure, one Observation per fact.

Imaging studies and follow-up visits become panel Observations (``panels``) and the label the
Bundle's identifier, so ``caseimport`` reads back everything the case holds.
"""

import uuid
from typing import Any

from fusionwatch.core.case import Case
from fusionwatch.core.compiled import Knowledge
from fusionwatch.core.knowledge import Fact, FactType
from fusionwatch.fhir.codes import ANSWER_CODES, System, case_facts, fact_codings
from fusionwatch.fhir.panels import LEVEL, STUDY, VISIT, components, panel_code
from fusionwatch.fhir.validation import validate

Resource = dict[str, Any]
# Carried by the Patient and the Procedure rather than by Observations.
_ON_RESOURCES = {"person.sex", "surgery.date", "surgery.region", "surgery.levels"}
# surgery.operations travel as further fusion Procedures (``_operation``).
_NAMESPACE = uuid.UUID("7d0c6a52-4b0e-4d55-9a59-0f8a0c7b1e21")


def full_url(kind: str, key: str) -> str:
    """A stable urn:uuid for a resource, so exports are reproducible (golden files)."""
    return f"urn:uuid:{uuid.uuid5(_NAMESPACE, f'{kind}/{key}')}"


def entry(resource: Resource, url: str) -> Resource:
    """A Bundle entry; a resource without an id takes the one in its urn:uuid."""
    resource = {"resourceType": resource["resourceType"], "id": url.rsplit(":", 1)[-1]} | resource
    return {"fullUrl": url, "resource": validate(resource)}


def export_case(case: Case, kb: Knowledge, patient_id: str) -> Resource:
    """The case as a collection Bundle for the patient with this id."""
    flat = _flatten(case.model_dump(mode="json"))
    subject = {"reference": f"Patient/{patient_id}"}
    entries = [entry(_patient(patient_id, flat), f"Patient/{patient_id}")]
    if any(flat.get(key) for key in ("surgery.date", "surgery.region", "surgery.levels")):
        entries.append(entry(_procedure(kb, flat, subject), full_url("Procedure", patient_id)))
    for fact in case_facts(kb):
        value = flat.get(fact.id)
        if fact.id in _ON_RESOURCES or value in (None, "unknown", "not_examined", []):
            continue
        url = full_url("Observation", f"{patient_id}/{fact.id}")
        entries.append(entry(observation(fact, value, subject), url))
    for i, operation in enumerate(flat.get("surgery.operations") or ()):
        url = full_url("Procedure", f"{patient_id}/operation/{i}")
        entries.append(entry(_operation(kb, operation, subject), url))
    entries += _studies(case, subject, patient_id) + _visits(case, subject, patient_id)
    bundle: Resource = {"resourceType": "Bundle", "type": "collection", "entry": entries}
    if case.label is not None:
        bundle["identifier"] = {"system": System.CASE_LABEL, "value": case.label}
    return bundle


def _panel(kind: str, category: str, subject: Resource, data: dict[str, Any]) -> Resource:
    coding = {"system": System.OBSERVATION_CATEGORY, "code": category}
    resource: Resource = {
        "resourceType": "Observation",
        "status": "final",
        "category": [{"coding": [coding]}],
        "code": panel_code(kind),
        "subject": subject,
    }
    if data.get("date"):
        resource["effectiveDateTime"] = data["date"]
    return resource | {"component": components(kind, data)}


def _studies(case: Case, subject: Resource, patient_id: str) -> list[Resource]:
    """Each study, then its levels as member Observations with the level as body site."""
    entries = []
    for s, study in enumerate(case.imaging.studies):
        data = study.model_dump(mode="json", exclude_defaults=True)
        levels = data.pop("levels", [])
        urls = [full_url("Observation", f"{patient_id}/study/{s}/{n}") for n in range(len(levels))]
        panel = _panel(STUDY, "imaging", subject, data)
        if urls:
            panel["hasMember"] = [{"reference": url} for url in urls]
        entries.append(entry(panel, full_url("Observation", f"{patient_id}/study/{s}")))
        for url, level in zip(urls, levels, strict=True):
            member = _panel(LEVEL, "imaging", subject, level) | {
                "bodySite": {"text": level["level"]}
            }
            if study.date is not None:
                member["effectiveDateTime"] = study.date.isoformat()
            entries.append(entry(member, url))
    return entries


def _visits(case: Case, subject: Resource, patient_id: str) -> list[Resource]:
    return [
        entry(
            _panel(VISIT, "survey", subject, visit.model_dump(mode="json", exclude_defaults=True)),
            full_url("Observation", f"{patient_id}/visit/{v}"),
        )
        for v, visit in enumerate(case.follow_up)
    ]


def _flatten(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            flat |= _flatten(value, f"{prefix}{key}.")
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def _patient(patient_id: str, flat: dict[str, Any]) -> Resource:
    patient: Resource = {"resourceType": "Patient", "id": patient_id}
    if flat.get("person.sex"):
        patient["gender"] = flat["person.sex"]
    return patient


def _procedure(kb: Knowledge, flat: dict[str, Any], subject: Resource) -> Resource:
    fact = next(f for f in kb.data.facts if f.id == "surgery.date")
    procedure: Resource = {
        "resourceType": "Procedure",
        "status": "completed",
        "code": concept(fact),
        "subject": subject,
    }
    if flat.get("surgery.date"):
        procedure["performedDateTime"] = flat["surgery.date"]
    region = next(f for f in kb.data.facts if f.id == "surgery.region")
    sites = [choice_concept(region, flat["surgery.region"])] if flat.get("surgery.region") else []
    sites += [{"text": level} for level in flat.get("surgery.levels") or ()]
    if sites:
        procedure["bodySite"] = sites
    return procedure


def _operation(kb: Knowledge, operation: dict[str, Any], subject: Resource) -> Resource:
    """A later fusion operation: one more fusion Procedure, its kind as the category."""
    fact = next(f for f in kb.data.facts if f.id == "surgery.date")
    kind = operation["kind"]
    procedure: Resource = {
        "resourceType": "Procedure",
        "status": "completed",
        "category": {"coding": [{"system": System.OPERATION_KIND, "code": kind}], "text": kind},
        "code": concept(fact),
        "subject": subject,
    }
    if operation.get("months_since") is not None:
        months = {"url": System.OPERATION_MONTHS, "valueDecimal": operation["months_since"]}
        procedure["extension"] = [months]
    if operation.get("date"):
        procedure["performedDateTime"] = operation["date"]
    if operation.get("levels"):
        procedure["bodySite"] = [{"text": level} for level in operation["levels"]]
    if operation.get("reason"):
        reason = operation["reason"]
        codings = [{"system": System.OPERATION_REASON, "code": reason}]
        if reason == "nonunion":
            # ICD-10-CM M96.0: pseudarthrosis after fusion or arthrodesis.
            codings.append({"system": System.ICD10CM, "code": "M96.0"})
        procedure["reasonCode"] = [{"coding": codings, "text": reason}]
    return procedure


def concept(fact: Fact) -> Resource:
    return {"coding": [c.data() for c in fact_codings(fact)], "text": fact.clinician}


def choice_concept(fact: Fact, value: str) -> Resource:
    codings = [{"system": f"{System.FACT}/{fact.id}", "code": value}]
    if value in fact.value_codes:
        codings.insert(0, {"system": System.SNOMED, "code": fact.value_codes[value]})
    return {"coding": codings, "text": fact.labels.get(value, value)}


def observation(fact: Fact, value: Any, subject: Resource) -> Resource:
    """One fact's value as an Observation (survey category: it was reported or recorded)."""
    category = {"coding": [{"system": System.OBSERVATION_CATEGORY, "code": "survey"}]}
    resource: Resource = {
        "resourceType": "Observation",
        "status": "final",
        "category": [category],
        "code": concept(fact),
        "subject": subject,
    }
    return resource | _value(fact, value)


def _value(fact: Fact, value: Any) -> Resource:
    match fact.type:
        case FactType.NUMBER:
            ucum = fact.codes.get("ucum")
            quantity: Resource = {"value": value, "unit": fact.unit or ucum or "1"}
            if ucum is not None:
                quantity |= {"system": System.UCUM, "code": ucum}
            return {"valueQuantity": quantity}
        case FactType.ANSWER:
            coding = {"system": System.SNOMED, "code": ANSWER_CODES[value]}
            return {"valueCodeableConcept": {"coding": [coding], "text": value}}
        case FactType.CHOICE:
            return {"valueCodeableConcept": choice_concept(fact, value)}
        case FactType.DATE:
            return {"valueDateTime": value}
        case FactType.TEXT:
            return {"valueString": ", ".join(value) if isinstance(value, list) else str(value)}
