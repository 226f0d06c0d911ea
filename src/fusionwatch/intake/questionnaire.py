"""The question flow of the interactive self-check, built from the facts dictionary.

Emergency questions come first; follow-up questions are asked only when their ``ask_if`` holds.
Answers are parsed here and turned into case data; validation stays in the case model.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

from fusionwatch.core.compiled import Knowledge
from fusionwatch.core.knowledge import Fact, FactType

Mode = Literal["patient", "clinician"]
_YES = {"y", "yes"}
_NO = {"n", "no"}
# "Not sure" (asked, could not say) differs from a skipped question (Enter: not asked).
_UNSURE = {"?", "u", "unsure", "not sure", "not_sure", "dont know", "don't know"}
_SKIP = {"", "unknown", "skip"}
# A patient rarely knows the exact date; the month count is asked instead.
PATIENT_SKIPS = {"surgery.date"}


@dataclass(frozen=True, slots=True)
class Question:
    fact: Fact
    text: str

    @property
    def hint(self) -> str:
        t = self.fact.type
        if t is FactType.ANSWER:
            return "y / n / ? (not sure), Enter to skip"
        if t is FactType.CHOICE:
            return " / ".join(self.fact.values) + "  (Enter to skip)"
        if t is FactType.DATE:
            return "YYYY-MM-DD (Enter to skip)"
        if t is FactType.TEXT:
            return "comma-separated (Enter to skip)"
        unit = f" {self.fact.unit}" if self.fact.unit else ""
        return f"number{unit} (Enter to skip)"


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
    """Follow-up questions wait for the answer that makes them relevant."""
    if question.fact.ask_if is None:
        return True
    env = {k: _logic(v) for k, v in answers.items()}
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
    return Question(fact, text)


def _answer(text: str) -> str:
    if text in _YES:
        return "yes"
    if text in _NO:
        return "no"
    if text in _UNSURE:
        return "not_sure"
    if text in _SKIP:
        return "unknown"
    raise ValueError("please answer y (yes), n (no) or ? (not sure); Enter skips")


def _choice(fact: Fact, text: str) -> str:
    for value in fact.values:
        if value.lower() == text.lower():
            return value
    raise ValueError(f"please type one of: {', '.join(fact.values)}")


def _number(text: str) -> int | float:
    try:
        value = float(text.replace(",", "."))
    except ValueError:
        raise ValueError("please type a number, or press Enter to skip") from None
    return int(value) if value.is_integer() else value


def _logic(value: Any) -> Any:
    return (
        {"yes": True, "no": False, "unknown": None, "not_sure": None}.get(value, value)
        if isinstance(value, str)
        else value
    )
