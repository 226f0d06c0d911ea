"""The decision alone: triage, suspicion band and plan, without the explanations (what-if).

A case is decided once in full, in the engine's order and with its precedence; a trial (one open
input answered one way) is then decided from the case's remembered rule outcomes, rerunning only
the rules that read a changed fact and working out again only what a moved rule reaches.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from fusionwatch.core.compiled import CompiledPolicy, Knowledge
from fusionwatch.core.knowledge import RuleKind
from fusionwatch.core.logic import Predicate
from fusionwatch.core.vocab import SUSPICION_ORDER, Triage

PLAN_KINDS = (
    RuleKind.NEXT_STEP,
    RuleKind.RISK_FACTOR,
    RuleKind.MANAGEMENT,
    RuleKind.REVISION,
    RuleKind.OBSERVATION,
)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a trial is judged by: triage, suspicion band, and the recommendations that fire."""

    triage: str
    suspicion: str
    plan: frozenset[str]


def decide(kb: Knowledge, env: dict[str, Any], policy: CompiledPolicy) -> Outcome:
    """The decision alone, in the engine's order and with its precedence (no explanations)."""
    return Decider(kb, policy).base(env)


class Decider:
    """Decides a case once in full, then decides trials by rerunning only the rules they move.

    A trial works out again only what a moved rule or a changed fact can reach: the suspicion
    band when a suspicion rule or cap moved or a fact "cannot tell" reads changed, the triage
    when a triage rule moved, the stimulator gate when a gate rule moved. Everything else is the
    case's own outcome, so most trials cost a handful of rule calls.
    """

    def __init__(self, kb: Knowledge, policy: CompiledPolicy) -> None:
        self.kb, self.policy, self.index = kb, policy, _index(kb)
        self.policy_reads = self.index.policy_reads[policy.policy.id]
        self.outcomes: dict[str, bool | None] = {}
        self.gate = False
        self.candidate: bool | None = False
        self.outcome = Outcome(Triage.ROUTINE.value, "low", frozenset())

    def base(self, env: dict[str, Any]) -> Outcome:
        """Every rule in the engine's order; remembered for the trials."""
        outcomes = self.outcomes = {}
        index = self.index
        for kind in _ORDER:
            if kind is RuleKind.CONCORDANCE:
                env["result.suspicion"] = _suspicion(index, outcomes, env)
            for compiled in self.kb.rules[kind]:
                outcomes[compiled.rule.id] = compiled.when.run(env)
        suspicion = _suspicion(index, outcomes, env)
        self.gate = _gate(index, outcomes)
        self.candidate = self.policy.run(env) if self.gate else False
        env["result.stimulator_candidate"] = self.candidate
        for kind in PLAN_KINDS:
            for compiled in self.kb.rules[kind]:
                outcomes[compiled.rule.id] = compiled.when.run(env)
        plan = frozenset(r for r in index.plan if outcomes[r])
        self.outcome = Outcome(_triage(index, outcomes), suspicion, plan)
        return self.outcome

    def trial(self, env: dict[str, Any], changed: set[str]) -> Outcome:
        """The decision with some facts changed, from the remembered outcomes."""
        base, index = self.outcome, self.index
        env["result.suspicion"] = base.suspicion
        env["result.stimulator_candidate"] = self.candidate
        moved: dict[str, bool | None] = {}
        kinds = self._rerun(env, changed, moved)
        suspicion = base.suspicion
        # "Cannot tell" also reads the time since surgery and the core signs, not only rules.
        if kinds & _SUSPICION or not changed.isdisjoint(index.deciding):
            suspicion = _suspicion(index, self.outcomes | moved, env)
        if suspicion != base.suspicion:
            env["result.suspicion"] = suspicion
            kinds = self._rerun(env, {"result.suspicion"}, moved)
        triage = _triage(index, self.outcomes | moved) if kinds & _TRIAGE else base.triage
        gate = _gate(index, self.outcomes | moved) if kinds & _GATE else self.gate
        candidate = self.candidate
        if gate != self.gate or not self.policy_reads.isdisjoint(changed):
            candidate = self.policy.run(env) if gate else False
        if candidate != self.candidate:
            env["result.stimulator_candidate"] = candidate
            kinds = self._rerun(env, {"result.stimulator_candidate"}, moved)
        if not kinds & _PLAN:
            return Outcome(triage, suspicion, base.plan)
        plan = set(base.plan)
        for rule_id, outcome in moved.items():
            if index.kind[rule_id] in _PLAN:
                (plan.add if outcome else plan.discard)(rule_id)
        return Outcome(triage, suspicion, frozenset(plan))

    def _rerun(
        self, env: dict[str, Any], facts: set[str], moved: dict[str, bool | None]
    ) -> set[RuleKind]:
        """Rules that read the facts, run again and kept in ``moved`` where the outcome differs
        from the case's own; returns the kinds of rule that moved."""
        outcomes, readers = self.outcomes, self.index.readers
        for fact in facts:
            for rule_id, run in readers.get(fact, ()):
                outcome = run(env)
                if outcome is outcomes[rule_id]:
                    moved.pop(rule_id, None)
                else:
                    moved[rule_id] = outcome
        kind = self.index.kind
        return {kind[rule_id] for rule_id in moved}


