"""The whole screening query: derived facts, bands, counts, rules, suspicion and triage in SQL.

The stages follow ``core.engine`` step by step, and each rule kind sees exactly the facts the engine
has set when it runs that kind (``result.suspicion`` is unknown to the emergency rules, and so
on). The output has one row per episode with the triage (four dispositions, decision 0009), the
suspicion band (``cannot_tell`` included), the ids of the rules and policy pathways that fired,
the reasons and open questions (each text also as the small codes it is built from,
``screen.packed``), and one three-valued column per rule evaluated.
"""

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial

from fusionwatch.core.compiled import CompiledRule, Knowledge
from fusionwatch.core.derive.fusion import Cutoffs
from fusionwatch.core.derive.milestone import milestones
from fusionwatch.core.knowledge import RuleKind
from fusionwatch.core.site import DEFAULT_SITE, Site
from fusionwatch.core.vocab import SUSPICION_ORDER, Suspicion
from fusionwatch.screen.candidacy import candidate_sql, pathways
from fusionwatch.screen.compiler import (
    CompileError,
    ConditionCompiler,
    count_sql,
    literal,
    plain_reader,
    table_sql,
)
from fusionwatch.screen.derived import (
    STUDY_FACTS,
    base_columns,
    constant_columns,
    derived_facts,
    not_sure,
    operations_cte,
    record_columns,
    timing_columns,
)
from fusionwatch.screen.dialect import DUCKDB, Dialect
from fusionwatch.screen.openq import open_questions
from fusionwatch.screen.packed import Packed
from fusionwatch.screen.record import (
    LEVEL_DERIVED,
    RECORD_SQL,
    SUMMARY,
    not_read_sql,
    study_ctes,
)
from fusionwatch.screen.schema import EPISODE_ID, LEVEL_FACTS, column, episode_columns
from fusionwatch.screen.trajectory import trajectory_ctes

__all__ = [
    "STUDIES_NOT_READ",
    "STUDY_FACTS",
    "Screening",
    "evaluated_rules",
    "rule_column",
    "screening",
    "screening_sql",
]

# True for an episode whose studies feed a derivation not in SQL yet (screen.record): it is
# screened as an episode without studies and flagged on the worklist.
STUDIES_NOT_READ = "studies_not_read"

# Facts that code (not rules or tables) derives, and the screen derives the same way in SQL
# (the rest are in screen.derived).
CODE_FACTS = (
    *LEVEL_FACTS,
    "derived.scores_relapse",
    "derived.scores_relapse_month",
    "derived.scores_no_recovery",
    "derived.sign_relapse",
    "derived.sign_no_recovery",
    "derived.scores_disagree",
)
# The order in which the engine evaluates the rule kinds, and the results set between them.
STAGES: tuple[tuple[RuleKind, ...], ...] = (
    (RuleKind.EMERGENCY, RuleKind.URGENT, RuleKind.SUSPICION, RuleKind.SUSPICION_CAP),
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
    RuleKind.URGENT,
    RuleKind.REFERRAL,
    RuleKind.SUSPICION,
    RuleKind.SUSPICION_CAP,
)


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
        return self.mutated(rule.rule.id, compiler.sql(rule.rule.when))

    def mutated(self, rule_id: str, sql: str) -> str:
        return sql if self.mutate is None else self.mutate(rule_id, sql)

    def stage(self, name: str, columns: Sequence[tuple[str, str]]) -> None:
        select = ", ".join(f"{sql} AS {col}" for col, sql in columns)
        self.ctes.append((name, f"SELECT *, {select} FROM {self.last}"))
        self.last = name

    def reader(self) -> Callable[[str], str]:
        pending = [r for r in RESULTS if r not in self.ready]
        return plain_reader(self.kb, self.ready, pending)


def evaluated_rules(kb: Knowledge, site: Site) -> list[CompiledRule]:
    """Every rule the engine evaluates for this site, in evaluation order.

    The stimulator rules are the gate (is a stimulator in question at all); the site's coverage
    policy is judged after them, pathway by pathway (``screen.candidacy``).
    """
    unknown = set(RuleKind) - {k for stage in STAGES for k in stage}
    if unknown:
        raise CompileError(f"rule kinds the screen does not order: {sorted(unknown)}")
    if site.stimulator_policy not in kb.policies:
        known = ", ".join(sorted(kb.policies))
        raise CompileError(f"unknown stimulator policy {site.stimulator_policy!r}; one of {known}")
    return [r for stage in STAGES for kind in stage for r in kb.rules[kind]]


