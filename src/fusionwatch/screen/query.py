"""The whole screening query: derived facts, bands, counts, rules, suspicion and triage in SQL.

The stages follow ``core.engine`` step by step, and each rule kind sees exactly the facts the engine
has set when it runs that kind (``result.suspicion`` is unknown to the emergency rules, and so
on). The output has one row per episode with the triage, the suspicion band, the ids of the rules
that fired, and one three-valued column per rule evaluated.
"""

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from fusionwatch.core.compiled import CompiledRule, Knowledge
from fusionwatch.core.derive.milestone import milestones
from fusionwatch.core.knowledge import RuleKind
from fusionwatch.core.site import DEFAULT_SITE, Site
from fusionwatch.core.vocab import SUSPICION_ORDER
from fusionwatch.screen.compiler import (
    CompileError,
    ConditionCompiler,
    count_sql,
    literal,
    plain_reader,
    table_sql,
)
from fusionwatch.screen.dialect import DUCKDB, Dialect
from fusionwatch.screen.months import months_sql
from fusionwatch.screen.schema import EPISODE_ID, LEVEL_FACTS, SQL_TYPE, column, episode_columns
from fusionwatch.screen.trajectory import trajectory_ctes

# Facts that code (not rules or tables) derives, and the screen derives the same way in SQL.
CODE_FACTS = (
    "derived.months_since_surgery",
    *LEVEL_FACTS,
    "derived.scores_relapse",
    "derived.scores_relapse_month",
    "derived.scores_no_recovery",
    "derived.sign_relapse",
    "derived.sign_no_recovery",
    "derived.scores_disagree",
)
# Facts the engine derives from per-level imaging studies, which a screen does not read: they
# stay unknown (NULL), so rules that need them are never fired or cleared by a screen.
STUDY_FACTS = ("derived.months_without_progress", "derived.adjacent_segment_change")
# The order in which the engine evaluates the rule kinds, and the results set between them.
STAGES: tuple[tuple[RuleKind, ...], ...] = (
    (RuleKind.EMERGENCY, RuleKind.SUSPICION, RuleKind.SUSPICION_CAP),
    (RuleKind.CONCORDANCE, RuleKind.REFERRAL),
    (RuleKind.STIMULATOR,),
    (
        RuleKind.GENERATOR,
        RuleKind.NEXT_STEP,
        RuleKind.RISK_FACTOR,
        RuleKind.MANAGEMENT,
        RuleKind.REVISION,
        RuleKind.OBSERVATION,
    ),
)
RESULTS = ("result.suspicion", "result.stimulator_candidate", "result.revision_considered")
# Rules whose firing is a reason on the worklist (the rest are plan and advice).
REASON_KINDS = (
    RuleKind.EMERGENCY,
    RuleKind.REFERRAL,
    RuleKind.SUSPICION,
    RuleKind.SUSPICION_CAP,
)
_STAKES = (RuleKind.EMERGENCY, RuleKind.REFERRAL, RuleKind.SUSPICION, RuleKind.SUSPICION_CAP)


def rule_column(rule_id: str) -> str:
    return "rule__" + rule_id.replace("-", "_")


@dataclass
class _Builder:
    kb: Knowledge
    site: Site
    dialect: Dialect
    ctes: list[tuple[str, str]] = field(default_factory=list)
    ready: set[str] = field(default_factory=set)
    last: str = ""
    mutate: Callable[[str, str], str] | None = None

    def rule_sql(self, rule: CompiledRule, compiler: ConditionCompiler) -> str:
        sql = compiler.sql(rule.rule.when)
        return sql if self.mutate is None else self.mutate(rule.rule.id, sql)

    def stage(self, name: str, columns: Sequence[tuple[str, str]]) -> None:
        select = ", ".join(f"{sql} AS {col}" for col, sql in columns)
        self.ctes.append((name, f"SELECT *, {select} FROM {self.last}"))
        self.last = name

    def reader(self) -> Callable[[str], str]:
        pending = [r for r in RESULTS if r not in self.ready]
        return plain_reader(self.kb, self.ready, pending)


def evaluated_rules(kb: Knowledge, site: Site) -> list[CompiledRule]:
    """Every rule the engine evaluates for this site, in evaluation order."""
    unknown = set(RuleKind) - {k for stage in STAGES for k in stage}
    if unknown:
        raise CompileError(f"rule kinds the screen does not order: {sorted(unknown)}")
    found: list[CompiledRule] = []
    for stage in STAGES:
        for kind in stage:
            rules = kb.rules[kind]
            if kind is RuleKind.STIMULATOR:
                policy = site.stimulator_policy.value
                rules = tuple(r for r in rules if r.rule.then.target == policy)
            found.extend(rules)
    return found


