"""The question flow of the interactive self-check, built from the facts dictionary.

Emergency questions come first; follow-up questions are asked only when their ``ask_if`` holds.
Answers are parsed here and turned into case data; validation stays in the case model.
Hints, help and the words a person may type come from the interface catalogue, so the check
speaks the language of ``locale.using(...)``; the English words are always understood too.
"""

import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

from fusionwatch import locale
from fusionwatch.core.case import Case
from fusionwatch.core.compiled import Knowledge
from fusionwatch.core.knowledge import Fact, FactType
from fusionwatch.locale import N_, _

Mode = Literal["patient", "clinician"]
# The words typed for each answer, comma-separated: a translator lists those of the language.
# "Not sure" (asked, could not say) differs from a skipped question (Enter: not asked).
WORDS = {
    "yes": N_("y, yes"),
    "no": N_("n, no"),
    "not_sure": N_("?, not sure, don't know"),
    "unknown": N_("skip"),
}
_ENGLISH_EXTRA = {"not_sure": {"u", "unsure", "not_sure", "dont know"}, "unknown": {"unknown"}}
# A patient rarely knows the exact date; the month count is asked instead.
PATIENT_SKIPS = {"surgery.date"}


@dataclass(frozen=True, slots=True)
class Question:
    fact: Fact
    text: str

    mode: Mode = "clinician"

    @property
    def hint(self) -> str:
        """What to type, in the current language (a patient sees the choices' plain names)."""
        t = self.fact.type
        if t is FactType.ANSWER:
            return _("y / n / ? (not sure), Enter to skip")
        if t is FactType.CHOICE:
            return _("%(choices)s  (Enter to skip)") % {"choices": " / ".join(self.choices())}
        if t is FactType.DATE:
            return _("YYYY-MM-DD (Enter to skip)")
        if t is FactType.TEXT:
            return _("comma-separated (Enter to skip)")
        if self.fact.unit:
            return _("number in %(unit)s (Enter to skip)") % {"unit": self.fact.unit}
        return _("number (Enter to skip)")

    def choices(self) -> list[str]:
        """The choices as typed: a clinician's values, a patient's numbered plain names."""
        if self.mode == "clinician" or not self.fact.labels:
            return list(self.fact.values)
        return [f"{n} {self.fact.labels.get(v, v)}" for n, v in enumerate(self.fact.values, 1)]


def emergency_questions(kb: Knowledge, mode: Mode) -> list[Question]:
    return [_question(f, mode) for f in kb.data.facts if "emergency" in f.groups]


def other_questions(kb: Knowledge, mode: Mode) -> Iterator[Question]:
    for fact in kb.data.facts:
        # Structured entries (score series, imaging studies) come from files, not typed answers.
        if fact.derived or "emergency" in fact.groups or {"series", "file_only"} & set(fact.groups):
            continue
        if mode == "patient" and (fact.patient is None or fact.id in PATIENT_SKIPS):
            continue
        yield _question(fact, mode)


def should_ask(kb: Knowledge, question: Question, answers: dict[str, Any]) -> bool:
    """Follow-up questions wait for the answer that makes them relevant; a narrower question is
    not asked again after its broader one was answered 'no' (facts.yaml ``implied_no``)."""
    env = {k: _logic(v) for k, v in answers.items()}
    broader = question.fact.implied_no
    if broader is not None and env.get(broader) is False:
        return False
    if question.fact.ask_if is None:
        return True
    return kb.compile(question.fact.ask_if).run(env) is True


def parse(question: Question, raw: str) -> Any:
    """Turn typed text into a case value; None means unanswered. Raises ValueError with help."""
    text = raw.strip()
    fact = question.fact
    if fact.type is FactType.ANSWER:
        return _answer(text.lower())
    if text == "":
        return None
    if fact.type is FactType.CHOICE:
        return _choice(fact, text)
    if fact.type is FactType.TEXT:
        return [part.strip() for part in text.split(",") if part.strip()]
    if fact.type is FactType.DATE:
        return text
    return _number(text)


def to_case_data(answers: dict[str, Any]) -> dict[str, Any]:
    """Nest dotted fact ids into case sections, leaving unanswered questions out."""
    data: dict[str, Any] = {}
    for fact, value in answers.items():
        if value is None:
            continue
        *path, leaf = fact.split(".")
        node = data
        for part in path:
            node = node.setdefault(part, {})
        node[leaf] = value
    return data


