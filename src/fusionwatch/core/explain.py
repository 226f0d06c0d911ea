"""Turns rule outcomes into explanations: conclusions with findings and sources, missing data."""

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from fusionwatch.core.compiled import CompiledEducation, CompiledPathway, CompiledRule, Knowledge
from fusionwatch.core.knowledge import RuleKind
from fusionwatch.core.results import (
    Conclusion,
    EducationItem,
    Finding,
    MissingItem,
    Source,
    show_value,
)

# A rule's text may quote a value it read: {fact.id}, checked at load time (core.checks).
PLACEHOLDER = re.compile(r"\{([a-z_]+(?:\.[a-z0-9_]+)+)\}")

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

    def __init__(
        self, kb: Knowledge, env: Mapping[str, Any], site_texts: Mapping[str, str] | None = None
    ) -> None:
        self.kb, self.env = kb, env
        # What "{site.urgent_line}" reads in a patient text (core.site.SITE_TEXTS).
        self.site_texts = dict(site_texts or {})

    def seen(self, compiled: CompiledRule) -> tuple[Finding, ...]:
        labels, env = self.kb.labels, self.env
        return tuple(Finding(f, labels[f], env.get(f)) for f in compiled.when.facts)

    def conclusion(self, compiled: CompiledRule) -> Conclusion:
        rule, fill = compiled.rule, self.fill
        return Conclusion(
            rule=rule.id,
            kind=rule.kind.value,
            title=rule.title,
            summary=fill(rule.then.summary),
            patient=fill(self.site_words(rule.then.patient), self.kb.data.decimal_sign),
            clinician=fill(rule.then.clinician),
            because=self.seen(compiled),
            sources=self.kb.rule_sources[rule.id],
            level=rule.then.level,
            target=rule.then.target,
        )

    def pathway(self, compiled: CompiledPathway) -> Conclusion:
        """A policy pathway that holds, as a conclusion with the facts its criteria read."""
        pathway, labels, env = compiled.pathway, self.kb.labels, self.env
        facts = dict.fromkeys(f for c in compiled.criteria for f in c.when.facts)
        return Conclusion(
            rule=compiled.id,
            kind=RuleKind.STIMULATOR.value,
            title=f"{compiled.policy.title}: {pathway.title}",
            summary=pathway.summary,
            patient=pathway.patient,
            clinician=pathway.clinician,
            because=tuple(Finding(f, labels[f], env.get(f)) for f in facts),
            sources=(*compiled.sources, *(c.source for c in compiled.criteria)),
            target=compiled.policy.id,
        )

    def fill(self, text: str, decimal_sign: str = ".") -> str:
        """Write the values a rule read into its text ("the CT of month {derived.last_ct_month}"),
        a decimal with the sign of the text's language (the patient's; clinician texts are English).
        """
        if "{" not in text:
            return text
        return PLACEHOLDER.sub(lambda m: _shown_value(self.env.get(m.group(1)), decimal_sign), text)

    def site_words(self, text: str) -> str:
        """The site's words in a patient text: "{site.urgent_line}" as "NHS 111", or the default."""
        for key, words in self.site_texts.items():
            text = text.replace(f"{{{key}}}", words)
        return text

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


def _shown_value(value: object, decimal_sign: str = ".") -> str:
    """A value written into a text. The numbers texts name are months (a study's, the time since
    surgery), shown to a tenth: "66.5 months", not the 66.53 that dates give."""
    if isinstance(value, float):
        return f"{round(value, 1):g}".replace(".", decimal_sign)
    return show_value(value if isinstance(value, bool | int | str) else None)


def _shown(item: CompiledEducation, kind: str, env: Mapping[str, Any]) -> bool:
    """Glossary entries appear only when relevant; other items without a condition always do."""
    if item.when is None:
        return kind != "glossary"
    return item.when.run(env) is True
