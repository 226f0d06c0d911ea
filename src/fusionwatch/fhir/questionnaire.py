"""The self-check and the clinician evaluation as FHIR Questionnaires, and responses read back.

linkIds are fact ids, so a QuestionnaireResponse maps onto the case without a lookup table. The
patient's Questionnaire carries each other language's wording of every question and answer choice
in FHIR's ``translation`` extension (the clinician's stays English, as on the clinician pages).
"""

import datetime as dt
from collections.abc import Mapping
from typing import Any, Literal

from fusionwatch.core.compiled import Knowledge
from fusionwatch.core.knowledge import Equals, Fact, FactType, Is, Known
from fusionwatch.fhir.caseexport import choice_concept
from fusionwatch.fhir.caseimport import Imported, import_resources
from fusionwatch.fhir.codes import ANSWER_CODES, System, case_facts, fact_codings
from fusionwatch.fhir.validation import validate
from fusionwatch.locale import N_, catalogue

Resource = dict[str, Any]
Audience = Literal["patient", "clinician"]
_ITEM_TYPE = {
    FactType.ANSWER: "choice",
    FactType.CHOICE: "choice",
    FactType.NUMBER: "decimal",
    FactType.DATE: "date",
    FactType.TEXT: "string",
}
_ANSWER_TEXT = {"yes": N_("Yes"), "no": N_("No"), "not_sure": N_("Not sure")}
# The Questionnaire's own title and description; the patient's are translated like its items.
_TITLE = {"patient": N_("Self-check after spinal fusion"), "clinician": "Clinician evaluation"}
_DESCRIPTION = {
    "patient": N_(
        "Questions you answer about how you are after a spinal fusion, the urgent ones first. "
        "The answers give general information; they do not replace a visit to your doctor."
    ),
    "clinician": "Findings a clinician records when nonunion after spinal fusion is in question.",
}
BASE = "https://fusionwatch.example/fhir/Questionnaire"
TRANSLATION = "http://hl7.org/fhir/StructureDefinition/translation"
# Each language's knowledge base (patient texts in that language), by language code.
Translations = Mapping[str, Knowledge]


def questionnaire(
    kb: Knowledge, audience: Audience, translations: Translations | None = None
) -> Resource:
    """The patient self-check or the clinician evaluation, emergency questions first.

    ``translations`` (the patient's only) add each language's wording of the questions and
    answer choices as ``translation`` extensions, so one Questionnaire serves every language.
    """
    facts = [f for f in case_facts(kb) if audience == "clinician" or f.patient is not None]
    others = translations or {} if audience == "patient" else {}
    facts.sort(key=lambda f: "emergency" not in f.groups)
    title, description = _TITLE[audience], _DESCRIPTION[audience]
    resource = {
        "resourceType": "Questionnaire",
        "id": f"fusionwatch-{audience}",
        "url": f"{BASE}/fusionwatch-{audience}",
        "version": kb.version,
        "name": f"Fusionwatch{audience.title()}",
        "title": title,
        **_translated("title", {c: catalogue(c).gettext(title) for c in others}),
        "status": "active",
        "subjectType": ["Patient"],
        "description": description,
        **_translated("description", {c: catalogue(c).gettext(description) for c in others}),
        "item": [_item(f, audience, others) for f in facts],
    }
    return validate(resource)


def _item(fact: Fact, audience: Audience, translations: Translations) -> Resource:
    text = fact.patient if audience == "patient" and fact.patient else fact.clinician
    wording = {code: t.facts[fact.id] for code, t in translations.items()}
    item: Resource = {
        "linkId": fact.id,
        "code": [c.data() for c in fact_codings(fact)],
        "text": text,
        "type": _ITEM_TYPE[fact.type],
    }
    item |= _translated("text", {code: f.patient or "" for code, f in wording.items()})
    if fact.type is FactType.ANSWER:
        item["answerOption"] = [
            {"valueCoding": _answer_coding(answer, code, translations)}
            for answer, code in ANSWER_CODES.items()
        ]
    elif fact.type is FactType.CHOICE:
        item["answerOption"] = [
            {"valueCoding": choice_concept(fact, value)["coding"][-1] | _display(fact, value)}
            for value in fact.values
        ]
        for option, value in zip(item["answerOption"], fact.values, strict=True):
            shown = {code: f.labels.get(value, value) for code, f in wording.items()}
            option["valueCoding"] |= _translated("display", shown)
    if fact.ask_if is not None:
        item["enableWhen"] = [_enable_when(fact)]
    return item


def _answer_coding(answer: str, code: str, translations: Translations) -> Resource:
    english = _ANSWER_TEXT[answer]
    coding = {"system": System.SNOMED, "code": code, "display": english}
    return coding | _translated("display", {c: catalogue(c).gettext(english) for c in translations})


def _translated(element: str, texts: Mapping[str, str]) -> Resource:
    """FHIR's translation extension on a primitive ("_text", "_display"), one per language."""
    found = [
        {
            "url": TRANSLATION,
            "extension": [
                {"url": "lang", "valueCode": code},
                {"url": "content", "valueString": text},
            ],
        }
        for code, text in sorted(texts.items())
        if text
    ]
    return {f"_{element}": {"extension": found}} if found else {}


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
    if isinstance(condition, Known):
        return {"question": condition.known, "operator": "exists", "answerBoolean": True}
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
