"""The labels catalogue: the words reports show, per language and reader, checked against the facts.

``labels.yaml`` holds one block per language. ``Catalogue`` joins one language's block with the
facts' own wording (patient question, clinician label, choice labels) so that a report can name
every finding, choice and band in words and never shows a raw id or enum value.
"""

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from babel.dates import format_date
from babel.numbers import format_decimal
from pydantic import BaseModel, ConfigDict

from fusionwatch.core.compiled import Knowledge
from fusionwatch.core.imaging import Modality
from fusionwatch.core.knowledge import SOURCE_LANGUAGE
from fusionwatch.core.vocab import FusionStatus, OperationKind, OperationReason, Suspicion, Triage

Audience = Literal["patient", "clinician"]
Value = bool | float | int | str | dt.date | None

# Values a report shows that the engine's enums do not list yet (issue 11 adds them); a catalogue
# must name them already so they render the day the engine starts to use them.
EXTRA_DISPOSITIONS = ("urgent",)
EXTRA_BANDS = ("cannot_tell",)
PHASES = ("early_recovery", "healing", "fusion_assessment", "established")
STAKES = ("emergency", "urgency", "suspicion", "plan")
OUTCOMES = ("met", "unmet", "unknown", "noted")
ANSWERS = ("yes", "no", "unknown")
# The operations a report can say the months count from: the index fusion, then each later kind.
OPERATIONS = ("index", *(k.value for k in OperationKind))
REVISION_REASONS = tuple(r.value for r in OperationReason)


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Wording(_Frozen):
    patient: str
    clinician: str

    def get(self, audience: Audience) -> str:
        return self.patient if audience == "patient" else self.clinician


class Disposition(Wording):
    when_patient: str
    when_clinician: str

    def when(self, audience: Audience) -> str:
        return self.when_patient if audience == "patient" else self.when_clinician


class Language(_Frozen):
    """Every label of one language."""

    dispositions: dict[str, Disposition]
    suspicion: dict[str, Wording]
    phases: dict[str, Wording]
    level_status: dict[str, Wording]
    modalities: dict[str, Wording]
    outcomes: dict[str, Wording]
    candidacy: dict[str, Wording]
    stakes: dict[str, Wording]
    operations: dict[str, Wording]
    revision_reasons: dict[str, Wording]
    values: dict[str, Wording]
    headings: dict[str, Wording]
    phrases: dict[str, Wording]
    choices: dict[str, dict[str, str]]


def required_keys() -> dict[str, tuple[str, ...]]:
    """What each part of a language must name: every value the engine can put in a result."""
    return {
        "dispositions": (*(t.value for t in Triage), *EXTRA_DISPOSITIONS),
        "suspicion": (*(s.value for s in Suspicion), *EXTRA_BANDS),
        "phases": PHASES,
        "level_status": tuple(s.value for s in FusionStatus if s is not FusionStatus.NOT_DONE),
        "modalities": tuple(m.value for m in Modality),
        "outcomes": OUTCOMES,
        "candidacy": ANSWERS,
        "stakes": STAKES,
        "operations": OPERATIONS,
        "revision_reasons": REVISION_REASONS,
        "values": ANSWERS,
    }


def check_language(code: str, language: Language, kb: Knowledge) -> list[str]:
    """Problems with one language's labels: a missing name, or a choice no fact has."""
    problems = []
    for part, keys in required_keys().items():
        named = getattr(language, part)
        problems += [f"labels.{code}.{part}: no label for {k!r}" for k in keys if k not in named]
    for fact in kb.data.facts:
        if not fact.values:
            continue
        named = language.choices.get(fact.id, {})
        problems += [
            f"labels.{code}.choices.{fact.id}: no label for {v!r}"
            for v in fact.values
            if v not in named
        ]
    for fact_id, named in language.choices.items():
        if fact_id not in kb.facts:
            problems.append(f"labels.{code}.choices: unknown fact {fact_id!r}")
            continue
        extra = set(named) - set(kb.facts[fact_id].values)
        problems += [f"labels.{code}.choices.{fact_id}: unknown value {v!r}" for v in sorted(extra)]
    return problems