@dataclass(frozen=True, slots=True)
class Screening:
    """The screening query and its packed text columns (``fired``, ``reasons``,
    ``open_questions``): the query has their codes, and their texts too when asked for."""

    sql: str
    texts: tuple[Packed, ...]


def screening_sql(
    kb: Knowledge,
    as_of: dt.date,
    site: Site = DEFAULT_SITE,
    *,
    dialect: Dialect = DUCKDB,
    episodes: str = "episodes",
    visits: str = "visits",
    operations: str = "operations",
    studies: str = "studies",
    mutate: Callable[[str, str], str] | None = None,
) -> str:
    """One SELECT over the episode, visit, operation and study tables that screens every episode.

    ``mutate(rule_id, sql)`` rewrites one rule's (or policy pathway's) SQL; the equivalence test
    uses it to prove that a wrong rule is caught.
    """
    return screening(
        kb,
        as_of,
        site,
        dialect=dialect,
        episodes=episodes,
        visits=visits,
        operations=operations,
        studies=studies,
        mutate=mutate,
    ).sql


def screening(
    kb: Knowledge,
    as_of: dt.date,
    site: Site = DEFAULT_SITE,
    *,
    dialect: Dialect = DUCKDB,
    episodes: str = "episodes",
    visits: str = "visits",
    operations: str = "operations",
    studies: str = "studies",
    mutate: Callable[[str, str], str] | None = None,
    texts: bool = True,
) -> Screening:
    """The screening query (as ``screening_sql``); without ``texts`` its text columns are left
    as codes, for a reader that builds the texts only where they are read (``screen.worklist``)."""
    evaluated_rules(kb, site)  # refuses an unknown policy or rule kind before any SQL is built
    b = _Builder(kb, site, dialect, mutate=mutate)
    _base(b, as_of, episodes, visits, operations, studies)
    _bands_and_counts(b)
    _rules(b)
    packed = _outputs(b)
    if texts:
        b.stage("texts", [(p.name, p.text(dialect)) for p in packed])
    body = ",\n".join(f"{name} AS ({sql})" for name, sql in b.ctes)
    return Screening(f"WITH {body}\nSELECT * FROM {b.last}", packed)


def _base(  # noqa: PLR0917
    b: _Builder, as_of: dt.date, episodes: str, visits: str, operations: str, studies: str
) -> None:
    today = b.dialect.date_literal(as_of.isoformat())
    timing = timing_columns(b.dialect, today)
    derived = base_columns(b.kb)
    replaced = {name for name, _ in timing + derived}
    summary = {column(f) for f in SUMMARY}
    columns = [
        f"e.{c.name} AS given__{c.name}" if c.name in summary else "e." + c.name
        for c in episode_columns(b.kb)
        if c.fact != "follow_up" and c.name not in replaced
    ]
    b.ctes.append(operations_cte(b.dialect, today, operations))
    # A narrow step read by the row and by the score trajectories (not the wide row twice).
    b.ctes.append(
        (
            "timing",
            f"SELECT e.{EPISODE_ID}, e.surgery__date,"
            f" {', '.join(f'{sql} AS {name}' for name, sql in timing)}"
            f" FROM {episodes} e LEFT JOIN ops o ON o.{EPISODE_ID} = e.{EPISODE_ID}",
        )
    )
    b.ctes.append(
        (
            "base",
            f"SELECT {', '.join(columns)}, {', '.join(f't.{name}' for name, _ in timing)},"
            f" {', '.join(f'{sql} AS {name}' for name, sql in derived)}"
            f" FROM {episodes} e LEFT JOIN timing t ON t.{EPISODE_ID} = e.{EPISODE_ID}",
        )
    )
    b.ctes += trajectory_ctes(b.dialect, b.kb.thresholds, visits, "timing")
    b.ctes.append(
        (
            "visit_count",
            f"SELECT {EPISODE_ID}, COUNT(*) AS n_visits FROM {visits} GROUP BY {EPISODE_ID}",
        )
    )
    cut = Cutoffs.from_thresholds(b.kb.thresholds, b.site.motion_cutoff_deg)
    b.ctes += study_ctes(b.dialect, today, studies, operations, episodes, cut)
    relapse, stalled = "t.scores_relapse", "t.scores_no_recovery"
    answer2, answer6 = "b.signs__improved_then_worse", "b.signs__no_expected_recovery"
    constants = "".join(f"{sql} AS {name}, " for name, sql in constant_columns(b.kb))
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
            f" AS derived__scores_disagree, {constants}"
            f" {', '.join(f'sf.rf_{i}' for i in range(len(RECORD_SQL)))},"
            f" {', '.join(f'sf.{d}' for d in (*SUMMARY.values(), *LEVEL_DERIVED.values()))},"
            f" ({not_read_sql('sf')} OR (b.imaging__studies IS NOT NULL"
            f" AND sf.{EPISODE_ID} IS NULL)) AS {STUDIES_NOT_READ}"
            f" FROM base b LEFT JOIN traj_facts t ON t.{EPISODE_ID} = b.{EPISODE_ID}"
            f" LEFT JOIN visit_count n ON n.{EPISODE_ID} = b.{EPISODE_ID}"
            f" LEFT JOIN study_facts sf ON sf.{EPISODE_ID} = b.{EPISODE_ID}",
        )
    )
    b.last = "derived"
    # The record facts from the studies, unless a derivation not in SQL yet could matter.
    b.stage("record", record_columns(b.kb, STUDIES_NOT_READ))
    b.ready |= {c.fact for c in episode_columns(b.kb)} | set(CODE_FACTS) | derived_facts(b.kb)


