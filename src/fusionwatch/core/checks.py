"""Load-time checks of the knowledge base's meaning: every id resolves, every rule has evidence and
worked cases, every citation is used, banding rows never overlap, texts fit their channels."""

from collections.abc import Iterator
from itertools import combinations
from typing import Any

from pydantic import BaseModel

from fusionwatch.core.case import Case
from fusionwatch.core.explain import PLACEHOLDER
from fusionwatch.core.knowledge import (
    SOURCE_LANGUAGE,
    AnyOf,
    Compare,
    Condition,
    Equals,
    FactType,
    Is,
    KnowledgeBase,
    Known,
    OneOf,
    Row,
    RuleKind,
)
from fusionwatch.core.logic import compile_condition, facts_of, leaves
from fusionwatch.core.site import DEFAULT_POLICY, SITE_TEXTS

PATIENT_TEXT_LIMIT = 600
REQUIRED_MESSAGES = (
    *SITE_TEXTS,
    "triage.emergency",
    "triage.pending",
    "triage.urgent",
    "triage.prompt_referral",
    "triage.routine",
    "triage.routine_open",
    "open.more",
    "open.care_team",
    "suspicion.low",
    "suspicion.low_open",
    "suspicion.cannot_tell",
    "suspicion.moderate",
    "suspicion.high",
    "timing.early_recovery",
    "imaging.motion_cutoff",
    "stimulator.not_in_question",
    "stimulator.asymptomatic_nonunion",
)
_EXPECT = {True: "candidate", False: "not_candidate", None: "unknown"}


def check(kb: KnowledgeBase) -> list[str]:
    """Every problem found; an empty list means the knowledge base may be used."""
    return [
        *_duplicates(kb),
        *_facts(kb),
        *_conditions(kb),
        *_rules(kb),
        *_emergency_unsure(kb),
        *_tables(kb),
        *_education(kb),
        *_policies(kb),
        *_translations(kb),
        *_citations(kb),
    ]


def case_leaves(model: type[BaseModel] = Case, prefix: str = "") -> Iterator[str]:
    """Dotted paths of every input field in the case model."""
    for name, info in model.model_fields.items():
        annotation: Any = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            yield from case_leaves(annotation, f"{prefix}{name}.")
        else:
            yield f"{prefix}{name}"


def _duplicates(kb: KnowledgeBase) -> Iterator[str]:
    groups: dict[str, list[str]] = {
        "fact": [f.id for f in kb.facts],
        "rule": [r.id for r in kb.rules],
        "table": [t.id for t in kb.tables],
        "citation": [c.id for c in kb.citations],
        "education": [e.id for e in kb.education],
        "policy": [p.id for p in kb.policies],
        "threshold": [t.id for t in kb.thresholds]
        + [t.id for p in kb.policies for t in p.thresholds],
    }
    for kind, ids in groups.items():
        for dup in sorted({i for i in ids if ids.count(i) > 1}):
            yield f"duplicate {kind} id {dup!r}"


def _facts(kb: KnowledgeBase) -> Iterator[str]:
    declared = {f.id for f in kb.facts if not f.derived}
    leaves = set(case_leaves()) - {"label"}
    for missing in sorted(leaves - declared):
        yield f"case field {missing!r} has no entry in facts.yaml"
    for stray in sorted(declared - leaves):
        yield f"fact {stray!r} is not a case field (derived facts start with 'derived.')"
    ids = {f.id for f in kb.facts}
    for fact in kb.facts:
        for source in fact.derived_from:
            if source not in ids:
                yield f"fact {fact.id!r} is derived from unknown fact {source!r}"
        if fact.type is FactType.CHOICE and not fact.values:
            yield f"choice fact {fact.id!r} lists no values"
        if fact.implied_no is not None:
            answers = {f.id for f in kb.facts if f.type is FactType.ANSWER and not f.derived}
            if fact.id not in answers or fact.implied_no not in answers:
                yield f"fact {fact.id!r}: implied_no links two answer facts given in a case"
        if fact.patient and len(fact.patient) > PATIENT_TEXT_LIMIT:
            yield f"fact {fact.id!r}: patient wording longer than {PATIENT_TEXT_LIMIT} characters"