def _question(fact: Fact, mode: Mode) -> Question:
    text = (
        fact.patient if (mode == "patient" and fact.patient) else (fact.patient or fact.clinician)
    )
    return Question(fact, text, mode)


def answer_words(answer: str) -> set[str]:
    """What a person may type for ``answer``: the English words and the current language's."""
    listed = {WORDS[answer], _(WORDS[answer])}
    words = {_folded(w) for text in listed for w in text.split(",")}
    return words | _ENGLISH_EXTRA.get(answer, set())


def parse_yes_no(raw: str) -> bool | None:
    """A typed yes (True) or no (False); anything else is None."""
    typed = _folded(raw)
    if typed in answer_words("yes"):
        return True
    return False if typed in answer_words("no") else None


def _answer(text: str) -> str:
    typed = _folded(text)
    if typed == "":
        return "unknown"
    for answer in WORDS:
        if typed in answer_words(answer):
            return answer
    raise ValueError(_("please answer y (yes), n (no) or ? (not sure); Enter skips"))


def _choice(fact: Fact, text: str) -> str:
    typed = _folded(text)
    for number, value in enumerate(fact.values, 1):
        if typed in {_folded(value), _folded(fact.labels.get(value, value)), str(number)}:
            return value
    names = ", ".join(fact.labels.get(v, v) for v in fact.values)
    raise ValueError(_("please type one of: %(choices)s") % {"choices": names})


def _number(text: str) -> int | float:
    try:
        value = float(text.replace(",", "."))
    except ValueError:
        raise ValueError(_("please type a number, or press Enter to skip")) from None
    return int(value) if value.is_integer() else value


def _folded(text: str) -> str:
    """Lower case, trimmed, without accents or the opening "¿" ("¿Sí?" is read as "si?")."""
    plain = unicodedata.normalize("NFKD", text.strip().lower().replace("¿", ""))
    return "".join(c for c in plain if not unicodedata.combining(c))


def _logic(value: Any) -> Any:
    return (
        {"yes": True, "no": False, "unknown": None, "not_sure": None}.get(value, value)
        if isinstance(value, str)
        else value
    )


@cache
def limits() -> dict[str, tuple[float, float]]:
    """Each number's allowed range, read from the case model (the one place it is written)."""
    return {fact: (low, high) for fact, (low, high, _whole) in _numbers().items()}


@cache
def whole_numbers() -> frozenset[str]:
    """The numbers the case model takes as whole numbers only (a pain score, an age)."""
    return frozenset(fact for fact, (_low, _high, whole) in _numbers().items() if whole)


@cache
def _numbers() -> dict[str, tuple[float, float, bool]]:
    schema = Case.model_json_schema()
    defs = schema.get("$defs", {})
    found: dict[str, tuple[float, float, bool]] = {}

    def node(part: dict[str, Any]) -> dict[str, Any]:
        return defs[part["$ref"].rsplit("/", 1)[-1]] if "$ref" in part else part

    def walk(part: dict[str, Any], prefix: str) -> None:
        for name, prop in node(part).get("properties", {}).items():
            for option in map(node, prop.get("anyOf", [prop])):
                if "properties" in option:
                    walk(option, f"{prefix}{name}.")
                elif "minimum" in option and "maximum" in option:
                    whole = option.get("type") == "integer"
                    found[prefix + name] = (option["minimum"], option["maximum"], whole)

    walk(schema, "")
    return found


def range_problem(fact_id: str, value: Any) -> str | None:
    """The problem "must be between 0 and 10" in the current language, for a number out of range,
    or "a whole number" for a decimal where only whole numbers are taken (a pain score)."""
    if isinstance(value, float) and not value.is_integer() and fact_id in whole_numbers():
        return _("please type a whole number, without decimals")
    bounds = limits().get(fact_id)
    if bounds is None or not isinstance(value, int | float) or bounds[0] <= value <= bounds[1]:
        return None
    low, high = (locale.number(b) for b in bounds)
    return _("must be between %(low)s and %(high)s") % {"low": low, "high": high}