def screening_sql(
    kb: Knowledge,
    as_of: dt.date,
    site: Site = DEFAULT_SITE,
    *,
    dialect: Dialect = DUCKDB,
    episodes: str = "episodes",
    visits: str = "visits",
    mutate: Callable[[str, str], str] | None = None,
) -> str:
    """One SELECT over the episode and visit tables that screens every episode.

    ``mutate(rule_id, sql)`` rewrites one rule's SQL; the equivalence test uses it to prove that
    a wrong rule is caught.
    """
    b = _Builder(kb, site, dialect, mutate=mutate)
    _base(b, as_of, episodes, visits)
    _bands_and_counts(b)
    _rules(b)
    _outputs(b)
    body = ",\n".join(f"{name} AS ({sql})" for name, sql in b.ctes)
    return f"WITH {body}\nSELECT * FROM {b.last}"


def _base(b: _Builder, as_of: dt.date, episodes: str, visits: str) -> None:
    today = b.dialect.date_literal(as_of.isoformat())
    columns = [c.name for c in episode_columns(b.kb) if c.fact != "follow_up"]
    months = months_sql(b.dialect, "e.surgery__date", today)
    b.ctes.append(
        (
            "base",
            f"SELECT {', '.join('e.' + c for c in columns)},"
            " CASE WHEN e.surgery__date IS NULL THEN e.surgery__months_since"
            f" ELSE {months} END AS derived__months_since_surgery FROM {episodes} e",
        )
    )
    b.ctes += trajectory_ctes(b.dialect, b.kb.thresholds, visits, "base")
    b.ctes.append(
        (
            "visit_count",
            f"SELECT {EPISODE_ID}, COUNT(*) AS n_visits FROM {visits} GROUP BY {EPISODE_ID}",
        )
    )
    relapse, stalled = "t.scores_relapse", "t.scores_no_recovery"
    answer2, answer6 = "b.signs__improved_then_worse", "b.signs__no_expected_recovery"
    b.ctes.append(
        (
            "derived",
            "SELECT b.*, CASE WHEN n.n_visits > 0 THEN 'given' END AS follow_up,"
            f" {relapse} AS derived__scores_relapse,"
            " t.scores_relapse_month AS derived__scores_relapse_month,"
            f" {stalled} AS derived__scores_no_recovery,"
            f" {_either(answer2, relapse)} AS derived__sign_relapse,"
            f" {_either(answer6, stalled)} AS derived__sign_no_recovery,"
            f" ({_disagree(answer2, relapse)} OR {_disagree(answer6, stalled)})"
            " AS derived__scores_disagree,"
            f" {_study_nulls(b.kb)}"
            f" FROM base b LEFT JOIN traj_facts t ON t.{EPISODE_ID} = b.{EPISODE_ID}"
            f" LEFT JOIN visit_count n ON n.{EPISODE_ID} = b.{EPISODE_ID}",
        )
    )
    b.last = "derived"
    b.ready |= {c.fact for c in episode_columns(b.kb)} | set(CODE_FACTS) | set(STUDY_FACTS)


def _study_nulls(kb: Knowledge) -> str:
    known = [f for f in STUDY_FACTS if f in kb.facts]
    return ", ".join(f"CAST(NULL AS {SQL_TYPE[kb.facts[f].type]}) AS {column(f)}" for f in known)


def _either(answer: str, scores: str) -> str:
    """Kleene OR as core.followup._either: yes if either says yes, no once the person says no."""
    return (
        f"(CASE WHEN {answer} IS TRUE OR {scores} IS TRUE THEN TRUE"
        f" WHEN {answer} IS FALSE THEN FALSE ELSE NULL END)"
    )


def _disagree(answer: str, scores: str) -> str:
    return f"({answer} IS NOT NULL AND {scores} IS NOT NULL AND {answer} <> {scores})"


def _bands_and_counts(b: _Builder) -> None:
    for index, table in enumerate(b.kb.tables):
        sql = table_sql(table, b.reader(), b.kb)
        b.stage(f"band_{index}", [(column(table.table.output), sql)])
        b.ready.add(table.table.output)
    for index, count in enumerate(b.kb.counts):
        sql = count_sql(count.fact.count_true, b.reader(), b.kb)
        b.stage(f"count_{index}", [(column(count.fact.id), sql)])
        b.ready.add(count.fact.id)
    missing = {f.id for f in b.kb.data.facts if f.derived} - b.ready - set(RESULTS)
    if missing:
        raise CompileError(f"derived facts with no SQL derivation: {sorted(missing)}")


def _rules(b: _Builder) -> None:
    evaluated = {r.rule.id for r in evaluated_rules(b.kb, b.site)}
    for number, stage in enumerate(STAGES):
        compiler = ConditionCompiler(b.kb, b.reader())
        rules = [r for kind in stage for r in b.kb.rules[kind] if r.rule.id in evaluated]
        b.stage(
            f"rules_{number}", [(rule_column(r.rule.id), b.rule_sql(r, compiler)) for r in rules]
        )
        if number == 0:
            b.stage("suspicion", [("result__suspicion", _suspicion(b.kb))])
            b.ready.add("result.suspicion")
        if stage == (RuleKind.STIMULATOR,):
            b.stage("stimulator", [("result__stimulator_candidate", _candidate(rules))])
            b.ready.add("result.stimulator_candidate")