@dataclass(frozen=True)
class Catalogue:
    """One language's labels plus the facts' wording: everything a report needs to name things."""

    language: str
    words: Language
    kb: Knowledge

    def heading(self, key: str, audience: Audience) -> str:
        return self.words.headings[key].get(audience)

    def phrase(self, key: str, audience: Audience) -> str:
        return self.words.phrases[key].get(audience)

    def disposition(self, level: str) -> Disposition:
        return self.words.dispositions[level]

    def band(self, level: str, audience: Audience) -> str:
        return self.words.suspicion[level].get(audience)

    def named(self, part: str, key: str | None, audience: Audience) -> str:
        """A label from one part of the catalogue; a key it lacks reads as 'unknown'."""
        table: Mapping[str, Wording] = getattr(self.words, part)
        wording = table.get(key or "") or self.words.values["unknown"]
        return wording.get(audience)

    def fact(self, fact_id: str, audience: Audience) -> str:
        """The name of a fact: the clinician label (patients read it too, as a short name)."""
        fact = self.kb.facts.get(fact_id)
        return fact.clinician if fact is not None else fact_id.rsplit(".", 1)[-1]

    def question(self, fact_id: str, audience: Audience) -> str:
        fact = self.kb.facts[fact_id]
        return (fact.patient or fact.clinician) if audience == "patient" else fact.clinician

    def value(self, fact_id: str, value: Value, audience: Audience) -> str:
        """A value in words: yes, no or not answered, a choice's label, or a number and unit."""
        if value is None or isinstance(value, bool):
            key = "unknown" if value is None else ("yes" if value else "no")
            return self.words.values[key].get(audience)
        fact = self.kb.facts.get(fact_id)
        if isinstance(value, str):
            return self._choice(fact_id, value, audience)
        if isinstance(value, dt.date):
            return self.date(value)
        number = self.number(value)
        if fact is None or not fact.unit:
            return number
        return f"{number} {_one(fact.unit, self.language) if value == 1 else fact.unit}"

    def number(self, value: float) -> str:
        """A number as the language writes it: '38.5' in English, '38,5' in Spanish (Babel, CLDR),
        every decimal a person typed kept (up to three)."""
        if self.language == SOURCE_LANGUAGE:
            return f"{value:g}"
        return str(format_decimal(value, "#,##0.###", locale=self.language))

    def date(self, value: dt.date) -> str:
        """English keeps ISO 8601 (files, golden reports, clinicians); another language writes
        the date out in words ('15 de enero de 2026'), which no reader can take day for month."""
        if self.language == SOURCE_LANGUAGE:
            return value.isoformat()
        return str(format_date(value, "long", locale=self.language))

    def _choice(self, fact_id: str, value: str, audience: Audience) -> str:
        fact = self.kb.facts.get(fact_id)
        if audience == "patient" and fact is not None and value in fact.labels:
            return fact.labels[value]
        named = self.words.choices.get(fact_id, {})
        if value in named:
            return named[value]
        if value in self.words.values:
            return self.words.values[value].get(audience)
        return value.replace("_", " ")

    def asked_when(self, fact_id: str, known: Mapping[str, Any]) -> bool:
        """False for a follow-up question whose opening answer makes it irrelevant (e.g. 'no')."""
        fact = self.kb.facts.get(fact_id)
        if fact is None or fact.ask_if is None:
            return True
        return self.kb.compile(fact.ask_if).run(dict(known)) is True

    def patient_question(self, fact_id: str) -> bool:
        """Whether a person can answer this themselves (it has a patient wording)."""
        fact = self.kb.facts.get(fact_id)
        return fact is not None and bool(fact.patient)


# The count nouns of the units, one of each ("1 sign", "1 mes"); other units do not change.
_SINGULAR = {
    "en": {
        "factors": "factor",
        "segments": "segment",
        "months": "month",
        "points": "point",
        "questions": "question",
        "signs": "sign",
        "vertebrae": "vertebra",
        "weeks": "week",
        "years": "year",
    },
    "es": {"meses": "mes", "años": "año", "puntos": "punto", "semanas": "semana"},
}


def _one(unit: str, language: str) -> str:
    """The unit for a count of one: its first plural noun made singular."""
    singular = _SINGULAR.get(language, {})
    words = unit.split(" ")
    for i, word in enumerate(words):
        if word in singular:
            words[i] = singular[word]
            break
    return " ".join(words)
