"""The self-check and the clinician evaluation as FHIR Questionnaires, and responses read back.

linkIds are fact ids, so a QuestionnaireResponse maps onto the case without a lookup table.
"""

import datetime as dt
from typing import Any, Literal

from fusionwatch.core.compiled import Knowledge
from fusionwatch.core.knowledge import Equals, Fact, FactType, Is
from fusionwatch.fhir.caseexport import choice_concept
from fusionwatch.fhir.caseimport import Imported, import_resources
from fusionwatch.fhir.codes import ANSWER_CODES, System, case_facts, fact_codings
from fusionwatch.fhir.validation import validate

Resource = dict[str, Any]
Audience = Literal["patient", "clinician"]
_ITEM_TYPE = {
    FactType.ANSWER: "choice",
    FactType.CHOICE: "choice",
    FactType.NUMBER: "decimal",
    FactType.DATE: "date",
    FactType.TEXT: "string",
}
_ANSWER_TEXT = {"yes": "Yes", "no": "No", "not_sure": "Not sure"}
BASE = "https://fusionwatch.example/fhir/Questionnaire"


def questionnaire(kb: Knowledge, audience: Audience) -> Resource:
    """The patient self-check or the clinician evaluation, emergency questions first."""
    facts = [f for f in case_facts(kb) if audience == "clinician" or f.patient is not None]
    facts.sort(key=lambda f: "emergency" not in f.groups)
    title = "Self-check after spinal fusion" if audience == "patient" else "Clinician evaluation"
    resource = {
        "resourceType": "Questionnaire",
        "id": f"fusionwatch-{audience}",
        "url": f"{BASE}/fusionwatch-{audience}",
        "version": kb.version,
        "name": f"Fusionwatch{audience.title()}",
        "title": title,
        "status": "active",
        "subjectType": ["Patient"],
        "item": [_item(f, audience) for f in facts],
    }
    return validate(resource)


def _item(fact: Fact, audience: Audience) -> Resource:
    text = fact.patient if audience == "patient" and fact.patient else fact.clinician
    item: Resource = {
        "linkId": fact.id,
        "code": [c.data() for c in fact_codings(fact)],
        "text": text,
        "type": _ITEM_TYPE[fact.type],
    }
    if fact.type is FactType.ANSWER:
        item["answerOption"] = [
            {"valueCoding": {"system": System.SNOMED, "code": code, "display": _ANSWER_TEXT[a]}}
            for a, code in ANSWER_CODES.items()
        ]
    elif fact.type is FactType.CHOICE:
        item["answerOption"] = [
            {"valueCoding": choice_concept(fact, value)["coding"][-1] | _display(fact, value)}
            for value in fact.values
        ]
    if fact.ask_if is not None:
        item["enableWhen"] = [_enable_when(fact)]
    return item


def _display(fact: Fact, value: str) -> Resource:
    return {"display": fact.labels.get(value, value)}


def _enable_when(fact: Fact) -> Resource:
    condition = fact.ask_if
    if isinstance(condition, Is):
        code = {"system": System.SNOMED, "code": ANSWER_CODES[condition.is_]}
        return {"question": condition.fact, "operator": "=", "answerCoding": code}
    if isinstance(condition, Equals):
        code = {"system": f"{System.FACT}/{condition.fact}", "code": condition.equals}
        return {"question": condition.fact, "operator": "=", "answerCoding": code}
    raise ValueError(f"{fact.id}: ask_if of this form has no enableWhen mapping")


def import_response(response: Resource, kb: Knowledge, as_of: dt.date) -> Imported:
    """A QuestionnaireResponse read into a case: each answer becomes an Observation first."""
    validate(response)
    facts = {f.id: f for f in case_facts(kb)}
    subject = response.get("subject") or {"reference": "Patient/unknown"}
    observations = [
        _as_observation(facts[item["linkId"]], answer, subject)
        for item in _items(response)
        if item.get("linkId") in facts
        for answer in item.get("answer") or ()
    ]
    return import_resources(observations, kb, as_of)


def _items(node: Resource) -> list[Resource]:
    found: list[Resource] = []
    for item in node.get("item") or ():
        found += [item, *_items(item)]
    return found


def _as_observation(fact: Fact, answer: Resource, subject: Resource) -> Resource:
    observation: Resource = {
        "resourceType": "Observation",
        "id": fact.id.replace(".", "-").replace("_", "-"),
        "status": "final",
        "code": {"coding": [fact_codings(fact)[-1].data()]},
        "subject": subject,
    }
    if "valueCoding" in answer:
        return observation | {"valueCodeableConcept": {"coding": [answer["valueCoding"]]}}
    for key in ("valueDecimal", "valueInteger"):
        if key in answer:
            quantity = {"value": answer[key], "unit": fact.unit or "1"}
            if "ucum" in fact.codes:
                quantity |= {"system": System.UCUM, "code": fact.codes["ucum"]}
            return observation | {"valueQuantity": quantity}
    if "valueDate" in answer:
        return observation | {"valueDateTime": answer["valueDate"]}
    return observation | {k: v for k, v in answer.items() if k == "valueString"}