def _triage(index: "_Index", outcomes: Mapping[str, bool | None]) -> str:
    emergency = [outcomes[r] for r in index.emergency]
    if True in emergency:
        return Triage.EMERGENCY.value
    if any(outcomes[r] is True for r in index.urgent):
        return Triage.URGENT.value
    if None in emergency or any(outcomes[r] for r in index.referral):
        return Triage.PROMPT_REFERRAL.value
    return Triage.ROUTINE.value


def _gate(index: "_Index", outcomes: Mapping[str, bool | None]) -> bool:
    return any(outcomes[r] is True for r in index.gate)


_SUSPICION = frozenset({RuleKind.SUSPICION, RuleKind.SUSPICION_CAP})
_TRIAGE = frozenset({RuleKind.EMERGENCY, RuleKind.URGENT, RuleKind.REFERRAL})
_GATE = frozenset({RuleKind.STIMULATOR})
_PLAN = frozenset(PLAN_KINDS)
_ORDER = (
    RuleKind.EMERGENCY,
    RuleKind.URGENT,
    RuleKind.SUSPICION,
    RuleKind.SUSPICION_CAP,
    RuleKind.CONCORDANCE,
    RuleKind.REFERRAL,
    RuleKind.STIMULATOR,
)


def _suspicion(index: "_Index", outcomes: Mapping[str, bool | None], env: Mapping[str, Any]) -> str:
    """Highest band a suspicion rule supports, lowered only by a cap that holds and lowers it;
    "cannot tell" where a low band rests on unknown deciding facts (as the engine decides)."""
    rank = SUSPICION_ORDER.__getitem__
    raised = [level for rule_id, level in index.raises if outcomes.get(rule_id)]
    level = max(raised, key=rank, default="low")
    caps = [cap for rule_id, cap in index.caps if outcomes.get(rule_id)]
    level = min((cap for cap in caps if rank(cap) < rank(level)), key=rank, default=level)
    if level == "low" and _deciding_unknown(index, outcomes, env):
        return "cannot_tell"
    return level


def _deciding_unknown(
    index: "_Index", outcomes: Mapping[str, bool | None], env: Mapping[str, Any]
) -> bool:
    could_rise = any(outcomes.get(rule_id) is None for rule_id, _ in index.raises)
    if env.get("derived.months_since_surgery") is None and could_rise:
        return True
    return bool(index.core_signs) and all(env.get(f) is None for f in index.core_signs)


@dataclass(frozen=True, slots=True)
class _Index:
    """The rules as the decider reads them, worked out once per knowledge base: rule ids by
    kind, bands by rule, and for each fact the rules (of the kinds a decision uses) reading it."""

    kind: Mapping[str, RuleKind]
    emergency: tuple[str, ...]
    urgent: tuple[str, ...]
    referral: tuple[str, ...]
    gate: tuple[str, ...]
    plan: tuple[str, ...]
    raises: tuple[tuple[str, str], ...]
    caps: tuple[tuple[str, str], ...]
    core_signs: tuple[str, ...]
    deciding: frozenset[str]
    readers: Mapping[str, tuple[tuple[str, Predicate], ...]]
    policy_reads: Mapping[str, frozenset[str]]


@cache
def _index(kb: Knowledge) -> _Index:
    def ids(*kinds: RuleKind) -> tuple[str, ...]:
        return tuple(c.rule.id for kind in kinds for c in kb.rules[kind])

    decided = (*_ORDER, *PLAN_KINDS)
    readers: dict[str, list[tuple[str, Predicate]]] = {}
    for kind in decided:
        for compiled in kb.rules[kind]:
            for fact in dict.fromkeys(compiled.when.facts):
                readers.setdefault(fact, []).append((compiled.rule.id, compiled.when.run))
    core = tuple(kb.count_members.get("derived.core_signs", ()))
    return _Index(
        kind={c.rule.id: kind for kind in decided for c in kb.rules[kind]},
        emergency=ids(RuleKind.EMERGENCY),
        urgent=ids(RuleKind.URGENT),
        referral=ids(RuleKind.REFERRAL),
        gate=ids(RuleKind.STIMULATOR),
        plan=ids(*PLAN_KINDS),
        raises=tuple((c.rule.id, c.rule.then.level or "low") for c in kb.rules[RuleKind.SUSPICION]),
        caps=tuple(
            (c.rule.id, c.rule.then.level or "high") for c in kb.rules[RuleKind.SUSPICION_CAP]
        ),
        core_signs=core,
        deciding=frozenset({"derived.months_since_surgery", *core}),
        readers={fact: tuple(pairs) for fact, pairs in readers.items()},
        policy_reads=_policy_reads(kb),
    )


def _policy_reads(kb: Knowledge) -> dict[str, frozenset[str]]:
    """The facts each policy reads (all its criteria)."""
    return {
        policy.policy.id: frozenset(
            f for p in policy.pathways for c in p.criteria for f in c.when.facts
        )
        for policy in kb.policies.values()
    }
