"""Missing information that truly changes the result: each open input, tried with each answer.

An open input is listed only when one of its possible answers (each choice, yes and no, or each
side of a band edge for a number) changes the triage, the suspicion band or a recommendation; the
item says which way ("if yes: triage emergency"). Items are ordered by the size of the change
(triage before suspicion before plan). A follow-up question is not asked before the question it
depends on (HbA1c only once diabetes is yes).

Cost is kept to a few milliseconds a case by three choices: only inputs that can still move a
rule are tried (Kleene logic is monotone, so a rule already true or false stays so when an unknown
becomes known; counts and bands are the exception and are always tried); a trial reruns only the
decision (bands, counts, rules), never the explanations; and the edge values of each number are
worked out once per knowledge base.
"""

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from fusionwatch.core.compiled import CompiledPolicy, Knowledge
from fusionwatch.core.followup import counted_signs
from fusionwatch.core.knowledge import Compare, FactType, Known, RuleKind
from fusionwatch.core.logic import Compiled, Predicate, leaves
from fusionwatch.core.results import MissingItem
from fusionwatch.core.vocab import SUSPICION_ORDER, TRIAGE_ORDER, Triage

PLAN_KINDS = (
    RuleKind.NEXT_STEP,
    RuleKind.RISK_FACTOR,
    RuleKind.MANAGEMENT,
    RuleKind.REVISION,
    RuleKind.OBSERVATION,
)
_TRIAGE_WORDS = {
    "routine": "routine",
    "prompt_referral": "prompt referral",
    "urgent": "urgent",
    "emergency": "emergency",
}
# Inputs answered through a derived fact: the question, and the derived facts a trial sets.
_TIME = "surgery.date"
_LEVELS = "surgery.levels"
_EPSILON = 0.05


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a trial is judged by: triage, suspicion band, and the recommendations that fire."""

    triage: str
    suspicion: str
    plan: frozenset[str]


@dataclass(frozen=True, slots=True)
class _Change:
    """How a trial differs: rank 0 triage, 1 suspicion, 2 plan; larger size first."""

    rank: int
    size: int
    words: str
    rules: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class _Trials:
    """What can be tried, worked out once per knowledge base."""

    edges: Mapping[str, tuple[float, ...]]
    known_readers: Mapping[str, frozenset[str]]
    feeds: frozenset[str]
    titles: Mapping[str, str]
    reads: Mapping[str, frozenset[str]]
    count_reads: Mapping[str, frozenset[str]]
    ask_if: Mapping[str, Compiled]


def decide(kb: Knowledge, env: dict[str, Any], policy: CompiledPolicy) -> Outcome:
    """The decision alone, in the engine's order and with its precedence (no explanations)."""
    return _Decider(kb, policy).base(env)


class _Decider:
    """Decides a case once in full, then decides trials by rerunning only the rules they move.

    A trial works out again only what a moved rule or a changed fact can reach: the suspicion
    band when a suspicion rule or cap moved or a fact "cannot tell" reads changed, the triage
    when a triage rule moved, the stimulator gate when a gate rule moved. Everything else is the
    case's own outcome, so most trials cost a handful of rule calls.
    """

    def __init__(self, kb: Knowledge, policy: CompiledPolicy) -> None:
        self.kb, self.policy, self.index = kb, policy, _index(kb)
        self.policy_reads = _trials(kb).reads[policy.policy.id]
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
    )


def what_would_change(
    kb: Knowledge, env: Mapping[str, Any], policy: CompiledPolicy, unknown: set[str]
) -> tuple[MissingItem, ...]:
    """Each open input whose answer would change the result, biggest change first.

    ``env`` holds the case's facts after derivation; ``unknown`` the ids of rules that could not
    be assessed (only their inputs, and inputs of counts and bands, can change anything).
    """
    trials = _trials(kb)
    base_env = {k: v for k, v in env.items() if not k.startswith("result.")}
    ready = _ready(kb, base_env)
    decider = _Decider(kb, policy)
    base = decider.base(dict(ready))
    movable = _movable(kb, unknown) | trials.feeds
    found = []
    for fact, targets, values in _candidates(kb, base_env, trials, movable):
        seen: list[_Change | None] = []
        for value, _ in values:
            trial, changed = _trial(kb, ready, targets, value)
            seen.append(_difference(base, decider.trial(trial, changed), trials, fact))
        changes = _ranges(values, seen) if _is_number(values) else _pairs(values, seen)
        if changes:
            found.append(_item(kb, fact, changes))
    found.sort(key=lambda pair: pair[0])
    return tuple(item for _, item in found)


def _movable(kb: Knowledge, unknown: set[str]) -> set[str]:
    """Inputs read by a rule, pathway or gate that could not be assessed."""
    found: set[str] = set()
    for rules in kb.rules.values():
        for compiled in rules:
            if compiled.rule.id in unknown:
                found.update(compiled.questions)
    for policy in kb.policies.values():
        for pathway in policy.pathways:
            for criterion in pathway.criteria:
                found.update(kb.questions(criterion.when.facts))
    return found


