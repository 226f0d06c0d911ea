"""HTML forms generated from the facts dictionary: fields, steps, parsing and field errors."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from fusionwatch.core.compiled import Knowledge
from fusionwatch.core.errors import Problem
from fusionwatch.core.knowledge import Equals, Fact, FactType, Is, OneOf
from fusionwatch.intake import questionnaire as qn
from fusionwatch.locale import N_, _

# Marked here, translated where shown (the page's language is known only then).
ANSWER_CHOICES = (("yes", N_("Yes")), ("no", N_("No")), ("not_sure", N_("Not sure")))
ANSWER_LABELS = dict(ANSWER_CHOICES)
SECTION_TITLES = {
    "emergency": "Urgent warning signs",
    "surgery": "Surgery",
    "person": "About the person",
    "signs": "Warning signs",
    "pain": "Pain",
    "exam": "Examination",
    "infection": "Signs of infection",
    "recovery": "Other problems since the operation",
    "risk": "Risk factors",
    "care": "Care so far",
    "imaging": "Imaging",
}


@dataclass(frozen=True, slots=True)
class Step:
    """One screen of the patient self-check."""

    id: str
    title: str
    intro: str
    sections: tuple[str, ...]


PATIENT_STEPS = (
    Step(
        "emergency",
        N_("First, some urgent questions"),
        N_("These questions come first because a yes to any of them needs care today."),
        ("emergency",),
    ),
    Step(
        "surgery",
        N_("Your surgery"),
        N_("Tell us what you know. You can skip what you don't."),
        (
            "surgery",
            "person",
        ),
    ),
    Step(
        "symptoms",
        N_("How you feel now"),
        N_("Think about the last few weeks."),
        # What needs a call within a day first (infection, swallowing, a fall), then the signs.
        ("infection", "recovery", "signs", "pain"),
    ),
    Step(
        "health",
        N_("Your health and care"),
        N_("Some health habits change how well bone heals."),
        ("risk", "care"),
    ),
)


@dataclass(slots=True)
class FormField:
    fact: Fact
    label: str
    raw: str = ""
    error: str | None = None
    follow_up: bool = False
    choices: tuple[tuple[str, str], ...] = field(default_factory=tuple)

    @property
    def name(self) -> str:
        return self.fact.id

    @property
    def unit(self) -> str:
        """The unit, in the language of the knowledge base the fact came from."""
        return self.fact.unit or ""

    @property
    def dom_id(self) -> str:
        return "f-" + self.fact.id.replace(".", "-")

    @property
    def kind(self) -> str:
        return self.fact.type.value

    @property
    def show_when(self) -> str:
        """For the optional script: 'fact=value|value' when the follow-up's condition is simple."""
        cond = self.fact.ask_if
        if isinstance(cond, Is):
            return f"{cond.fact}={cond.is_}"
        if isinstance(cond, Equals):
            return f"{cond.fact}={cond.equals}"
        if isinstance(cond, OneOf):
            return f"{cond.fact}={'|'.join(cond.in_)}"
        return ""


def section_of(fact_id: str) -> str:
    return fact_id.split(".", 1)[0]


def step_facts(kb: Knowledge, step: Step) -> list[Fact]:
    """A step's questions, section by section in the step's order (dictionary order within)."""
    asked = [
        f
        for f in kb.data.facts
        if section_of(f.id) in step.sections
        and not f.derived
        and f.patient is not None
        and f.id not in qn.PATIENT_SKIPS
    ]
    return sorted(asked, key=lambda f: step.sections.index(section_of(f.id)))


# Score series and imaging studies are lists of rows: they have their own form (web/series.py).
ROW_GROUPS = frozenset({"series", "file_only"})


def clinician_facts(kb: Knowledge) -> list[Fact]:
    # Lists of records without a row form (operations) go in the data box.
    lists = {"surgery.operations"}
    return [
        f
        for f in kb.data.facts
        if not f.derived and f.id not in lists and not ROW_GROUPS & set(f.groups)
    ]


def build_fields(
    facts: Iterable[Fact], raw: Mapping[str, str], audience: str, errors: Mapping[str, str]
) -> list[FormField]:
    return [
        FormField(
            fact=f,
            label=(f.patient or f.clinician) if audience == "patient" else f.clinician,
            raw=raw.get(f.id, ""),
            error=errors.get(f.id),
            follow_up=f.ask_if is not None,
            choices=_choices(f, audience),
        )
        for f in facts
    ]


def grouped(fields: list[FormField]) -> list[tuple[str, list[FormField]]]:
    groups: dict[str, list[FormField]] = {}
    for f in fields:
        groups.setdefault(section_of(f.name), []).append(f)
    return [(SECTION_TITLES.get(k, k.title()), v) for k, v in groups.items()]


def _choices(fact: Fact, audience: str) -> tuple[tuple[str, str], ...]:
    if fact.type is FactType.ANSWER:
        return tuple((v, _(label)) for v, label in ANSWER_CHOICES)
    if audience == "patient":
        return tuple((v, fact.labels.get(v, _plain(v))) for v in fact.values)
    return tuple((v, _plain(v)) for v in fact.values)


def _plain(value: str) -> str:
    return value.replace("_", " ")


def raw_answers(kb: Knowledge, form: Mapping[str, Any]) -> dict[str, str]:
    """The submitted text of every known fact field (hidden carry-over fields included)."""
    known = {f.id for f in kb.data.facts if not f.derived}
    return {k: str(v).strip() for k, v in form.items() if k in known and str(v).strip() != ""}


def parse_answers(kb: Knowledge, raw: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """Typed answers and per-field messages for text that could not be read."""
    facts = {f.id: f for f in kb.data.facts}
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for fact_id, text in raw.items():
        try:
            values[fact_id] = qn.parse(qn.Question(facts[fact_id], ""), text)
        except ValueError:
            errors[fact_id] = _problem(facts[fact_id])
    return values, errors


def _problem(fact: Fact) -> str:
    """Why typed text could not be read, in the page's language (the form offers the choices)."""
    if fact.type in {FactType.ANSWER, FactType.CHOICE}:
        return _("please choose one of the answers")
    if fact.type is FactType.NUMBER:
        return _("please type a number, or leave it empty")
    return _("please check this answer, or leave it empty")


def case_data(values: Mapping[str, Any]) -> dict[str, Any]:
    return qn.to_case_data(dict(values))


def problem_errors(problems: Iterable[Problem]) -> dict[str, str]:
    """Case-model problems keyed by the form field they belong to (dotted path)."""
    errors: dict[str, str] = {}
    for p in problems:
        errors.setdefault(p.field, p.message)
    return errors


def case_raw(data: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    """Flatten stored case data back into form text (lists as comma-separated text)."""
    raw: dict[str, str] = {}
    for key, value in data.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping):
            raw.update(case_raw(value, path + "."))
        elif isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
            raw[path] = ", ".join(value)
        elif value is not None and not isinstance(value, list | tuple):
            raw[path] = _text(value)
    return raw


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def uncovered(data: Mapping[str, Any], covered: set[str], prefix: str = "") -> dict[str, Any]:
    """The parts of case data that no form field covers, keeping their nesting."""
    left: dict[str, Any] = {}
    for key, value in data.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping):
            inner = uncovered(value, covered, path + ".")
            if inner:
                left[key] = inner
        elif path not in covered:
            left[key] = value
    return left


def deep_merge(base: Mapping[str, Any], top: Mapping[str, Any]) -> dict[str, Any]:
    """``top`` wins where both have a value; sections are merged key by key."""
    merged = dict(base)
    for key, value in top.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged
