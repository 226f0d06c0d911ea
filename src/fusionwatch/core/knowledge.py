"""Schema of the knowledge base: facts, thresholds, tables, rules, citations and education.

The files under ``fusionwatch/knowledge`` are parsed into these frozen models (unknown keys are
refused), then checked for meaning by ``core.checks``. Numbers never appear as literals in a rule:
a rule names a threshold, and every threshold carries its citation.
"""

from __future__ import annotations

import hashlib
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


# ---- conditions ---------------------------------------------------------------------------------


class Is(Frozen):
    fact: str
    is_: Literal["yes", "no"] = Field(alias="is")


class Equals(Frozen):
    fact: str
    equals: str


class OneOf(Frozen):
    fact: str
    in_: tuple[str, ...] = Field(alias="in", min_length=1)


class Known(Frozen):
    """True when the fact has a value, False when it is unknown (never itself unknown)."""

    known: str


class Compare(Frozen):
    """A number compared with named thresholds (all given bounds must hold)."""

    fact: str
    gt: str | None = None
    gte: str | None = None
    lt: str | None = None
    lte: str | None = None

    @model_validator(mode="after")
    def _one_bound(self) -> Compare:
        if not self.bounds():
            raise ValueError("a comparison needs at least one of gt, gte, lt, lte")
        return self

    def bounds(self) -> list[tuple[str, str]]:
        pairs = (("gt", self.gt), ("gte", self.gte), ("lt", self.lt), ("lte", self.lte))
        return [(op, ref) for op, ref in pairs if ref is not None]


class AllOf(Frozen):
    all: tuple[Condition, ...] = Field(min_length=1)


class AnyOf(Frozen):
    any: tuple[Condition, ...] = Field(min_length=1)


class NoneOf(Frozen):
    none: tuple[Condition, ...] = Field(min_length=1)


class AtLeast(Frozen):
    at_least: int = Field(ge=1)
    of: tuple[Condition, ...] = Field(min_length=1)


Condition = Is | Equals | OneOf | Compare | Known | AllOf | AnyOf | NoneOf | AtLeast
for _model in (AllOf, AnyOf, NoneOf, AtLeast):
    _model.model_rebuild()


# ---- dictionary, thresholds, citations ---------------------------------------------------------


class FactType(StrEnum):
    ANSWER = "answer"
    NUMBER = "number"
    CHOICE = "choice"
    DATE = "date"
    TEXT = "text"


class Fact(Frozen):
    id: str
    type: FactType
    meaning: str
    clinician: str
    patient: str | None = None
    unit: str | None = None
    values: tuple[str, ...] = ()
    labels: dict[str, str] = Field(
        default_factory=dict, description="plain-language name of each choice, for patient forms"
    )
    groups: tuple[str, ...] = ()
    codes: dict[str, str] = Field(default_factory=dict, description="loinc, snomed, ucum unit")
    value_codes: dict[str, str] = Field(
        default_factory=dict, description="SNOMED CT code of each choice, for FHIR exchange"
    )
    derived_from: tuple[str, ...] = ()
    count_true: tuple[Condition, ...] = ()
    importance: int = Field(50, ge=0, le=100, description="orders missing information")
    ask_if: Condition | None = Field(None, description="a follow-up question: ask only when true")
    implied_no: str | None = Field(
        None,
        description="an answer fact whose 'no' answers this one 'no' too, when this is unanswered"
        " (a narrower question under a broader one: no clicking, so no clicking with pain)",
    )
    sources: tuple[str, ...] = Field((), description="citations for numbers in the wording")

    @property
    def derived(self) -> bool:
        return self.id.startswith(("derived.", "result."))

    @model_validator(mode="after")
    def _labels_name_values(self) -> Fact:
        unknown = (set(self.labels) | set(self.value_codes)) - set(self.values)
        if unknown:
            raise ValueError(f"labels for values that {self.id} does not have: {sorted(unknown)}")
        return self


class ThresholdKind(StrEnum):
    EVIDENCE = "evidence"
    SETTING = "setting"


class Threshold(Frozen):
    id: str
    value: float
    unit: str
    meaning: str
    kind: ThresholdKind
    cite: str
    locator: str
    note: str | None = None


class Strength(StrEnum):
    PRIMARY = "primary"
    SECONDARY = "secondary"
    WEAK = "weak"
    ARTICLE = "article"
    CONVENTION = "convention"


class Citation(Frozen):
    id: str
    title: str
    source: str
    year: int | None = None
    url: str | None = None
    strength: Strength
    article_reference: int | None = Field(None, ge=1, le=5)
    identification: str | None = None


class ArticleReference(Frozen):
    """One of the source article's five references, and how far it could be identified."""

    number: int = Field(ge=1, le=5)
    as_printed: str
    identified_as: str | None = None
    note: str | None = None


class Evidence(Frozen):
    cite: str
    locator: str
    strength: Strength
    note: str | None = None


# ---- tables -------------------------------------------------------------------------------------


class Row(Frozen):
    gt: str | None = None
    gte: str | None = None
    lt: str | None = None
    lte: str | None = None
    output: str
    note: str
    cite: str
    locator: str


class Table(Frozen):
    id: str
    title: str
    input: str
    output: str
    hit_policy: Literal["first"]
    rows: tuple[Row, ...] = Field(min_length=1)


# ---- rules --------------------------------------------------------------------------------------


