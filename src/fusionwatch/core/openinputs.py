"""Open inputs that could raise a result: unknown facts that, answered one way, fire a rule.

A routine triage or a low suspicion band must never read as reassurance while such an input is
open (issue 11, decision 0009). Each rule that did not fire and could raise the result is tried
with each of its unknown facts set, one at a time, to every value that matters (yes / no, each
choice, each threshold a comparison names and just either side of it); counts and banding
tables that read the fact are worked out again. The questions behind a fact that fires the rule
are returned. This is a one-input-at-a-time test: it names every input that could raise the
result on its own, which is what the headline must name.
"""

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from fusionwatch.core.compiled import CompiledRule, Knowledge
from fusionwatch.core.knowledge import FactType, RuleKind
from fusionwatch.core.vocab import SUSPICION_ORDER, TRIAGE_ORDER

_RULE_TRIAGE = {
    RuleKind.EMERGENCY: "emergency",
    RuleKind.URGENT: "urgent",
    RuleKind.REFERRAL: "prompt_referral",
}


def raising_questions(
    kb: Knowledge, env: Mapping[str, Any], triage: str, suspicion: str
) -> tuple[frozenset[str], frozenset[str]]:
    """The questions whose answer alone could raise the triage, and the suspicion band."""
    rules = tuple(_could_raise(kb, triage, suspicion))
    raise_triage = _raising(kb, env, [c for c in rules if c.rule.kind is not RuleKind.SUSPICION])
    raise_band = _raising(kb, env, [c for c in rules if c.rule.kind is RuleKind.SUSPICION])
    return raise_triage, raise_band


def _raising(kb: Knowledge, env: Mapping[str, Any], rules: list[CompiledRule]) -> frozenset[str]:
    found: set[str] = set()
    for compiled in rules:
        if compiled.when.run(env) is True:
            continue
        for fact in _open_facts(kb, compiled, env):
            if any(compiled.when.run(probe) is True for probe in _probes(kb, dict(env), fact)):
                found.update(kb.questions((fact,)))
    return frozenset(found)


def _could_raise(kb: Knowledge, triage: str, suspicion: str) -> Iterator[CompiledRule]:
    for kind, level in _RULE_TRIAGE.items():
        if TRIAGE_ORDER[level] > TRIAGE_ORDER[triage]:
            yield from kb.rules[kind]
    for compiled in kb.rules[RuleKind.SUSPICION]:
        if SUSPICION_ORDER[compiled.rule.then.level or "low"] > SUSPICION_ORDER[suspicion]:
            yield compiled


def _open_facts(kb: Knowledge, compiled: CompiledRule, env: Mapping[str, Any]) -> Iterator[str]:
    """Unknown facts the rule reads, with the members of the counts it reads."""
    for fact in compiled.when.facts:
        if fact.startswith("result."):
            continue
        members = kb.count_members.get(fact)
        if members is None:
            if env.get(fact) is None:
                yield fact
            continue
        yield from (m for m in members if env.get(m) is None)


def _probes(kb: Knowledge, probe: dict[str, Any], fact: str) -> Iterator[dict[str, Any]]:
    """The same scratch copy of the facts, with one fact answered each way in turn."""
    tables = [t for t in kb.tables if t.table.input == fact]
    outputs = {t.table.output for t in tables}
    counts = [c for c in kb.counts if {fact, *outputs} & set(kb.count_members[c.fact.id])]
    for value in _values(kb, fact):
        probe[fact] = value
        for table in tables:
            probe[table.table.output] = table.apply(probe)[0]
        for count in counts:
            probe[count.fact.id] = sum(1 for p in count.parts if p.run(probe) is True)
        yield probe


def _values(kb: Knowledge, fact: str) -> Iterable[object]:
    definition = kb.facts[fact]
    if definition.type is FactType.ANSWER:
        return (True, False)
    if definition.type is FactType.CHOICE:
        return definition.values
    if definition.type is FactType.NUMBER:
        return kb.probe_numbers.get(fact, ())
    return ()