def _all_conditions(kb: KnowledgeBase) -> Iterator[tuple[str, Condition]]:
    for rule in kb.rules:
        yield f"rule {rule.id}", rule.when
    for fact in kb.facts:
        for cond in fact.count_true:
            yield f"fact {fact.id}", cond
        if fact.ask_if is not None:
            yield f"fact {fact.id}", fact.ask_if
    for item in kb.education:
        if item.show_when is not None:
            yield f"education {item.id}", item.show_when
    for policy in kb.policies:
        for pathway in policy.pathways:
            for criterion in pathway.criteria:
                yield f"policy {policy.id}, {pathway.id}.{criterion.id}", criterion.when


def _conditions(kb: KnowledgeBase) -> Iterator[str]:
    facts = {f.id: f for f in kb.facts}
    thresholds = {t.id for t in kb.thresholds} | {t.id for p in kb.policies for t in p.thresholds}
    for where, cond in _all_conditions(kb):
        for leaf in leaves(cond):
            yield from _leaf(where, leaf, facts, thresholds)


def _leaf(
    where: str, leaf: Condition, facts: dict[str, Any], thresholds: set[str]
) -> Iterator[str]:
    name = leaf.known if isinstance(leaf, Known) else getattr(leaf, "fact", "")
    fact = facts.get(name)
    if fact is None:
        yield f"{where}: unknown fact {name!r}"
        return
    if isinstance(leaf, Is) and fact.type is not FactType.ANSWER:
        yield f"{where}: 'is' needs a yes/no fact, {fact.id!r} is {fact.type}"
    if isinstance(leaf, Equals | OneOf):
        wanted = (leaf.equals,) if isinstance(leaf, Equals) else leaf.in_
        if fact.type is not FactType.CHOICE:
            yield f"{where}: 'equals'/'in' need a choice fact, {fact.id!r} is {fact.type}"
        for value in wanted:
            if value not in fact.values:
                yield f"{where}: {value!r} is not a value of {fact.id!r}"
    if isinstance(leaf, Compare):
        if fact.type is not FactType.NUMBER:
            yield f"{where}: comparison needs a number fact, {fact.id!r} is {fact.type}"
        for _, ref in leaf.bounds():
            if ref not in thresholds:
                yield f"{where}: unknown threshold {ref!r}"


def _rules(kb: KnowledgeBase) -> Iterator[str]:
    facts = {f.id for f in kb.facts}
    for rule in kb.rules:
        if rule.section not in kb.manifest.sections:
            yield f"rule {rule.id}: unknown article section {rule.section!r}"
        if not rule.evidence:
            yield f"rule {rule.id}: no evidence"
        if not rule.cases:
            yield f"rule {rule.id}: no worked cases"
        needs_level = rule.kind in {RuleKind.SUSPICION, RuleKind.SUSPICION_CAP}
        if needs_level != (rule.then.level is not None):
            yield f"rule {rule.id}: 'level' is required exactly for suspicion rules and caps"
        if len(rule.then.patient) > PATIENT_TEXT_LIMIT:
            yield f"rule {rule.id}: patient text longer than {PATIENT_TEXT_LIMIT} characters"
        read = set(facts_of(rule.when))
        texts = (rule.then.summary, rule.then.patient, rule.then.clinician)
        quoted_all = {q for text in texts for q in PLACEHOLDER.findall(text)}
        # "{site.urgent_line}" is the site's wording (core.site), required in messages.yaml.
        for quoted in quoted_all - read - set(SITE_TEXTS):
            yield f"rule {rule.id}: its text quotes {quoted!r}, which the rule does not read"
        for case in rule.cases:
            for fact in case.given:
                if fact not in facts:
                    yield f"rule {rule.id}, case {case.name!r}: unknown fact {fact!r}"
                elif fact not in read and not fact.startswith(("derived.", "result.")):
                    yield f"rule {rule.id}, case {case.name!r}: gives {fact!r}, never read"


def _emergency_unsure(kb: KnowledgeBase) -> Iterator[str]:
    """An answer that alone makes an emergency must make 'not sure' a same-day contact: every
    answer an emergency rule tests for 'yes' is counted by derived.emergency_not_sure."""
    counted = next((f.derived_from for f in kb.facts if f.id == "derived.emergency_not_sure"), None)
    if counted is None:
        return
    answers = {f.id for f in kb.facts if f.type is FactType.ANSWER}
    for rule in kb.rules:
        if rule.kind is not RuleKind.EMERGENCY:
            continue
        for fact in _alone_yes(rule.when):
            if fact in answers and fact not in counted:
                yield (
                    f"rule {rule.id}: {fact} 'yes' makes an emergency, so its 'not sure'"
                    " must be counted by derived.emergency_not_sure (derived_from)"
                )


