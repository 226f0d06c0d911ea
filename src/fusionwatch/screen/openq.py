"""The worklist's open questions: every unanswered question whose answer alone could change the
episode's triage or suspicion band, as one SQL test per question (packed, ``screen.packed``).

The single-case engine names such questions twice, both by trial: ``missing_information``
(``core.whatif``: each open input set to each answer and the decision run again; a change of
triage or band has ``stakes`` other than "plan") and ``triage.depends_on`` (``core.openinputs``:
the questions whose answer alone could raise a routine result or a low band, where a rule left
unknown can count as a raise). As SQL a trial would run the whole query once per input and
answer. The screen lists instead a **superset of both**, by the logic the engine runs on:

- Kleene logic is monotone: a rule that is already true or false stays so when an unknown fact
  it reads directly becomes known. So a question read directly by an emergency, urgent,
  referral, suspicion or cap rule can change that rule only while the rule is undecided.
- Counts, banding tables, ``known`` tests and facts derived in code are not monotone (a count
  reads an unknown member as not counted): a question behind one of those can change the rule
  whatever it is now, so it is listed whenever it is unanswered.
- "Cannot tell" rests on two more things (``core.decision._deciding_unknown``): time since
  surgery unknown while a suspicion rule is undecided (then the surgery date is listed), and no
  core sign answered (then every core-sign question is).

A question is listed only while unanswered (an answer "not sure" is unanswered); time since
surgery is named as the surgery date (``depends_on`` names it ``derived.months_since_surgery``)
and the level counts as the levels. What the superset holds beyond the engine: questions behind
a count or band whose answer would not reach the count's line, a follow-up question whose
``ask_if`` does not hold yet (``depends_on`` names those too; the what-if list does not), and
questions of an undecided rule whose other open questions alone decide it. The contract, that
nothing either engine list names is missing, is tested against ``assess()`` on generated
episodes (``tests/screen/test_open_questions.py``).
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from fusionwatch.core.compiled import Knowledge
from fusionwatch.core.knowledge import Condition, FactType, Known, RuleKind
from fusionwatch.core.logic import leaves
from fusionwatch.core.vocab import SUSPICION_ORDER
from fusionwatch.screen.compiler import ConditionCompiler, literal, number
from fusionwatch.screen.packed import Packed
from fusionwatch.screen.schema import column

# The rule kinds that decide triage and the suspicion band (core.decision).
DECIDING = (
    RuleKind.EMERGENCY,
    RuleKind.URGENT,
    RuleKind.REFERRAL,
    RuleKind.SUSPICION,
    RuleKind.SUSPICION_CAP,
)
# Inputs the engine tries through the facts derived from them (core.whatif).
TIME, LEVELS, OPERATIONS = "surgery.date", "surgery.levels", "surgery.operations"
MONTHS = "derived.months_since_surgery"
SEPARATOR = ", "


# Facts derived in code that only pass an answer on (unknown in, unknown out; a known answer
# never turns a known result back): what reaches a rule through them is read as directly.
_PASS_ON = frozenset(
    {
        MONTHS,
        "derived.sign_relapse",  # Kleene OR of the answer and the scores
        "derived.sign_no_recovery",
        "derived.temperature_c",
        "derived.level_count",
        "derived.vertebra_count",
        "derived.levels_at_least",
        "derived.vertebrae_at_least",
    }
)


@dataclass
class _Reach:
    """How the questions behind one monotone condition can move it: ``direct`` ones only while
    it is undecided, ``always`` ones whatever it is, and the counts it reads (by their parts)."""

    direct: set[str] = field(default_factory=set)
    always: set[str] = field(default_factory=set)
    counts: set[str] = field(default_factory=set)


def _reach(kb: Knowledge, condition: Condition, bands: frozenset[str]) -> _Reach:
    found = _Reach()
    known = {leaf.known for leaf in leaves(condition) if isinstance(leaf, Known)}
    found.always |= _asked(kb.questions(tuple(known)))
    stack = _leaf_facts(condition)
    while stack:
        fact = stack.pop()
        if fact.startswith("result."):
            continue
        if fact in kb.count_members:
            found.counts.add(fact)
        elif fact == MONTHS or fact not in kb.expand:
            found.direct |= _asked((fact,))
        elif fact in bands or fact in _PASS_ON:
            stack.extend(kb.expand[fact])
        else:
            found.always |= _asked(kb.questions((fact,)))
    return found


def _leaf_facts(condition: Condition) -> list[str]:
    """The facts a condition compares or tests (``known`` tests apart)."""
    return [
        str(getattr(leaf, "fact", "")) for leaf in leaves(condition) if not isinstance(leaf, Known)
    ]


def _answered(read: Callable[[str], str], question: str, value: str) -> Callable[[str], str]:
    """A reader in which ``question`` has the answer ``value`` (SQL) and the rest are as read."""

    def reader(fact: str) -> str:
        return value if fact == question else read(fact)

    return reader


def _asked(questions: tuple[str, ...]) -> frozenset[str]:
    """Questions as the engine's what-if names them (time since surgery as the surgery date)."""
    return frozenset(TIME if q == MONTHS else q for q in questions)