def _suspicion(kb: Knowledge) -> str:
    """Highest band any suspicion rule supports, lowered by a cap that is known to hold."""
    top = max(SUSPICION_ORDER.values())
    raised = [
        f"CASE WHEN {rule_column(r.rule.id)} IS TRUE THEN {SUSPICION_ORDER[r.rule.then.level or 'low']} ELSE 0 END"
        for r in kb.rules[RuleKind.SUSPICION]
    ]
    capped = [
        f"CASE WHEN {rule_column(r.rule.id)} IS TRUE THEN {SUSPICION_ORDER[r.rule.then.level or 'high']} ELSE {top} END"
        for r in kb.rules[RuleKind.SUSPICION_CAP]
    ]
    level = f"LEAST(GREATEST(0, 0, {', '.join(raised or ['0'])}), {top}, {', '.join(capped or [str(top)])})"
    arms = " ".join(f"WHEN {rank} THEN {literal(name)}" for name, rank in SUSPICION_ORDER.items())
    return f"(CASE {level} {arms} END)"


def _candidate(rules: Sequence[CompiledRule]) -> str:
    if not rules:
        return "FALSE"
    cols = [rule_column(r.rule.id) for r in rules]
    fired = " OR ".join(f"{c} IS TRUE" for c in cols)
    unknown = " OR ".join(f"{c} IS NULL" for c in cols)
    return f"(CASE WHEN {fired} THEN TRUE WHEN {unknown} THEN NULL ELSE FALSE END)"


def _is_null(fact: str) -> str:
    return f"{column(fact)} IS NULL"


def _outputs(b: _Builder) -> None:
    kb, rules = b.kb, evaluated_rules(b.kb, b.site)
    emergency = [rule_column(r.rule.id) for r in kb.rules[RuleKind.EMERGENCY]]
    referral = [rule_column(r.rule.id) for r in kb.rules[RuleKind.REFERRAL]]
    pending = [
        f"({rule_column(r.rule.id)} IS NULL AND ({' OR '.join(_is_null(q) for q in r.questions)}))"
        for r in kb.rules[RuleKind.EMERGENCY]
        if r.questions
    ]
    any_emergency = " OR ".join(f"{c} IS TRUE" for c in emergency) or "FALSE"
    any_referral = " OR ".join(f"{c} IS TRUE" for c in referral) or "FALSE"
    not_done = " OR ".join(pending) or "FALSE"
    triage = (
        f"(CASE WHEN {any_emergency} THEN 'emergency'"
        f" WHEN {not_done} THEN 'prompt_referral'"
        f" WHEN {any_referral} THEN 'prompt_referral' ELSE 'routine' END)"
    )
    fired = ", ".join(
        f"CASE WHEN {rule_column(r.rule.id)} IS TRUE THEN {literal(r.rule.id)} END"
        for r in sorted(rules, key=lambda r: r.rule.id)
    )
    reasons = ", ".join(
        f"CASE WHEN {rule_column(r.rule.id)} IS TRUE"
        f" THEN {literal(r.rule.id + ': ' + r.rule.then.summary)} END"
        for kind in REASON_KINDS
        for r in kb.rules[kind]
    )
    b.stage(
        "outcome",
        [
            ("triage", triage),
            ("screen_not_done", f"({not_done})"),
            ("suspicion", "result__suspicion"),
            ("fired", f"concat_ws(' ', {fired})"),
            ("reasons", f"concat_ws(' | ', {reasons})"),
            ("open_questions", _open_questions(kb)),
            ("next_check", _next_check(kb)),
        ],
    )


def _open_questions(kb: Knowledge) -> str:
    """Unanswered questions behind rules whose outcome is unknown, most serious stakes first."""
    behind: dict[str, list[str]] = {}
    for kind in _STAKES:
        for r in kb.rules[kind]:
            for q in r.questions:
                behind.setdefault(q, []).append(rule_column(r.rule.id))
    ordered = sorted(behind, key=lambda q: kb.fact_order[q])
    parts = [
        f"CASE WHEN {_is_null(q)} AND ({' OR '.join(f'{c} IS NULL' for c in behind[q])})"
        f" THEN {literal(q)} END"
        for q in ordered
    ]
    return f"concat_ws(', ', {', '.join(parts)})" if parts else "''"


def _next_check(kb: Knowledge) -> str:
    """The first follow-up check point not yet passed (core.derive.milestone)."""
    months = column("derived.months_since_surgery")
    arms = " ".join(
        f"WHEN {months} <= {m.month!r} THEN {literal(f'{m.name}: {m.purpose}')}"
        for m in milestones(kb.threshold_info, None)
    )
    return f"(CASE WHEN {months} IS NULL THEN NULL {arms} ELSE NULL END)"