def _alone_yes(cond: Condition) -> Iterator[str]:
    """The facts whose 'yes' alone satisfies a condition (the condition, or one of an 'any')."""
    if isinstance(cond, Is) and cond.is_ == "yes":
        yield cond.fact
    elif isinstance(cond, AnyOf):
        for part in cond.any:
            yield from _alone_yes(part)


def _policies(kb: KnowledgeBase) -> Iterator[str]:
    """Each policy: criteria say what they read, numbers are its own or cited, cases hold."""
    if kb.policies and DEFAULT_POLICY not in {p.id for p in kb.policies}:
        yield f"the default stimulator policy {DEFAULT_POLICY!r} has no file in policies/"
    facts = {f.id for f in kb.facts}
    values = {t.id: t.value for t in kb.thresholds}
    values.update({t.id: t.value for p in kb.policies for t in p.thresholds})
    for policy in kb.policies:
        where = f"policy {policy.id}"
        for threshold in policy.thresholds:
            if not threshold.id.startswith(f"{policy.id}."):
                yield f"{where}: threshold {threshold.id!r} must start with {policy.id + '.'!r}"
        for pathway in policy.pathways:
            ids = [c.id for c in pathway.criteria]
            if len(ids) != len(set(ids)):
                yield f"{where}, {pathway.id}: criterion ids repeat"
            for criterion in pathway.criteria:
                read = set(facts_of(criterion.when))
                if set(criterion.reads) != read:
                    yield (
                        f"{where}, {pathway.id}.{criterion.id}: 'reads' lists "
                        f"{sorted(criterion.reads)} but the criterion reads {sorted(read)}"
                    )
            if len(pathway.patient) > PATIENT_TEXT_LIMIT:
                yield f"{where}, {pathway.id}: patient text longer than {PATIENT_TEXT_LIMIT}"
        if any(fact not in facts for case in policy.cases for fact in case.given):
            yield f"{where}: a worked case gives an unknown fact"
            continue
        yield from _policy_cases(policy, values)


def _policy_cases(policy: Any, values: dict[str, float]) -> Iterator[str]:
    """Run the worked cases as the engine would: a pathway holds when all its criteria do."""
    if any(v not in values for c in _policy_leaves(policy) for _, v in _bounds_of(c)):
        return
    pathways = [
        [compile_condition(c.when, values).run for c in pathway.criteria]
        for pathway in policy.pathways
    ]
    seen = set()
    for case in policy.cases:
        outcome = _kleene_any(_kleene_all(run(case.given) for run in p) for p in pathways)
        got = _EXPECT[outcome]
        seen.add(got)
        if got != case.expect.value:
            yield f"policy {policy.id}, case {case.name!r}: expected {case.expect.value}, got {got}"
    for wanted in ("candidate", "not_candidate"):
        if wanted not in seen:
            yield f"policy {policy.id}: no worked case shows {wanted}"


def _policy_leaves(policy: Any) -> Iterator[Condition]:
    for pathway in policy.pathways:
        for criterion in pathway.criteria:
            yield from leaves(criterion.when)


def _bounds_of(leaf: Condition) -> list[tuple[str, str]]:
    return leaf.bounds() if isinstance(leaf, Compare) else []


def _kleene_all(outcomes: Iterator[bool | None]) -> bool | None:
    seen = list(outcomes)
    return False if False in seen else (None if None in seen else True)


def _kleene_any(outcomes: Iterator[bool | None]) -> bool | None:
    seen = list(outcomes)
    return True if True in seen else (None if None in seen else False)


def _policy_citations(kb: KnowledgeBase) -> dict[str, str]:
    used = {}
    for policy in kb.policies:
        used[policy.cite] = f"policy {policy.id}"
        used.update({t.cite: f"policy {policy.id}" for t in policy.thresholds})
    return used


def _bounds(row: Row, values: dict[str, float]) -> tuple[float, bool, float, bool]:
    low, low_closed = (values[row.gte], True) if row.gte else (float("-inf"), False)
    if row.gt:
        low, low_closed = values[row.gt], False
    high, high_closed = (values[row.lte], True) if row.lte else (float("inf"), False)
    if row.lt:
        high, high_closed = values[row.lt], False
    return low, low_closed, high, high_closed


def _overlap(a: tuple[float, bool, float, bool], b: tuple[float, bool, float, bool]) -> bool:
    lo, lo_closed = max((a[0], a[1]), (b[0], b[1]), key=lambda x: (x[0], not x[1]))
    hi, hi_closed = min((a[2], a[3]), (b[2], b[3]), key=lambda x: (x[0], x[1]))
    return lo < hi or (lo == hi and lo_closed and hi_closed)