def _unknown(question: str) -> str:
    if question == TIME:
        return f"{column(MONTHS)} IS NULL"
    if question == LEVELS:
        return f"{column('derived.level_count')} IS NULL"
    return f"{column(question)} IS NULL"


def _named(question: str, test: str) -> list[tuple[str, str]]:
    """The question as the engine names it, with its test. An unknown level count is the index
    levels while they are not given; and, given or not, a later operation's levels
    (``surgery.operations``): the what-if names the operations once the index levels are given,
    ``depends_on`` names both whenever the levels fused at least (a count's part) are open."""
    if question != LEVELS:
        return [(question, test)]
    given = f"{column(LEVELS)} IS NULL"
    return [(LEVELS, f"({test}) AND {given}"), (OPERATIONS, test)]


def _candidates(kb: Knowledge) -> Iterator[str]:
    """The questions the engine can try, in the knowledge base's order."""
    tried = {FactType.ANSWER, FactType.CHOICE, FactType.NUMBER}
    for fact in kb.data.facts:
        if not fact.derived and (fact.type in tried or fact.id in {TIME, LEVELS}):
            yield fact.id


def _matters(kind: RuleKind, level: str | None, rule: str) -> str:
    """SQL, TRUE when a change of this rule could still change the triage or the band (over the
    ``triage`` and ``suspicion`` columns): a rule that is true matters while its result stands
    alone; one that is not can change the result only where it would outrank it."""
    if kind is RuleKind.EMERGENCY:
        return f"(triage <> 'emergency' OR {rule} IS TRUE)"
    if kind is RuleKind.URGENT:
        return f"(triage <> 'emergency' AND (triage <> 'urgent' OR {rule} IS TRUE))"
    if kind is RuleKind.REFERRAL:
        return f"(triage = 'routine' OR (triage = 'prompt_referral' AND {rule} IS TRUE))"
    rank = SUSPICION_ORDER[level or "low"]
    if kind is RuleKind.SUSPICION:
        below = [b for b, r in SUSPICION_ORDER.items() if r < rank] + ["low", "cannot_tell"]
    else:  # a cap lowers a band above its level
        below = [b for b, r in SUSPICION_ORDER.items() if r > rank and b != "cannot_tell"]
    bands = ", ".join(literal(b) for b in sorted(set(below)))
    return f"({rule} IS TRUE OR suspicion IN ({bands or 'NULL'}))"


def _alone(
    kb: Knowledge, condition: Condition, question: str, read: Callable[[str], str], test: str
) -> str:
    """SQL, TRUE when answering ``question`` alone (each answer the engine tries) makes the
    condition pass ``test``; TRUE as well where the question reaches it through a derived fact
    (a band or a fact passed on), which is not worked out again here."""
    if question not in _leaf_facts(condition):
        return "TRUE"
    fact = kb.facts[question]
    if fact.type is FactType.ANSWER:
        values = ["TRUE", "FALSE"]
    elif fact.type is FactType.CHOICE:
        values = [literal(v) for v in fact.values]
    elif fact.type is FactType.NUMBER and kb.probe_numbers.get(question):
        values = [number(v) for v in kb.probe_numbers[question]]
    else:
        return "TRUE"
    trials = []
    for value in values:
        compiler = ConditionCompiler(kb, _answered(read, question, value))
        trials.append(f"({compiler.sql(condition)}) {test}")
    return "(" + " OR ".join(trials) + ")"