class RuleKind(StrEnum):
    EMERGENCY = "emergency"
    URGENT = "urgent"
    SUSPICION = "suspicion"
    SUSPICION_CAP = "suspicion_cap"
    CONCORDANCE = "concordance"
    REFERRAL = "referral"
    STIMULATOR = "stimulator"
    GENERATOR = "generator"
    NEXT_STEP = "next_step"
    RISK_FACTOR = "risk_factor"
    MANAGEMENT = "management"
    REVISION = "revision"
    OBSERVATION = "observation"


class Then(Frozen):
    summary: str = Field(max_length=140)
    patient: str
    clinician: str
    level: Literal["low", "moderate", "high"] | None = None
    target: str | None = None


class Expect(StrEnum):
    FIRES = "fires"
    QUIET = "quiet"
    UNKNOWN = "unknown"


class WorkedCase(Frozen):
    name: str
    given: dict[str, bool | float | str]
    expect: Expect


class Rule(Frozen):
    id: str = Field(pattern=r"^FW-[A-Z]+-\d{3}$")
    title: str
    kind: RuleKind
    section: str
    priority: int = Field(50, ge=0, le=100)
    when: Condition
    then: Then
    evidence: tuple[Evidence, ...]
    cases: tuple[WorkedCase, ...]


# ---- coverage policies --------------------------------------------------------------------------


class PolicyCriterion(Frozen):
    """One criterion of a coverage policy: its words paraphrased, their place, what it reads."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    says: str = Field(max_length=320, description="the policy's own words, paraphrased")
    locator: str = Field(description="where the policy says it (quoted or section)")
    reads: tuple[str, ...] = Field(min_length=1, description="the case facts this criterion reads")
    when: Condition


class PolicyPathway(Frozen):
    """One route to coverage: every criterion must hold."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: str
    summary: str = Field(max_length=140)
    patient: str
    clinician: str
    criteria: tuple[PolicyCriterion, ...] = Field(min_length=1)


class PolicyExpect(StrEnum):
    CANDIDATE = "candidate"
    NOT_CANDIDATE = "not_candidate"
    UNKNOWN = "unknown"


class PolicyCase(Frozen):
    name: str
    given: dict[str, bool | float | str]
    expect: PolicyExpect


class Policy(Frozen):
    """A bone-stimulator coverage policy or guideline, modelled criterion by criterion."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: str
    publisher: str
    cite: str
    version_seen: str
    verification: str
    scope: str = Field(description="what the policy covers and what this file leaves out")
    not_modelled: tuple[str, ...] = Field((), description="policy statements with no pathway")
    thresholds: tuple[Threshold, ...] = Field(
        (), description="numbers only this policy uses; ids start with the policy id"
    )
    pathways: tuple[PolicyPathway, ...] = Field(min_length=1)
    cases: tuple[PolicyCase, ...] = Field(min_length=2)


# ---- education ----------------------------------------------------------------------------------


SOURCE_LANGUAGE = "en"
"""The language the education documents are written and reviewed in; others translate it."""


class EducationKind(StrEnum):
    MYTH = "myth"
    FAQ = "faq"
    GLOSSARY = "glossary"
    DISCLAIMER = "disclaimer"
    TIMELINE = "timeline"
    QUESTION = "question"


class Education(Frozen):
    id: str
    kind: EducationKind
    title: str
    audience: Literal["patient", "clinician", "both"]
    language: str
    reading_level: str
    sources: tuple[str, ...] = Field(min_length=1)
    section: str
    show_when: Condition | None = None
    aliases: tuple[str, ...] = ()
    body: str = ""

    def fingerprint(self) -> str:
        """Short hash of the title and text a translation was written from (see decision 0007)."""
        text = f"{self.title.strip()}\n\n{self.body.strip()}".encode()
        return hashlib.sha256(text).hexdigest()[:12]


class Translation(Frozen):
    """An education document in another language: only the words; the rest is the source's.

    Kind, audience, section, sources and ``show_when`` are read from the English document with the
    same ``id``, so a translation can never cite differently or show at a different time.
    ``translates`` is the source's fingerprint when the translation was last checked against it.
    """

    id: str
    language: str = Field(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
    title: str
    reading_level: str
    translates: str = Field(pattern=r"^[0-9a-f]{12}$")
    aliases: tuple[str, ...] = ()
    body: str = ""


class Message(Frozen):
    """A fixed statement the engine makes (triage headlines, suspicion bands), with its source."""

    patient: str
    clinician: str
    cite: str
    locator: str


class Manifest(Frozen):
    version: str
    released: str
    title: str
    sections: dict[str, str]


class KnowledgeBase(Frozen):
    """Everything the engine knows, as parsed and checked data."""

    manifest: Manifest
    facts: tuple[Fact, ...]
    thresholds: tuple[Threshold, ...]
    tables: tuple[Table, ...]
    rules: tuple[Rule, ...]
    citations: tuple[Citation, ...]
    article_references: tuple[ArticleReference, ...] = Field(min_length=5, max_length=5)
    education: tuple[Education, ...]
    translations: dict[str, tuple[Translation, ...]] = Field(
        default_factory=dict, description="education documents by language, beside the English"
    )
    messages: dict[str, Message]
    policies: tuple[Policy, ...] = ()
    decimal_sign: str = Field(
        ".",
        description="how the patient texts write a decimal: the engine writes a value it quotes "
        "('{signs.worsening_began_month}') with it ('4,5' in Spanish); set when a language is "
        "applied",
    )

    @property
    def version(self) -> str:
        return self.manifest.version
