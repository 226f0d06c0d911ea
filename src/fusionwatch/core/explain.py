"""Turns rule outcomes into explanations: conclusions with findings and sources, missing data."""

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from fusionwatch.core.compiled import CompiledEducation, CompiledRule, Knowledge
from fusionwatch.core.knowledge import RuleKind
from fusionwatch.core.results import Conclusion, EducationItem, Finding, MissingItem, Source

# Which part of the result an unanswered question could change, most serious first.
_STAKES: Mapping[RuleKind, tuple[int, str]] = {
    RuleKind.EMERGENCY: (0, "emergency"),
    RuleKind.URGENT: (1, "urgency"),
    RuleKind.REFERRAL: (1, "urgency"),
    RuleKind.SUSPICION: (2, "suspicion"),
    RuleKind.SUSPICION_CAP: (2, "suspicion"),
}
_PLAN = (3, "plan")


class Explainer:
    """Builds the explained parts of one assessment from the facts the engine saw."""

    def __init__(self, kb: Knowledge, env: Mapping[str, Any]) -> None:
        self.kb, self.env = kb, env

    def seen(self, compiled: CompiledRule) -> tuple[Finding, ...]:
        labels, env = self.kb.labels, self.env
        return tuple(Finding(f, labels[f], env.get(f)) for f in compiled.when.facts)

    def conclusion(self, compiled: CompiledRule) -> Conclusion:
        rule = compiled.rule
        return Conclusion(
            rule=rule.id,
            kind=rule.kind.value,
            title=rule.title,
            summary=rule.then.summary,
            patient=rule.then.patient,
            clinician=rule.then.clinician,
            because=self.seen(compiled),
            sources=self.kb.rule_sources[rule.id],
            level=rule.then.level,
            target=rule.then.target,
        )

    def education(self) -> list[EducationItem]:
        items = self.kb.education_items
        return [items[e.id] for e in self.kb.education if _shown(e, items[e.id].kind, self.env)]

    def unanswered(
        self, unknown: Sequence[CompiledRule], not_sure: Sequence[str] = ()
    ) -> tuple[MissingItem, ...]:
        """Emergency-screen questions no one asked (clinician findings and "not sure" excluded)."""
        pending = [c for c in unknown if c.rule.kind is RuleKind.EMERGENCY]
        screen = self.kb.emergency_questions
        items = self._collect(pending, [])
        return tuple(m for m in items if m.fact in screen and m.fact not in not_sure)

    def missing(
        self, unknown: Sequence[CompiledRule], quiet: Sequence[CompiledRule]
    ) -> tuple[MissingItem, ...]:
        could_raise = [c for c in quiet if c.rule.kind in _STAKES]
        return self._collect(unknown, could_raise)

    def _collect(
        self, unknown: Sequence[CompiledRule], quiet: Sequence[CompiledRule]
    ) -> tuple[MissingItem, ...]:
        found: dict[str, tuple[tuple[int, int], str, list[str]]] = {}
        order, env = self.kb.fact_order, self.env
        for compiled in [*unknown, *quiet]:
            rank, stakes = _STAKES.get(compiled.rule.kind, _PLAN)
            for fact in compiled.questions:
                if env.get(fact) is not None:
                    continue
                key = (rank, order[fact])
                if fact not in found or key < found[fact][0]:
                    affects = found[fact][2] if fact in found else []
                    found[fact] = (key, stakes, affects)
                found[fact][2].append(compiled.rule.id)
        ordered = sorted(found.items(), key=lambda item: item[1][0])
        return tuple(self.item(fact, stakes, rules) for fact, (_, stakes, rules) in ordered)

    def item(self, fact: str, stakes: str, rules: Sequence[str]) -> MissingItem:
        definition = self.kb.facts[fact]
        return MissingItem(
            fact=fact,
            question=definition.patient or definition.clinician,
            clinician=definition.clinician,
            stakes=stakes,
            affects=tuple(dict.fromkeys(rules)),
        )

    def citations(
        self,
        conclusions: Iterable[Conclusion],
        education: Iterable[EducationItem],
        extra: tuple[Source, ...] = (),
    ) -> tuple[Source, ...]:
        seen: dict[tuple[str, str], Source] = {}
        groups = [c.sources for c in conclusions] + [e.sources for e in education] + [extra]
        for sources in groups:
            for source in sources:
                seen.setdefault((source.cite, source.locator), source)
        return tuple(seen.values())


def _shown(item: CompiledEducation, kind: str, env: Mapping[str, Any]) -> bool:
    """Glossary entries appear only when relevant; other items without a condition always do."""
    if item.when is None:
        return kind != "glossary"
    return item.when.run(env) is True
