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

from fusionwatch.core.compiled import CompiledCount, CompiledPolicy, CompiledTable, Knowledge
from fusionwatch.core.decision import Decider, Outcome
from fusionwatch.core.followup import counted_signs
from fusionwatch.core.knowledge import Compare, FactType, Known
from fusionwatch.core.logic import Compiled, leaves
from fusionwatch.core.results import MissingItem
from fusionwatch.core.vocab import SUSPICION_ORDER, TRIAGE_ORDER

_TRIAGE_WORDS = {
    "routine": "routine",
    "prompt_referral": "prompt referral",
    "urgent": "urgent",
    "emergency": "emergency",
}
# Inputs answered through a derived fact: the question, and the derived facts a trial sets.
_TIME = "surgery.date"
_LEVELS = "surgery.levels"
# With the index levels given, an unknown count means a later operation did not name its own.
_OPERATIONS = "surgery.operations"
_EPSILON = 0.05


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
    count_reads: Mapping[str, frozenset[str]]
    ask_if: Mapping[str, Compiled]


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
    decider = Decider(kb, policy)
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
        question = _OPERATIONS if env.get(_LEVELS) else _LEVELS
        yield question, ("derived.level_count", "derived.vertebra_count"), list(levels)
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
    tables, counts = _reached(kb, targets)
    for table in tables:
        if table.table.input in changed:
            _note(env, {table.table.output: table.apply(env)[0]}, changed)
    for count in counts:
        if not changed.isdisjoint(trials.count_reads[count.fact.id]):
            total = sum(1 for part in count.parts if part.run(env) is True)
            _note(env, {count.fact.id: total}, changed)
    return env, changed


@cache
def _reached(
    kb: Knowledge, targets: tuple[str, ...]
) -> tuple[tuple[CompiledTable, ...], tuple[CompiledCount, ...]]:
    """The bands and counts a trial of these targets can reach, in the engine's order."""
    tables = tuple(t for t in kb.tables if t.table.input in targets)
    reach = {*targets, *(t.table.output for t in tables)}
    if reach & _SIGN_ANSWERS:
        reach |= set(counted_signs({}))  # the two time-pattern signs the answers feed
    counts = tuple(c for c in kb.counts if not reach.isdisjoint(kb.count_members[c.fact.id]))
    return tables, counts


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
    if trial == base:
        return None
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
        count_reads={c.fact.id: frozenset(kb.count_members[c.fact.id]) for c in kb.counts},
        ask_if={f.id: kb.compile(f.ask_if) for f in kb.data.facts if f.ask_if is not None},
    )


def _conditions(kb: Knowledge) -> Iterator[Any]:
    yield from (r.when for r in kb.data.rules)
    yield from (c for f in kb.data.facts for c in f.count_true)
    for policy in kb.data.policies:
        yield from (c.when for p in policy.pathways for c in p.criteria)
