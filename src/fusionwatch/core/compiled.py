"""A knowledge base made ready to run: readers, banding tables, counts and rules compiled once."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from operator import attrgetter
from typing import Any

from fusionwatch.core.case import Case
from fusionwatch.core.criteria import describe
from fusionwatch.core.knowledge import (
    SOURCE_LANGUAGE,
    Compare,
    Fact,
    FactType,
    KnowledgeBase,
    Policy,
    PolicyCriterion,
    PolicyPathway,
    Rule,
    RuleKind,
    Table,
    Threshold,
    Translation,
)
from fusionwatch.core.logic import Compiled, Env, Predicate, Tri, compile_condition, leaves
from fusionwatch.core.results import EducationItem, Source
from fusionwatch.core.vocab import Answer, ExamFinding

ANSWER_LOGIC: dict[object, bool | None] = {a: a.truth for a in Answer}
EMERGENCY_NOT_SURE = "derived.emergency_not_sure"


@dataclass(frozen=True, slots=True)
class Reader:
    """Reads one input fact from a case and turns it into a logic value (None = unknown)."""

    fact: str
    get: Callable[[Case], Any]
    answer: bool

    def value(self, case: Case) -> object:
        return self.logic(self.get(case))

    def logic(self, raw: Any) -> object:
        """The logic value of what was read (None = unknown)."""
        if self.answer:
            return ANSWER_LOGIC[raw]
        if raw is None or raw == () or raw is ExamFinding.NOT_EXAMINED:
            return None
        return raw.value if isinstance(raw, Enum) else raw


@dataclass(frozen=True, slots=True)
class Band:
    """One row of a first-hit banding table, compiled."""

    test: Predicate
    output: str
    index: int


@dataclass(frozen=True, slots=True)
class CompiledTable:
    table: Table
    bands: tuple[Band, ...]

    def apply(self, env: Env) -> tuple[str | None, int | None]:
        if env.get(self.table.input) is None:
            return None, None
        for band in self.bands:
            if band.test(env):
                return band.output, band.index
        return None, None


@dataclass(frozen=True, slots=True)
class CompiledCount:
    fact: Fact
    parts: tuple[Compiled, ...]


@dataclass(frozen=True, slots=True)
class CompiledRule:
    rule: Rule
    when: Compiled
    questions: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CompiledCriterion:
    criterion: PolicyCriterion
    when: Compiled
    source: Source


@dataclass(frozen=True, slots=True)
class CompiledPathway:
    """A policy pathway: every criterion must hold (Kleene 'all')."""

    policy: Policy
    pathway: PolicyPathway
    criteria: tuple[CompiledCriterion, ...]
    sources: tuple[Source, ...]

    @property
    def id(self) -> str:
        return f"{self.policy.id}:{self.pathway.id}"

    def run(self, env: Env) -> Tri:
        outcomes = [c.when.run(env) for c in self.criteria]
        if False in outcomes:
            return False
        return None if None in outcomes else True


@dataclass(frozen=True, slots=True)
class CompiledPolicy:
    policy: Policy
    pathways: tuple[CompiledPathway, ...]

    def run(self, env: Env) -> Tri:
        """Candidate if any pathway holds, not if none can, unknown otherwise."""
        outcomes = [p.run(env) for p in self.pathways]
        if True in outcomes:
            return True
        return None if None in outcomes else False


@dataclass(frozen=True, slots=True)
class CompiledEducation:
    id: str
    when: Compiled | None


class Knowledge:
    """The checked knowledge base and its compiled, ready-to-run form."""

    def __init__(self, data: KnowledgeBase) -> None:
        self.data = data
        self.version = data.version
        every = (*data.thresholds, *(t for p in data.policies for t in p.thresholds))
        self.thresholds: Mapping[str, float] = {t.id: t.value for t in every}
        self.threshold_info: Mapping[str, Threshold] = {t.id: t for t in every}
        self.facts: Mapping[str, Fact] = {f.id: f for f in data.facts}
        self.readers = tuple(_reader(f) for f in data.facts if not f.derived)
        self.tables = tuple(self._table(t) for t in data.tables)
        self.counts = tuple(
            CompiledCount(f, tuple(self.compile(c) for c in f.count_true))
            for f in data.facts
            if f.count_true
        )
        self.labels = {f.id: f.clinician for f in data.facts}
        # The emergency screen: questions asked of everyone first; not asked = never routine.
        self.emergency_questions = frozenset(f.id for f in data.facts if "emergency" in f.groups)
        # Unanswered narrower questions that a broader 'no' answers 'no' (facts.yaml implied_no).
        self.implied_no: Mapping[str, str] = {
            f.id: f.implied_no for f in data.facts if f.implied_no is not None
        }
        # Answers whose 'not sure' calls for same-day contact (FW-URG-001): the emergency
        # questions and the findings that alone make an emergency, as facts.yaml lists them.
        unsure = self.facts.get(EMERGENCY_NOT_SURE)
        self.emergency_unsure = unsure.derived_from if unsure else tuple(self.emergency_questions)
        # Missing information is listed by importance, then in dictionary order.
        ranked = sorted(enumerate(data.facts), key=lambda item: (-item[1].importance, item[0]))
        self.fact_order = {f.id: rank for rank, (_, f) in enumerate(ranked)}
        self.count_members = {c.fact.id: _members(c) for c in self.counts}
        # Facts that are not themselves questions expand to the questions behind them.
        self.expand: Mapping[str, tuple[str, ...]] = {
            **{f.id: f.derived_from for f in data.facts if f.derived and not f.patient},
            **self.count_members,
        }
        self.rules: Mapping[RuleKind, tuple[CompiledRule, ...]] = {
            kind: tuple(
                self._rule(r)
                for r in sorted(data.rules, key=lambda r: (-r.priority, r.id))
                if r.kind is kind
            )
            for kind in RuleKind
        }
        self.probe_numbers = self._probe_numbers()
        self.education = tuple(
            CompiledEducation(e.id, None if e.show_when is None else self.compile(e.show_when))
            for e in data.education
        )
        self.citations = {c.id: c for c in data.citations}
        # Coverage policies are shown criterion by criterion, each with its own locator.
        self.policies: Mapping[str, CompiledPolicy] = {p.id: self._policy(p) for p in data.policies}
        self.rule_sources = {
            r.id: tuple(self.source(e.cite, e.locator) for e in r.evidence) for r in data.rules
        }
        self.education_items = {
            e.id: EducationItem(
                e.id,
                e.kind.value,
                e.title,
                e.body,
                tuple(self.source(s, e.title) for s in e.sources),
            )
            for e in data.education
        }
        # The notice each reader's report ends with (the checker requires one per reader).
        self.disclaimers: Mapping[str, str] = {
            reader: e.id
            for e in data.education
            if e.kind.value == "disclaimer"
            for reader in ("patient", "clinician")
            if e.audience in {reader, "both"}
        }
        self.translations: Mapping[str, Mapping[str, EducationItem]] = {
            language: {t.id: self._translated(t) for t in items}
            for language, items in data.translations.items()
        }

    @property
    def languages(self) -> tuple[str, ...]:
        """The source language first, then every language the education is translated into."""
        return (SOURCE_LANGUAGE, *sorted(self.translations))

    def education_item(
        self, item_id: str, language: str = SOURCE_LANGUAGE, *, fallback: bool = False
    ) -> EducationItem:
        """An education item in ``language``; English stands in only when ``fallback`` says so.

        The checker guarantees that a known language has every item, so the fallback can only
        apply to a language the knowledge base does not have at all.
        """
        if language == SOURCE_LANGUAGE:
            return self.education_items[item_id]
        translated = self.translations.get(language, {})
        if item_id in translated:
            return translated[item_id]
        if fallback and item_id in self.education_items:
            return self.education_items[item_id]
        raise LookupError(f"no {language!r} text for education item {item_id!r}")

    def _translated(self, text: Translation) -> EducationItem:
        source = self.education_items[text.id]
        return EducationItem(text.id, source.kind, text.title, text.body, source.sources)

    def source(self, cite: str, locator: str) -> Source:
        c = self.citations[cite]
        return Source(cite, c.title, locator, c.strength.value, c.url)

    def _policy(self, policy: Policy) -> CompiledPolicy:
        pathways = tuple(
            CompiledPathway(
                policy,
                pathway,
                tuple(
                    CompiledCriterion(c, self.compile(c.when), self.source(policy.cite, c.locator))
                    for c in pathway.criteria
                ),
                (self.source(policy.cite, pathway.title),),
            )
            for pathway in policy.pathways
        )
        return CompiledPolicy(policy, pathways)

    def describe(self, cond: Any) -> str:
        return describe(cond, self.labels, self.thresholds)

    def _rule(self, rule: Rule) -> CompiledRule:
        when = self.compile(rule.when)
        return CompiledRule(rule, when, self.questions(when.facts))

    def questions(self, facts: tuple[str, ...]) -> tuple[str, ...]:
        """The answerable questions behind facts: derived facts expand to their inputs."""
        found: dict[str, None] = {}
        for fact in facts:
            if fact in self.expand:
                found.update(dict.fromkeys(self.questions(self.expand[fact])))
            elif not fact.startswith("result."):
                found[fact] = None
        return tuple(found)

    def _probe_numbers(self) -> dict[str, tuple[float, ...]]:
        """Per number fact: each threshold compared with it, and just either side (openinputs)."""
        limits: dict[str, set[float]] = {}
        conditions = [r.when for r in self.data.rules]
        conditions += [cond for f in self.data.facts for cond in f.count_true]
        for cond in conditions:
            for leaf in leaves(cond):
                if isinstance(leaf, Compare):
                    for _, ref in leaf.bounds():
                        limits.setdefault(leaf.fact, set()).add(self.thresholds[ref])
        for table in self.data.tables:
            for row in table.rows:
                for bound in (row.gt, row.gte, row.lt, row.lte):
                    if bound is not None:
                        limits.setdefault(table.input, set()).add(self.thresholds[bound])
        step = 0.01
        return {
            fact: tuple(sorted({v + d for v in values for d in (-step, 0.0, step)}))
            for fact, values in limits.items()
        }

    def compile(self, cond: Any) -> Compiled:
        return compile_condition(cond, self.thresholds)

    def _table(self, table: Table) -> CompiledTable:
        bands = []
        for index, row in enumerate(table.rows):
            bounds = {k: getattr(row, k) for k in ("gt", "gte", "lt", "lte")}
            test = self.compile(Compare(fact=table.input, **bounds)).run
            bands.append(Band(test, row.output, index))
        return CompiledTable(table, tuple(bands))


def _members(count: CompiledCount) -> tuple[str, ...]:
    return tuple(dict.fromkeys(f for part in count.parts for f in part.facts))


def _reader(fact: Fact) -> Reader:
    return Reader(fact.id, attrgetter(fact.id), fact.type is FactType.ANSWER)
