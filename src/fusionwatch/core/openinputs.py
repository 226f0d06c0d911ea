"""Open inputs that could raise a result: unknown facts that, answered one way, fire a rule.

A routine triage or a low suspicion band must never read as reassurance while such an input is
open (issue 11, decision 0009). Each rule that did not fire and could raise the result is tried
with each of its unknown facts set, one at a time, to every value that matters (yes / no, each
choice, each threshold a comparison names and just either side of it); counts and banding
tables that read the fact are worked out again. The questions behind a fact that raises the
result are returned: one that fires the rule, or one that leaves it unknown where the engine reads
an unknown as a raise (a suspicion rule while the time since surgery is unknown turns "low" into
"cannot tell"; an emergency rule asking an unanswered screen question keeps a routine result
pending). Counts make this possible: a count reads an unknown member as not counted, so answering
it can turn a rule that was false into one that is unknown. This is a one-input-at-a-time test: it
names every input that could raise the result on its own, which is what the headline must name.
"""

from collections.abc import Callable, Iterable, Iterator, Mapping
from functools import cache
from typing import Any

from fusionwatch.core.compiled import CompiledCount, CompiledRule, CompiledTable, Knowledge
from fusionwatch.core.knowledge import FactType, RuleKind
from fusionwatch.core.logic import Tri
from fusionwatch.core.vocab import SUSPICION_ORDER, TRIAGE_ORDER, Suspicion, Triage

_RULE_TRIAGE = {
    RuleKind.EMERGENCY: "emergency",
    RuleKind.URGENT: "urgent",
    RuleKind.REFERRAL: "prompt_referral",
}


# Whether a rule's outcome on a probe raises the result: the rule, the outcome, the probe.
_Raises = Callable[[CompiledRule, Tri, Mapping[str, Any]], bool]


def raising_questions(
    kb: Knowledge, env: Mapping[str, Any], triage: str, suspicion: str
) -> tuple[frozenset[str], frozenset[str]]:
    """The questions whose answer alone could raise the triage, and the suspicion band."""
    rules = tuple(_could_raise(kb, triage, suspicion))
    others = [c for c in rules if c.rule.kind is not RuleKind.SUSPICION]
    bands = [c for c in rules if c.rule.kind is RuleKind.SUSPICION]

    def raises_triage(compiled: CompiledRule, outcome: Tri, probe: Mapping[str, Any]) -> bool:
        if outcome is True:
            return True
        pending = triage == Triage.ROUTINE and compiled.rule.kind is RuleKind.EMERGENCY
        return pending and outcome is None and asks_screen(kb, compiled, probe)

    def raises_band(compiled: CompiledRule, outcome: Tri, probe: Mapping[str, Any]) -> bool:
        if outcome is True:
            return True
        untimed = probe.get("derived.months_since_surgery") is None
        return suspicion == Suspicion.LOW and outcome is None and untimed

    return _raising(kb, env, others, raises_triage), _raising(kb, env, bands, raises_band)


def asks_screen(kb: Knowledge, compiled: CompiledRule, env: Mapping[str, Any]) -> bool:
    """Whether a rule asks an emergency-screen question that is still unanswered."""
    return any(f in kb.emergency_questions and env.get(f) is None for f in compiled.questions)


def _raising(
    kb: Knowledge, env: Mapping[str, Any], rules: list[CompiledRule], raises: _Raises
) -> frozenset[str]:
    """Each open fact is probed once, against every rule that reads it and has not fired."""
    readers: dict[str, list[CompiledRule]] = {}
    for compiled in rules:
        if compiled.when.run(env) is True:
            continue
        for fact in _open_facts(kb, compiled, env):
            readers.setdefault(fact, []).append(compiled)
    found: set[str] = set()
    for fact, reading in readers.items():
        questions = kb.questions((fact,))
        if found.issuperset(questions):
            continue
        probes = _probes(kb, dict(env), fact)
        if any(raises(c, c.when.run(probe), probe) for probe in probes for c in reading):
            found.update(questions)
    return frozenset(found)


def _could_raise(kb: Knowledge, triage: str, suspicion: str) -> Iterator[CompiledRule]:
    for kind, level in _RULE_TRIAGE.items():
        if TRIAGE_ORDER[level] > TRIAGE_ORDER[triage]:
            yield from kb.rules[kind]
    for compiled in kb.rules[RuleKind.SUSPICION]:
        level = compiled.rule.then.level or "low"
        # From "low", any suspicion rule left unknown can make the band "cannot tell".
        if suspicion == Suspicion.LOW or SUSPICION_ORDER[level] > SUSPICION_ORDER[suspicion]:
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
    tables, counts = _reached(kb, fact)
    for value in _values(kb, fact):
        probe[fact] = value
        for table in tables:
            probe[table.table.output] = table.apply(probe)[0]
        for count in counts:
            probe[count.fact.id] = sum(1 for p in count.parts if p.run(probe) is True)
        yield probe


@cache
def _reached(
    kb: Knowledge, fact: str
) -> tuple[tuple[CompiledTable, ...], tuple[CompiledCount, ...]]:
    """The bands that read a fact, and the counts that read it or those bands."""
    tables = tuple(t for t in kb.tables if t.table.input == fact)
    reach = {fact, *(t.table.output for t in tables)}
    counts = tuple(c for c in kb.counts if not reach.isdisjoint(kb.count_members[c.fact.id]))
    return tables, counts


def _values(kb: Knowledge, fact: str) -> Iterable[object]:
    definition = kb.facts[fact]
    if definition.type is FactType.ANSWER:
        return (True, False)
    if definition.type is FactType.CHOICE:
        return definition.values
    if definition.type is FactType.NUMBER:
        return kb.probe_numbers.get(fact, ())
    return ()
