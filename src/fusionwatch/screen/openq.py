"""The worklist's open questions: every unanswered question whose answer alone could change the
episode's triage or suspicion band, as one SQL expression per episode.

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

from fusionwatch.core.compiled import CompiledRule, Knowledge
from fusionwatch.core.knowledge import FactType, Known, RuleKind
from fusionwatch.core.logic import leaves
from fusionwatch.core.vocab import SUSPICION_ORDER
from fusionwatch.screen.compiler import literal
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
TIME, LEVELS = "surgery.date", "surgery.levels"
MONTHS = "derived.months_since_surgery"
SEPARATOR = ", "


def _split(kb: Knowledge, compiled: CompiledRule) -> tuple[frozenset[str], frozenset[str]]:
    """The rule's questions it reads only through monotone leaves of its own, and the rest
    (behind a count, band, ``known`` test or a fact derived in code)."""
    known = {leaf.known for leaf in leaves(compiled.rule.when) if isinstance(leaf, Known)}
    derived = tuple(f for f in compiled.when.facts if f in kb.expand or f in known)
    indirect = _asked(kb.questions(derived)) | _asked(tuple(known))
    return _asked(compiled.questions) - indirect, indirect


def _asked(questions: tuple[str, ...]) -> frozenset[str]:
    """Questions as the engine's what-if names them (time since surgery as the surgery date)."""
    return frozenset(TIME if q == MONTHS else q for q in questions)


def _unknown(question: str) -> str:
    if question == TIME:
        return f"{column(MONTHS)} IS NULL"
    if question == LEVELS:
        return f"{column('derived.level_count')} IS NULL"
    return f"{column(question)} IS NULL"


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


def open_questions_sql(
    kb: Knowledge, read: Callable[[str], str], rule_column: Callable[[str], str]
) -> str:
    """One text per episode: the open questions, in the knowledge base's order.

    Reads the rule columns and the ``triage`` and ``suspicion`` columns of the screening query.
    """
    # For each question: the tests under which it can move a rule that matters.
    moves: dict[str, list[str]] = {}
    for kind in DECIDING:
        for compiled in kb.rules[kind]:
            rule = rule_column(compiled.rule.id)
            matters = _matters(kind, compiled.rule.then.level, rule)
            direct, indirect = _split(kb, compiled)
            for question in direct - indirect:
                moves.setdefault(question, []).append(f"({rule} IS NULL AND {matters})")
            for question in indirect:
                moves.setdefault(question, []).append(matters)
    open_band = "suspicion IN ('low', 'cannot_tell')"
    could_rise = " OR ".join(
        f"{rule_column(r.rule.id)} IS NULL" for r in kb.rules[RuleKind.SUSPICION]
    )
    if could_rise:
        moves.setdefault(TIME, []).append(f"({open_band} AND ({could_rise}))")
    core = kb.count_members.get("derived.core_signs", ())
    if core:
        no_core = " AND ".join(f"{read(f)} IS NULL" for f in core)
        for question in _asked(kb.questions(tuple(core))):
            moves.setdefault(question, []).append(f"({open_band} AND {no_core})")
    parts = []
    for question in _candidates(kb):
        if question in moves:
            test = f"{_unknown(question)} AND ({' OR '.join(dict.fromkeys(moves[question]))})"
            parts.append(f"CASE WHEN {test} THEN {literal(question)} END")
    return f"concat_ws({literal(SEPARATOR)}, {', '.join(parts)})" if parts else "''"