def _either(answer: str, scores: str) -> str:
    """Kleene OR as core.followup._either: yes if either says yes, no once the person says no."""
    return (
        f"(CASE WHEN {answer} IS TRUE OR {scores} IS TRUE THEN TRUE"
        f" WHEN {answer} IS FALSE THEN FALSE ELSE NULL END)"
    )


def _disagree(answer: str, scores: str) -> str:
    return f"({answer} IS NOT NULL AND {scores} IS NOT NULL AND {answer} <> {scores})"


def _bands_and_counts(b: _Builder) -> None:
    """Banding tables, then counts, in the engine's order; one SQL stage for each run of them
    that does not read another's output (fewer nested projections for the planners)."""
    kb = b.kb
    steps: list[tuple[str, frozenset[str], Callable[[Callable[[str], str]], str]]] = [
        (t.table.output, frozenset({t.table.input}), partial(table_sql, t, kb=kb))
        for t in kb.tables
    ]
    steps += [
        (
            c.fact.id,
            frozenset(kb.count_members[c.fact.id]),
            partial(count_sql, c.fact.count_true, kb=kb),
        )
        for c in kb.counts
    ]
    group: list[tuple[str, Callable[[Callable[[str], str]], str]]] = []
    for output, reads, build in steps:
        if reads & {name for name, _ in group}:
            _derive_stage(b, group)
            group = []
        group.append((output, build))
    _derive_stage(b, group)
    missing = {f.id for f in kb.data.facts if f.derived} - b.ready - set(RESULTS)
    if missing:
        raise CompileError(f"derived facts with no SQL derivation: {sorted(missing)}")


def _derive_stage(
    b: _Builder, group: Sequence[tuple[str, Callable[[Callable[[str], str]], str]]]
) -> None:
    if not group:
        return
    read = b.reader()
    b.stage(f"derive_{len(b.ctes)}", [(column(out), build(read)) for out, build in group])
    b.ready.update(out for out, _ in group)


def _rules(b: _Builder) -> None:
    for number, stage in enumerate(STAGES):
        compiler = ConditionCompiler(b.kb, b.reader())
        rules = [r for kind in stage for r in b.kb.rules[kind]]
        b.stage(
            f"rules_{number}", [(rule_column(r.rule.id), b.rule_sql(r, compiler)) for r in rules]
        )
        if number == 0:
            b.stage("suspicion", [("result__suspicion", _suspicion(b.kb, b.reader()))])
            b.ready.add("result.suspicion")
        if stage == (RuleKind.STIMULATOR,):
            _stimulator(b, rules)


def _stimulator(b: _Builder, gates: Sequence[CompiledRule]) -> None:
    """The site's policy, pathway by pathway, judged only when a gate rule puts it in question."""
    compiler = ConditionCompiler(b.kb, b.reader())
    found = pathways(b.kb, b.site)
    b.stage("pathways", [(p.column, b.mutated(p.id, p.sql(compiler))) for p in found])
    gate = " OR ".join(f"{rule_column(r.rule.id)} IS TRUE" for r in gates) or "FALSE"
    b.stage("stimulator", [("in_question", f"({gate})")])
    b.stage("candidate", [("result__stimulator_candidate", candidate_sql("in_question", found))])
    b.ready.add("result.stimulator_candidate")


def _suspicion(kb: Knowledge, read: Callable[[str], str]) -> str:
    """Highest band any suspicion rule supports, lowered by a cap that is known to hold; a low
    band is ``cannot_tell`` while the facts that decide it are unknown (core.engine)."""
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
    low = SUSPICION_ORDER[Suspicion.LOW.value]
    arms = " ".join(f"WHEN {rank} THEN {literal(name)}" for name, rank in SUSPICION_ORDER.items())
    cannot_tell = literal(Suspicion.CANNOT_TELL.value)
    return (
        f"(CASE WHEN {level} = {low} AND {_deciding_unknown(kb, read)} THEN {cannot_tell}"
        f" ELSE (CASE {level} {arms} END) END)"
    )