def _candidates(
    kb: Knowledge, env: Mapping[str, Any], trials: _Trials, movable: set[str]
) -> Iterator[tuple[str, tuple[str, ...], list[tuple[object, str]]]]:
    if env.get("derived.months_since_surgery") is None:
        months = trials.edges.get("derived.months_since_surgery", ())
        yield _TIME, ("derived.months_since_surgery",), _number_values(months)
    if env.get("derived.level_count") is None:
        levels = [((n, n + 1), f"{n} level{'s' if n > 1 else ''}") for n in (1, 2, 3, 4)]
        yield _LEVELS, ("derived.level_count", "derived.vertebra_count"), list(levels)
    for fact in kb.data.facts:
        if fact.derived or fact.id not in movable or env.get(fact.id) is not None:
            continue
        ask = trials.ask_if.get(fact.id)
        if ask is not None and ask.run(env) is not True:
            continue
        values = _values(fact.type, fact.values, trials.edges.get(fact.id, ()))
        if values:
            yield fact.id, (fact.id,), values


def _values(
    kind: FactType, choices: tuple[str, ...], edges: tuple[float, ...]
) -> list[tuple[object, str]]:
    if kind is FactType.ANSWER:
        return [(True, "yes"), (False, "no")]
    if kind is FactType.CHOICE:
        return [(value, value.replace("_", " ")) for value in choices]
    if kind is FactType.NUMBER:
        return _number_values(edges)
    return []


def _number_values(edges: tuple[float, ...]) -> list[tuple[object, str]]:
    """Each side of each band edge, in rising order: just below (<), at (=) and just above (>)."""
    values: list[tuple[object, str]] = []
    for edge in edges:
        values += [(edge - _EPSILON, f"< {edge:g}"), (edge, f"= {edge:g}")]
        values += [(edge + _EPSILON, f"> {edge:g}")]
    return values


def _is_number(values: list[tuple[object, str]]) -> bool:
    return bool(values) and values[0][1].startswith("< ")


def _pairs(
    values: list[tuple[object, str]], seen: list[_Change | None]
) -> list[tuple[str, _Change]]:
    return [(words, change) for (_, words), change in zip(values, seen, strict=True) if change]


def _ranges(
    values: list[tuple[object, str]], seen: list[_Change | None]
) -> list[tuple[str, _Change]]:
    """Runs of neighbouring trial values with the same change, as one range ("≥ 9 and < 12")."""
    runs: list[tuple[int, int, _Change]] = []
    for index, change in enumerate(seen):
        if change is None:
            continue
        if runs and runs[-1][1] == index - 1 and runs[-1][2].words == change.words:
            runs[-1] = (runs[-1][0], index, runs[-1][2])
        else:
            runs.append((index, index, change))
    last = len(values) - 1
    return [(_span(values, first, end, last), change) for first, end, change in runs]


def _span(values: list[tuple[object, str]], first: int, end: int, last: int) -> str:
    low, high = values[first][1], values[end][1]
    lower = None if first == 0 else ("≥ " if low.startswith("=") else "> ") + low[2:]
    upper = None if end == last else ("≤ " if high.startswith("=") else "< ") + high[2:]
    if lower and upper:
        return f"{lower} and {upper}"
    return lower or upper or "any value"


def _trial(
    kb: Knowledge, base: Mapping[str, Any], targets: tuple[str, ...], value: object
) -> tuple[dict[str, Any], set[str]]:
    """The facts with one input set, and the facts that differ (bands and counts redone)."""
    trials = _trials(kb)
    env = dict(base)
    parts = value if isinstance(value, tuple) and len(targets) > 1 else (value,) * len(targets)
    changed = set()
    for target, part in zip(targets, parts, strict=True):
        if env.get(target) != part:
            env[target] = part
            changed.add(target)
    if changed & _SIGN_ANSWERS:
        _note(env, counted_signs(env), changed)
    for table in kb.tables:
        if table.table.input in changed:
            _note(env, {table.table.output: table.apply(env)[0]}, changed)
    for count in kb.counts:
        if not changed.isdisjoint(trials.count_reads[count.fact.id]):
            total = sum(1 for part in count.parts if part.run(env) is True)
            _note(env, {count.fact.id: total}, changed)
    return env, changed


def _ready(kb: Knowledge, env: Mapping[str, Any]) -> dict[str, Any]:
    """The case's facts with bands and counts, as the engine has them before the rules run."""
    ready = dict(env)
    for table in kb.tables:
        ready[table.table.output] = table.apply(ready)[0]
    for count in kb.counts:
        ready[count.fact.id] = sum(1 for part in count.parts if part.run(ready) is True)
    return ready