def _tables(kb: KnowledgeBase) -> Iterator[str]:
    facts = {f.id: f for f in kb.facts}
    values = {t.id: t.value for t in kb.thresholds}
    for table in kb.tables:
        out = facts.get(table.output)
        if table.input not in facts or facts[table.input].type is not FactType.NUMBER:
            yield f"table {table.id}: input {table.input!r} is not a number fact"
        if out is None or not out.derived:
            yield f"table {table.id}: output {table.output!r} must be a derived fact"
        for row in table.rows:
            refs = [r for r in (row.gt, row.gte, row.lt, row.lte) if r]
            if not refs:
                yield f"table {table.id}: a row has no bounds"
            for ref in refs:
                if ref not in values:
                    yield f"table {table.id}: unknown threshold {ref!r}"
            if out is not None and row.output not in out.values:
                yield f"table {table.id}: output {row.output!r} is not a value of {out.id!r}"
        if any(
            r not in values for row in table.rows for r in (row.gt, row.gte, row.lt, row.lte) if r
        ):
            continue
        spans = [_bounds(row, values) for row in table.rows]
        for (i, a), (j, b) in combinations(enumerate(spans), 2):
            if _overlap(a, b):
                yield f"table {table.id}: rows {i + 1} and {j + 1} overlap"


def _education(kb: KnowledgeBase) -> Iterator[str]:
    for reader in ("patient", "clinician"):
        found = [
            e.id
            for e in kb.education
            if e.kind.value == "disclaimer" and e.audience in {reader, "both"}
        ]
        if len(found) != 1:
            yield f"exactly one disclaimer for the {reader} is required, found {len(found)}"
    for item in kb.education:
        if item.section not in kb.manifest.sections:
            yield f"education {item.id}: unknown article section {item.section!r}"
        if not item.body.strip():
            yield f"education {item.id}: empty text"
    for key in REQUIRED_MESSAGES:
        if key not in kb.messages:
            yield f"messages.yaml lacks {key!r}"


def _translations(kb: KnowledgeBase) -> Iterator[str]:
    """Every language has every education document, each checked against the current source."""
    sources = {e.id: e for e in kb.education}
    for item in kb.education:
        if item.language != SOURCE_LANGUAGE:
            yield f"education {item.id}: source documents are in {SOURCE_LANGUAGE!r}"
    for language, items in sorted(kb.translations.items()):
        where = f"education/{language}"
        ids = [t.id for t in items]
        for dup in sorted({i for i in ids if ids.count(i) > 1}):
            yield f"{where}: duplicate education id {dup!r}"
        for missing in sorted(set(sources) - set(ids)):
            yield f"{where}: no translation of {missing!r}"
        for text in items:
            source = sources.get(text.id)
            if source is None:
                yield f"{where}/{text.id}: translates no {SOURCE_LANGUAGE!r} document"
                continue
            if text.language != language:
                yield f"{where}/{text.id}: says language {text.language!r}"
            if not text.body.strip():
                yield f"{where}/{text.id}: empty text"
            if text.translates != source.fingerprint():
                yield (
                    f"{where}/{text.id}: stale, written from {text.translates} but the source is"
                    f" now {source.fingerprint()}; re-read it against the source, then update"
                )


def _citations(kb: KnowledgeBase) -> Iterator[str]:
    known = {c.id for c in kb.citations}
    used: dict[str, str] = {}
    for rule in kb.rules:
        used.update({e.cite: f"rule {rule.id}" for e in rule.evidence})
    for fact in kb.facts:
        used.update(dict.fromkeys(fact.sources, f"fact {fact.id}"))
    for threshold in kb.thresholds:
        used[threshold.cite] = f"threshold {threshold.id}"
    for table in kb.tables:
        used.update({row.cite: f"table {table.id}" for row in table.rows})
    for item in kb.education:
        used.update(dict.fromkeys(item.sources, f"education {item.id}"))
    for key, message in kb.messages.items():
        used[message.cite] = f"message {key}"
    used.update(_policy_citations(kb))
    for ref in kb.article_references:
        if ref.identified_as is not None:
            used[ref.identified_as] = f"article reference {ref.number}"
        elif not ref.note:
            yield f"article reference {ref.number}: neither identified nor explained"
    for cite, where in sorted(used.items()):
        if cite not in known:
            yield f"{where}: unknown citation {cite!r}"
    for unused in sorted(known - set(used)):
        yield f"citation {unused!r} is never used"