def _deciding_unknown(kb: Knowledge, read: Callable[[str], str]) -> str:
    """Time since surgery unknown while a band could still rise, or no core sign answered."""
    could_rise = " OR ".join(
        f"{rule_column(r.rule.id)} IS NULL" for r in kb.rules[RuleKind.SUSPICION]
    )
    timing = f"({read('derived.months_since_surgery')} IS NULL AND ({could_rise or 'FALSE'}))"
    core = kb.count_members.get("derived.core_signs", ())
    unanswered = " AND ".join(f"{read(f)} IS NULL" for f in core) if core else "FALSE"
    return f"({timing} OR ({unanswered}))"


def _outputs(b: _Builder) -> tuple[Packed, ...]:
    kb = b.kb
    emergency = [rule_column(r.rule.id) for r in kb.rules[RuleKind.EMERGENCY]]
    urgent = [rule_column(r.rule.id) for r in kb.rules[RuleKind.URGENT]]
    referral = [rule_column(r.rule.id) for r in kb.rules[RuleKind.REFERRAL]]
    not_done = _screen_not_done(kb)
    triage = (
        f"(CASE WHEN {_any_fired(emergency)} THEN 'emergency'"
        f" WHEN {_any_fired(urgent)} THEN 'urgent'"
        f" WHEN {not_done} THEN 'prompt_referral'"
        f" WHEN {_any_fired(referral)} THEN 'prompt_referral' ELSE 'routine' END)"
    )
    fired, reasons = _fired(b), _reasons(kb)
    b.stage(
        "outcome",
        [
            ("triage", triage),
            ("screen_not_done", not_done),
            ("referral_found", _any_fired(referral)),
            ("suspicion", "result__suspicion"),
            *fired.codes(),
            *reasons.codes(),
            ("next_check", _next_check(kb)),
        ],
    )
    questions = open_questions(kb, b.reader(), rule_column)
    b.stage("open", questions.codes())
    return fired, reasons, questions


def _any_fired(columns: Sequence[str]) -> str:
    return "(" + (" OR ".join(f"{c} IS TRUE" for c in columns) or "FALSE") + ")"


def _screen_not_done(kb: Knowledge) -> str:
    """An emergency rule is undecided and one of its screen questions was never asked.

    As ``Explainer.unanswered``: only the emergency-screen questions count (a clinician's finding
    not yet examined does not), and a question answered "not sure" was asked.
    """
    screen = kb.emergency_questions
    pending = []
    for r in kb.rules[RuleKind.EMERGENCY]:
        asked = [f"({column(q)} IS NULL AND NOT {not_sure(q)})" for q in r.questions if q in screen]
        if asked:
            pending.append(f"({rule_column(r.rule.id)} IS NULL AND ({' OR '.join(asked)}))")
    return "(" + (" OR ".join(pending) or "FALSE") + ")"


def _fired(b: _Builder) -> Packed:
    """The ids of the rules and policy pathways that fired, sorted as the reference sorts them."""
    fired: list[tuple[str, str]] = [
        (r.rule.id, f"{rule_column(r.rule.id)} IS TRUE") for r in evaluated_rules(b.kb, b.site)
    ]
    fired += [(p.id, f"in_question AND {p.column} IS TRUE") for p in pathways(b.kb, b.site)]
    return Packed("fired", " ", sorted(fired))


def _reasons(kb: Knowledge) -> Packed:
    """The reasons on the worklist: ``id: summary`` of each reason rule that fired (long texts,
    so four to a code)."""
    reasons = [
        (f"{r.rule.id}: {r.rule.then.summary}", f"{rule_column(r.rule.id)} IS TRUE")
        for kind in REASON_KINDS
        for r in kb.rules[kind]
    ]
    return Packed("reasons", " | ", reasons, bits=4)


def _next_check(kb: Knowledge) -> str:
    """The first follow-up check point not yet passed (core.derive.milestone)."""
    months = column("derived.months_since_surgery")
    arms = " ".join(
        f"WHEN {months} <= {m.month!r} THEN {literal(f'{m.name}: {m.purpose}')}"
        for m in milestones(kb.threshold_info, None)
    )
    return f"(CASE WHEN {months} IS NULL THEN NULL {arms} ELSE NULL END)"