def _note(env: dict[str, Any], values: Mapping[str, object], changed: set[str]) -> None:
    for fact, value in values.items():
        if env.get(fact) != value:
            env[fact] = value
            changed.add(fact)


_SIGN_ANSWERS = frozenset({"signs.improved_then_worse", "signs.no_expected_recovery"})


def _difference(base: Outcome, trial: Outcome, trials: _Trials, fact: str) -> _Change | None:
    """The biggest way a trial differs from the case as it stands, or None."""
    if trial.triage != base.triage:
        size = abs(TRIAGE_ORDER[trial.triage] - TRIAGE_ORDER[base.triage])
        return _Change(0, size, f"triage {_TRIAGE_WORDS[trial.triage]}")
    if trial.suspicion != base.suspicion:
        size = abs(SUSPICION_ORDER[trial.suspicion] - SUSPICION_ORDER[base.suspicion])
        return _Change(1, size, f"suspicion {trial.suspicion}")
    # A step that only asks for this very answer ("record the exam") is not a change of plan.
    moot = trials.known_readers.get(fact, frozenset())
    added = sorted(trial.plan - base.plan - moot)
    dropped = sorted(base.plan - trial.plan - moot)
    if not added and not dropped:
        return None
    words = [f"adds '{trials.titles[r]}'" for r in added]
    words += [f"drops '{trials.titles[r]}'" for r in dropped]
    return _Change(2, len(added) + len(dropped), "; ".join(words), (*added, *dropped))


def _item(
    kb: Knowledge, fact: str, changes: list[tuple[str, _Change]]
) -> tuple[tuple[int, int, int], MissingItem]:
    definition = kb.facts[fact]
    biggest = min(changes, key=lambda pair: (pair[1].rank, -pair[1].size))[1]
    merged: dict[str, list[str]] = {}
    for words, change in changes:
        merged.setdefault(change.words, []).append(words)
    said = tuple(f"if {' or '.join(values)}: {change}" for change, values in merged.items())
    item = MissingItem(
        fact=fact,
        question=definition.patient or definition.clinician,
        clinician=definition.clinician,
        stakes=_stakes(biggest),
        affects=tuple(dict.fromkeys(r for _, c in changes for r in c.rules)),
        changes=said,
    )
    return (biggest.rank, -biggest.size, kb.fact_order.get(fact, 0)), item


def _stakes(change: _Change) -> str:
    """The result's vocabulary: emergency or urgency (triage), suspicion, plan."""
    if change.rank == 0:
        return "emergency" if change.words.endswith("emergency") else "urgency"
    return ("triage", "suspicion", "plan")[change.rank]


@cache
def _trials(kb: Knowledge) -> _Trials:
    edges: dict[str, set[float]] = {}
    for cond in _conditions(kb):
        for leaf in leaves(cond):
            if isinstance(leaf, Compare):
                for _, ref in leaf.bounds():
                    edges.setdefault(leaf.fact, set()).add(kb.thresholds[ref])
    for table in kb.tables:
        for row in table.table.rows:
            for bound in (row.gt, row.gte, row.lt, row.lte):
                if bound is not None:
                    edges.setdefault(table.table.input, set()).add(kb.thresholds[bound])
    known: dict[str, set[str]] = {}
    for rules in kb.rules.values():
        for compiled in rules:
            for leaf in leaves(compiled.rule.when):
                if isinstance(leaf, Known):
                    known.setdefault(leaf.known, set()).add(compiled.rule.id)
    feeds = {q for members in kb.count_members.values() for q in kb.questions(members)}
    feeds |= {t.table.input for t in kb.tables}
    return _Trials(
        edges={fact: tuple(sorted(values)) for fact, values in edges.items()},
        known_readers={fact: frozenset(ids) for fact, ids in known.items()},
        feeds=frozenset(feeds),
        titles={r.id: r.title for r in kb.data.rules},
        reads=_reads(kb),
        count_reads={c.fact.id: frozenset(kb.count_members[c.fact.id]) for c in kb.counts},
        ask_if={f.id: kb.compile(f.ask_if) for f in kb.data.facts if f.ask_if is not None},
    )


def _reads(kb: Knowledge) -> dict[str, frozenset[str]]:
    """The facts each rule and each policy reads (a policy: all its criteria)."""
    reads = {c.rule.id: frozenset(c.when.facts) for rules in kb.rules.values() for c in rules}
    for policy in kb.policies.values():
        facts = {f for p in policy.pathways for c in p.criteria for f in c.when.facts}
        reads[policy.policy.id] = frozenset(facts)
    return reads


def _conditions(kb: Knowledge) -> Iterator[Any]:
    yield from (r.when for r in kb.data.rules)
    yield from (c for f in kb.data.facts for c in f.count_true)
    for policy in kb.data.policies:
        yield from (c.when for p in policy.pathways for c in p.criteria)