def _settles(kind: RuleKind, level: str | None, true: str, false: str) -> str:
    """SQL, TRUE when an undecided rule, made true (``true``) or false (``false``) by one answer,
    or left undecided, changes the triage or the band (core.decision and core.openinputs)."""
    if kind is RuleKind.EMERGENCY:
        # True: emergency; false: ends "prompt referral" that rests on it being undecided; left
        # undecided under a routine triage, openinputs counts it as a raise.
        return (
            f"(({true} AND triage <> 'emergency')"
            f" OR ({false} AND triage = 'prompt_referral' AND NOT referral_found)"
            " OR triage = 'routine')"
        )
    if kind is RuleKind.URGENT:
        return f"({true} AND triage NOT IN ('emergency', 'urgent'))"
    if kind is RuleKind.REFERRAL:
        return f"({true} AND triage = 'routine')"
    rank = SUSPICION_ORDER[level or "low"]
    if kind is RuleKind.SUSPICION:
        below = sorted({b for b, r in SUSPICION_ORDER.items() if r < rank} | {"low", "cannot_tell"})
        # False can end "cannot tell"; left undecided under a low band with time unknown,
        # openinputs counts it as a raise.
        return (
            f"(({true} AND suspicion IN ({', '.join(literal(b) for b in below)}))"
            f" OR ({false} AND suspicion = 'cannot_tell')"
            f" OR (suspicion = 'low' AND {column(MONTHS)} IS NULL))"
        )
    above = [b for b, r in SUSPICION_ORDER.items() if r > rank and b != "cannot_tell"]
    return f"({true} AND suspicion IN ({', '.join(literal(b) for b in above) or 'NULL'}))"


def open_questions(
    kb: Knowledge, read: Callable[[str], str], rule_column: Callable[[str], str]
) -> Packed:
    """The open questions of an episode, in the knowledge base's order, as a packed text.

    Its tests read the rule columns and the ``triage`` and ``suspicion`` columns of the
    screening query.
    """
    moves = _rule_moves(kb, read, rule_column)
    for question, test in _cannot_tell_moves(kb, read, rule_column):
        moves.setdefault(question, []).append(test)
    items: list[tuple[str, str]] = []
    for question in _candidates(kb):
        if question in moves:
            test = f"{_unknown(question)} AND ({' OR '.join(dict.fromkeys(moves[question]))})"
            items += _named(question, test)
    return Packed("open_questions", SEPARATOR, items)


def _count_moves(
    kb: Knowledge, read: Callable[[str], str], bands: frozenset[str]
) -> dict[str, list[tuple[str, str]]]:
    """Per count: (question, the test under which it can change the count), by its parts: a
    part already true or false stays so, so only an undecided part can be moved by what it
    reads, and only by an answer that makes it true."""
    compiler = ConditionCompiler(kb, read)
    by_count: dict[str, list[tuple[str, str]]] = {}
    for count in kb.counts:
        found = by_count.setdefault(count.fact.id, [])
        for part in count.fact.count_true:
            reach = _reach(kb, part, bands)
            for q in sorted(reach.direct - reach.always):
                alone = _alone(kb, part, q, read, "IS TRUE")
                found.append((q, f"({compiler.sql(part)}) IS NULL AND {alone}"))
            nested = reach.always | {q for c in reach.counts for q in kb.questions((c,))}
            found += [(q, "TRUE") for q in sorted(_asked(tuple(nested)))]
    return by_count


def _rule_moves(
    kb: Knowledge, read: Callable[[str], str], rule_column: Callable[[str], str]
) -> dict[str, list[str]]:
    """For each question: the tests under which it can move a rule that matters."""
    bands = frozenset(t.table.output for t in kb.tables)
    by_count = _count_moves(kb, read, bands)
    moves: dict[str, list[str]] = {}
    for kind in DECIDING:
        for compiled in kb.rules[kind]:
            rule = rule_column(compiled.rule.id)
            matters = _matters(kind, compiled.rule.then.level, rule)
            reach = _reach(kb, compiled.rule.when, bands)
            for question in reach.direct - reach.always:
                true = _alone(kb, compiled.rule.when, question, read, "IS TRUE")
                false = _alone(kb, compiled.rule.when, question, read, "IS FALSE")
                test = _settles(kind, compiled.rule.then.level, true, false)
                moves.setdefault(question, []).append(f"({rule} IS NULL AND {test})")
            for question in reach.always:
                moves.setdefault(question, []).append(matters)
            for count in reach.counts:
                for question, test in by_count[count]:
                    moves.setdefault(question, []).append(f"({test} AND {matters})")
    return moves


def _cannot_tell_moves(
    kb: Knowledge, read: Callable[[str], str], rule_column: Callable[[str], str]
) -> Iterator[tuple[str, str]]:
    """The two facts "cannot tell" rests on besides the rules: time since surgery, core signs."""
    open_band = "suspicion IN ('low', 'cannot_tell')"
    could_rise = " OR ".join(
        f"{rule_column(r.rule.id)} IS NULL" for r in kb.rules[RuleKind.SUSPICION]
    )
    if could_rise:
        yield TIME, f"({open_band} AND ({could_rise}))"
    core = kb.count_members.get("derived.core_signs", ())
    if core:
        no_core = " AND ".join(f"{read(f)} IS NULL" for f in core)
        for question in sorted(_asked(kb.questions(tuple(core)))):
            yield question, f"({open_band} AND {no_core})"
