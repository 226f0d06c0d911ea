"""The assessment and its parts: plain frozen dataclasses, serialised through pydantic.

Dataclasses rather than pydantic models because an assessment is built on the hot path (the
benchmark target is tens of microseconds); ``fusionwatch.core.serialize`` dumps and validates them.
"""

import datetime as dt
from dataclasses import dataclass, field

from fusionwatch.core.followup import FollowUpResult

Value = bool | float | int | str | None


@dataclass(frozen=True, slots=True)
class Source:
    cite: str
    title: str
    locator: str
    strength: str
    url: str | None = None


@dataclass(frozen=True, slots=True)
class Finding:
    """A fact a conclusion rests on, with the value the engine saw (None = unknown)."""

    fact: str
    label: str
    value: Value


@dataclass(frozen=True, slots=True)
class Conclusion:
    """A fired rule turned into a statement, with its reasons and sources."""

    rule: str
    kind: str
    title: str
    summary: str
    patient: str
    clinician: str
    because: tuple[Finding, ...]
    sources: tuple[Source, ...]
    level: str | None = None
    target: str | None = None


@dataclass(frozen=True, slots=True)
class MissingItem:
    """An unanswered question that could change the result, and what it could change."""

    fact: str
    question: str
    clinician: str
    stakes: str
    affects: tuple[str, ...]
    changes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class TriageResult:
    level: str
    headline: str
    clinician_headline: str
    reasons: tuple[Conclusion, ...]
    unanswered_emergency: tuple[MissingItem, ...]
    # Added in knowledge 2026.11.6 (decision 0009); stored older results read back with ().
    not_sure: tuple[MissingItem, ...] = ()
    depends_on: tuple[MissingItem, ...] = ()


@dataclass(frozen=True, slots=True)
class TimedFrom:
    """The operation the months since surgery count from, or the one whose timing is missing.

    ``kind`` is "index" (the index fusion) or an operation kind ("extension", "revision",
    "staged"); a report names it in the reader's words from the labels catalogue.
    """

    kind: str
    levels: tuple[str, ...]
    date: dt.date | None
    months_ago: float | None
    undated: bool = False
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class SuspicionResult:
    level: str
    phase: str | None
    months_since_surgery: float | None
    reasons: tuple[Conclusion, ...]
    limited_by: tuple[Conclusion, ...]
    explanation: str
    patient_explanation: str = ""
    # The clinician's sentence (kept so stored results stay readable), and since knowledge
    # 2026.11.8 the operation it names, so that a patient's report words it in their language.
    timed_from: str | None = None
    timed_from_operation: TimedFrom | None = None
    # The later operations as the case lists them (reason given for a revision), so that a
    # clinician's note shows the whole history: the index levels alone understate an extension.
    operations: tuple[TimedFrom, ...] = ()


@dataclass(frozen=True, slots=True)
class EducationItem:
    id: str
    kind: str
    title: str
    body: str
    sources: tuple[Source, ...]


@dataclass(frozen=True, slots=True)
class RuleTrace:
    rule: str
    outcome: str
    values: tuple[Finding, ...] = ()


@dataclass(frozen=True, slots=True)
class TableTrace:
    table: str
    input: str
    value: Value
    output: str | None
    row: int | None


@dataclass(frozen=True, slots=True)
class Provenance:
    knowledge_version: str
    as_of: str
    rules: tuple[RuleTrace, ...]
    tables: tuple[TableTrace, ...]
    citations: tuple[Source, ...]
    settings: dict[str, Value] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Criterion:
    """One criterion behind an imaging or policy judgement: met, unmet, unknown or noted."""

    text: str
    outcome: str
    sources: tuple[Source, ...] = ()
    reads: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class LevelResult:
    """The fusion status of one motion segment and the criteria that decided it."""

    level: str
    status: str
    months_after_fusion: float | None
    decided_by: str
    angle_deg: float | None
    translation_mm: float | None
    interspinous_mm: float | None
    hardware_failure: bool | None
    progress: bool | None
    reasons: tuple[Criterion, ...]
    # A lucency around the cage counted at this level (on films, or on the latest CT).
    cage_lucency: bool = False


@dataclass(frozen=True, slots=True)
class SummaryFact:
    """An imaging summary answer: as given, as derived from the levels, and which one was used."""

    fact: str
    given: Value
    derived: Value
    used: Value
    conflict: bool


@dataclass(frozen=True, slots=True)
class AdjacentResult:
    """Findings at a segment next to the fusion: their own conclusion, never the fusion status."""

    level: str
    position: str
    months_after_surgery: float | None
    angle_deg: float | None
    translation_mm: float | None
    instability: bool | None
    hardware_problem: bool | None
    change: bool | None
    conclusion: str
    reasons: tuple[Criterion, ...]


@dataclass(frozen=True, slots=True)
class ImagingResult:
    levels: tuple[LevelResult, ...]
    summary: tuple[SummaryFact, ...]
    motion_cutoff_deg: float
    cutoff_note: str
    not_imaged: tuple[str, ...] = ()
    adjacent: tuple[AdjacentResult, ...] = ()
    # Level readings a later operation at that level superseded (clinician sentences, English).
    set_aside: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Candidacy:
    """Bone-stimulator candidacy under one named policy, pathway by pathway."""

    policy: str
    title: str
    candidate: bool | None
    pathways: tuple[Conclusion, ...]
    criteria: tuple[Criterion, ...]
    in_question: bool = True
    note: str = ""
    not_modelled: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Assessment:
    """Everything fusionwatch concludes about one case, each part with its reasons."""

    label: str | None
    as_of: str
    triage: TriageResult
    suspicion: SuspicionResult
    pain_generators: tuple[Conclusion, ...]
    recommendations: tuple[Conclusion, ...]
    timeline: tuple[EducationItem, ...]
    education: tuple[EducationItem, ...]
    missing_information: tuple[MissingItem, ...]
    disclaimer: str
    provenance: Provenance
    derived: dict[str, Value] = field(default_factory=dict)
    follow_up: FollowUpResult | None = None
    imaging: ImagingResult | None = None
    concordance: tuple[Conclusion, ...] = ()
    stimulator: Candidacy | None = None


def show_value(value: Value) -> str:
    """How a finding's value reads to a person: yes / no / unknown, or the value itself."""
    if value is None:
        return "unknown"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)
