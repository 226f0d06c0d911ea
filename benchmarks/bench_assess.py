"""Benchmark: complete assessments per second on one core, and the triage decision against ZEN.

Run with ``uv run python benchmarks/bench_assess.py`` (add ``--profile`` for a cProfile summary
of the complete assessment). It measures, in a single process pinned to one core:

1. complete assessments (JSON text -> ``Case`` -> ``assess`` -> JSON bytes) over a seeded mix
   of synthetic cases plus any ``examples/*.json``: median and p99 per assessment, throughput,
   and the median of each stage (inside the same calls, and in a loop of its own);
2. ``decide_triage`` alone over prepared facts (from ``case_facts``);
3. the same triage decision as a GoRules JDM decision table run by zen-engine (rows generated
   from the emergency and referral rules' conditions), per call and through
   ``ZenEngine.evaluate_batch``, after checking that it agrees with ``decide_triage`` on every
   case of the mix (the run aborts if one case differs).

It ends with the issue's targets and whether each is met. Nothing is tuned to pass.
"""

import cProfile
import datetime as dt
import importlib
import importlib.metadata
import json
import os
import pstats
import random
import statistics
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path
from typing import Any

import zen

from fusionwatch.core.case import Case, Emergency, Signs
from fusionwatch.core.compiled import Knowledge
from fusionwatch.core.engine import assess, case_facts, decide_triage
from fusionwatch.core.knowledge import (
    AllOf,
    AnyOf,
    AtLeast,
    Compare,
    Condition,
    Equals,
    Is,
    Known,
    NoneOf,
    OneOf,
    RuleKind,
)
from fusionwatch.core.results import Assessment
from fusionwatch.core.serialize import dump_json
from fusionwatch.core.vocab import Answer
from fusionwatch.knowledge import load

AS_OF = dt.date(2026, 11, 15)  # fixed, so that runs compare; after every example's surgery
SEED = 20250601
SYNTHETIC_CASES = 400
REPO = Path(__file__).resolve().parent.parent

TARGET_MEDIAN_US = 50.0  # issue: <= 50 µs median per complete assessment
TARGET_SPEEDUP = 10.0  # issue: our triage >= 10x faster than ZEN's batch evaluation

# Passes over the whole mix (or timed rounds) per measurement; sized for < 60 s on 2 cores.
PASSES_COMPLETE = 12  # timed passes, and as many untimed ones for the throughput
PASSES_STAGE = 6  # passes for each stage timed in a loop of its own
ROUNDS = 40  # interleaved rounds of the triage comparison
TRIAGE_PASSES = 10  # our passes over the mix per round (one ZEN pass or batch is ~10-40x longer)

EMERGENCY, URGENT, REFERRAL, ROUTINE = "emergency", "urgent", "prompt_referral", "routine"
KEY = "triage"  # the JDM decision's key in the ZEN engine's loader
ZEN_OPS = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<="}

Dump = Callable[[Assessment], bytes | str]

# ---- the case mix --------------------------------------------------------------------------------

LEVELS = {
    "lumbar": ["L4-L5", "L5-S1", "L4-S1", "L3-L4", "L3-L5", "L2-L5"],
    "lumbosacral": ["L5-S1", "L4-S1", "L3-S1"],
    "cervical": ["C5-C6", "C4-C6", "C6-C7", "C3-C5"],
    "thoracic": ["T10-T12", "T11-L1"],
}
APPROACHES = {
    "lumbar": ["TLIF", "PLIF", "ALIF", "LLIF", "posterolateral", "combined"],
    "lumbosacral": ["TLIF", "ALIF", "posterolateral", "combined"],
    "cervical": ["ACDF", "posterior_cervical"],
    "thoracic": ["posterolateral", "other"],
}
# The nine signs and the emergency questions, read from the case model itself.
SIGNS = tuple(name for name, f in Signs.model_fields.items() if f.annotation is Answer)
EMERGENCY_SIGNS = tuple(Emergency.model_fields)


def _answer(rng: random.Random, yes: float, unknown: float = 0.15) -> str | None:
    """yes / no / unknown; None means the question is left out of the JSON (also unknown)."""
    roll = rng.random()
    if roll < unknown:
        return rng.choice([None, "unknown"])
    return "yes" if roll < unknown + yes else "no"


def _sometimes(rng: random.Random, p: float, low: float, high: float) -> float | None:
    return round(rng.uniform(low, high), 1) if rng.random() < p else None


def _surgery(rng: random.Random) -> dict[str, Any]:
    months = round(rng.uniform(1, 36), 1)
    region = rng.choices(list(LEVELS), weights=[45, 25, 25, 5])[0]
    surgery: dict[str, Any] = {
        "region": region,
        "levels": [rng.choice(LEVELS[region])] if rng.random() < 0.9 else None,
        "approach": rng.choice(APPROACHES[region]),
        "instrumented": _answer(rng, 0.85, 0.05),
        "graft": rng.choice(["autograft", "allograft", "bmp", "synthetic", "mixed", None]),
        "indication": rng.choice(["degenerative", "spondylolisthesis", "deformity", "trauma"]),
        "prior_failed_fusion_same_site": _answer(rng, 0.07),
    }
    if rng.random() < 0.6:
        surgery["date"] = (AS_OF - dt.timedelta(days=round(months * 30.44))).isoformat()
    else:
        surgery["months_since"] = months
    return surgery


def _signs(rng: random.Random) -> dict[str, Any]:
    likeness = rng.uniform(0.05, 0.7)  # how nonunion-like this person's story is
    signs: dict[str, Any] = {name: _answer(rng, likeness, 0.1) for name in SIGNS}
    if signs["improved_then_worse"] == "yes":
        signs["worsening_began_month"] = round(rng.uniform(2, 12), 1)
    if signs["clicking"] == "yes":
        signs["clicking_with_worsening_pain"] = _answer(rng, 0.5, 0.1)
    return signs


def _pain(rng: random.Random) -> dict[str, Any]:
    clues = ("sacroiliac", "facet", "nerve_irritation", "scar_tissue", "neuropathic")
    return {
        "axial": rng.randint(0, 10),
        "limb": rng.randint(0, 10) if rng.random() < 0.8 else None,
        "pattern": rng.choice(["mechanical", "radicular", "both", "neither", None]),
        "new_radiating": _answer(rng, 0.15),
        "clues": {name: _answer(rng, 0.2, 0.4) for name in clues},
    }


def _emergency(rng: random.Random) -> dict[str, Any]:
    """Mostly all "no"; about 4% with one "yes", about 6% with some questions unanswered."""
    answers: dict[str, Any] = dict.fromkeys(EMERGENCY_SIGNS, "no")
    roll = rng.random()
    if roll < 0.04:
        answers[rng.choice(EMERGENCY_SIGNS)] = "yes"
    elif roll < 0.10:
        for name in rng.sample(EMERGENCY_SIGNS, rng.randint(1, 8)):
            answers[name] = rng.choice([None, "unknown"])
    return answers


def _exam(rng: random.Random) -> dict[str, Any]:
    if rng.random() < 0.4:
        return {}
    parts = ("strength", "sensation", "reflexes", "gait")
    return {p: rng.choices(["normal", "abnormal", "not_examined"], [80, 12, 8])[0] for p in parts}


def _risk(rng: random.Random) -> dict[str, Any]:
    nicotine = rng.choices(["never", "former", "current", None], [50, 25, 15, 10])[0]
    diabetes = _answer(rng, 0.2)
    quit_days = rng.randint(30, 3000)
    return {
        "nicotine": nicotine,
        "nicotine_quit_date": (AS_OF - dt.timedelta(days=quit_days)).isoformat()
        if nicotine == "former" and rng.random() < 0.5
        else None,
        "diabetes": diabetes,
        "hba1c_percent": _sometimes(rng, 0.9 if diabetes == "yes" else 0.2, 5.0, 10.5),
        "dxa_t_score": _sometimes(rng, 0.4, -3.8, 1.0),
        "ct_hu_l1": _sometimes(rng, 0.3, 60, 220),
        "osteoporosis_known": _answer(rng, 0.15),
        "vitamin_d_ng_ml": _sometimes(rng, 0.4, 8, 60),
        "albumin_g_dl": _sometimes(rng, 0.3, 2.8, 4.8),
        "low_protein_intake": _answer(rng, 0.1, 0.4),
        "bmi": _sometimes(rng, 0.8, 19, 42),
        "long_term_steroids": _answer(rng, 0.05),
        "activity": rng.choice(["very_inactive", "light", "active", None]),
    }


def _imaging(rng: random.Random) -> dict[str, Any]:
    status = rng.choices(
        [None, "not_done", "fused", "indeterminate", "nonunion"], [25, 10, 35, 20, 10]
    )
    return {
        "fusion_status": status[0],
        "hardware_failure": _answer(rng, 0.1, 0.3),
        "deformity_progressing": _answer(rng, 0.05, 0.3),
        "instability_on_motion_films": _answer(rng, 0.08, 0.4),
        "nerve_compression": _answer(rng, 0.15, 0.3),
        "infection_signs": _answer(rng, 0.03, 0.3),
    }


def _without_none(section: dict[str, Any]) -> dict[str, Any]:
    """Drop unanswered fields, as a client would leave them out."""
    return {
        k: _without_none(v) if isinstance(v, dict) else v
        for k, v in section.items()
        if v is not None
    }


def synthetic_case(rng: random.Random, number: int) -> dict[str, Any]:
    """One plausible case as the JSON a form or API client would send."""
    case = {
        "label": f"synthetic-{number:04d}",
        "surgery": _surgery(rng),
        "person": {"age": rng.randint(28, 84), "sex": rng.choice(["female", "male", None])},
        "signs": _signs(rng),
        "pain": _pain(rng),
        "emergency": _emergency(rng),
        "exam": _exam(rng),
        "risk": _risk(rng),
        "care": {
            "rehab_weeks": _sometimes(rng, 0.6, 0, 24),
            "multimodal_pain_care": _answer(rng, 0.4),
            "bone_stimulator": _answer(rng, 0.05),
        },
        "imaging": _imaging(rng),
    }
    return _without_none(case)


def case_mix() -> tuple[list[str], int]:
    """JSON texts of the synthetic cases plus any example files; also the number of examples."""
    rng = random.Random(SEED)
    texts = [json.dumps(synthetic_case(rng, i)) for i in range(SYNTHETIC_CASES)]
    examples = [p.read_text(encoding="utf-8") for p in sorted(REPO.glob("examples/*.json"))]
    return texts + examples, len(examples)


# ---- timing --------------------------------------------------------------------------------------


def pin_one_core() -> str:
    if not hasattr(os, "sched_setaffinity"):
        return "not pinned (os.sched_setaffinity unavailable)"
    core = min(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {core})
    return f"pinned to CPU {core}"


Work = Callable[[], object]


def passes_of(fn: Callable[[Any], object], items: Sequence[Any], passes: int) -> Work:
    """A unit of work: ``passes`` plain loops of ``fn`` over ``items``."""

    def work() -> None:
        for _ in range(passes):
            for item in items:
                fn(item)

    return work


def per_call_ns(fn: Callable[[Any], object], items: Sequence[Any], passes: int) -> list[float]:
    """One timing per call of ``fn`` alone, over ``passes`` passes (after a warm-up pass)."""
    passes_of(fn, items, 1)()
    clock = time.perf_counter_ns
    samples: list[float] = []
    for _ in range(passes):
        for item in items:
            start = clock()
            fn(item)
            samples.append(clock() - start)
    return samples


def interleaved_ns(tasks: Mapping[str, tuple[Work, int]], rounds: int) -> dict[str, list[float]]:
    """Time per decision of each task, taking turns round by round so all see the same machine.

    A task is (work, number of decisions it makes); each round runs every task once.
    """
    for work, _ in tasks.values():
        work()
    clock = time.perf_counter_ns
    means: dict[str, list[float]] = {name: [] for name in tasks}
    for _ in range(rounds):
        for name, (work, decisions) in tasks.items():
            start = clock()
            work()
            means[name].append((clock() - start) / decisions)
    return means


def p99(samples: Sequence[float]) -> float:
    return statistics.quantiles(samples, n=100)[98]


# ---- complete assessment -------------------------------------------------------------------------


def dumper() -> tuple[Dump, str]:
    return dump_json, "fusionwatch.core.serialize.dump_json"


def validate(text: str) -> Case:
    return Case.model_validate_json(text, context={"as_of": AS_OF})


def complete_fn(kb: Knowledge, dump: Dump) -> Callable[[str], bytes | str]:
    def complete(text: str) -> bytes | str:
        return dump(assess(validate(text), kb, AS_OF))

    return complete


def stage_timings(kb: Knowledge, dump: Dump, texts: Sequence[str]) -> dict[str, list[float]]:
    """Per complete assessment: its total time and the time of each stage, from the same call."""
    passes_of(complete_fn(kb, dump), texts, 1)()
    clock = time.perf_counter_ns
    times: dict[str, list[float]] = {"complete": [], "validate": [], "assess": [], "dump": []}
    for _ in range(PASSES_COMPLETE):
        for text in texts:
            t0 = clock()
            case = validate(text)
            t1 = clock()
            assessment = assess(case, kb, AS_OF)
            t2 = clock()
            dump(assessment)
            t3 = clock()
            times["complete"].append(t3 - t0)
            times["validate"].append(t1 - t0)
            times["assess"].append(t2 - t1)
            times["dump"].append(t3 - t2)
    return times


def throughput(fn: Callable[[str], object], texts: Sequence[str], passes: int) -> float:
    """Complete assessments per second, timing whole passes (no per-call clock reads)."""
    start = time.perf_counter_ns()
    for _ in range(passes):
        for text in texts:
            fn(text)
    return passes * len(texts) / ((time.perf_counter_ns() - start) / 1e9)


# ---- the triage decision as a GoRules JDM decision table ----------------------------------------


Row = dict[str, str]  # fact id -> ZEN unary test on that fact ($ is the fact's value)


def _and(cells: Row, more: Row) -> Row:
    merged = dict(cells)
    for fact, test in more.items():
        merged[fact] = f"({merged[fact]}) and ({test})" if fact in merged else test
    return merged


def true_rows(cond: Condition, thresholds: Mapping[str, float]) -> list[Row]:
    """The condition as rows (OR of ANDs) that match exactly when it is True in Kleene logic.

    Null (unknown) never passes a test here, so "unknown" and "false" both fall through, as
    ``compiled.when.run(env) is True`` does in ``decide_triage``.
    """
    if isinstance(cond, AnyOf):
        return [row for part in cond.any for row in true_rows(part, thresholds)]
    if isinstance(cond, AllOf):
        return _all_rows([true_rows(part, thresholds) for part in cond.all])
    if isinstance(cond, AtLeast):
        parts = [true_rows(part, thresholds) for part in cond.of]
        return [row for chosen in combinations(parts, cond.at_least) for row in _all_rows(chosen)]
    if isinstance(cond, NoneOf):
        if all(isinstance(part, Known) for part in cond.none):
            return [{part.known: "$ == null" for part in cond.none if isinstance(part, Known)}]
        sys.exit("no JDM translation for this 'none' condition yet; extend true_rows()")
    return [_cell(cond, thresholds)]


def _cell(cond: Is | Equals | OneOf | Compare | Known, thresholds: Mapping[str, float]) -> Row:
    """One fact's test as a ZEN unary expression (false for null unless it asks for null)."""
    if isinstance(cond, Is):
        return {cond.fact: f"$ == {'true' if cond.is_ == 'yes' else 'false'}"}
    if isinstance(cond, Equals):
        return {cond.fact: f"$ == {json.dumps(cond.equals)}"}
    if isinstance(cond, OneOf):
        return {cond.fact: f"$ in {json.dumps(list(cond.in_))}"}
    if isinstance(cond, Known):
        return {cond.known: "$ != null"}
    # ZEN refuses to compare null with a number, so test for null first.
    bounds = [f"$ {ZEN_OPS[op]} {thresholds[ref]}" for op, ref in cond.bounds()]
    return {cond.fact: " and ".join(["$ != null", *bounds])}


def _all_rows(parts: Sequence[list[Row]]) -> list[Row]:
    rows: list[Row] = [{}]
    for options in parts:
        rows = [_and(row, option) for row in rows for option in options]
    return rows


def triage_rows(kb: Knowledge) -> list[tuple[Row, str, str]]:
    """First-hit rows (cells, output, rule id) in ``decide_triage``'s precedence."""
    rows: list[tuple[Row, str, str]] = []
    for kind, level in ((RuleKind.EMERGENCY, EMERGENCY), (RuleKind.URGENT, URGENT)):
        for compiled in kb.rules[kind]:
            cells = true_rows(compiled.rule.when, kb.thresholds)
            rows += [(row, level, compiled.rule.id) for row in cells]
    # An emergency-screen question no one asked: never routine (clinician findings excluded).
    screen = sorted(kb.emergency_questions)
    rows += [({fact: "$ == null"}, REFERRAL, "pending") for fact in screen]
    for compiled in kb.rules[RuleKind.REFERRAL]:
        cells = true_rows(compiled.rule.when, kb.thresholds)
        rows += [(row, REFERRAL, compiled.rule.id) for row in cells]
    rows.append(({}, ROUTINE, "otherwise"))
    return rows


def triage_jdm(rows: list[tuple[Row, str, str]]) -> dict[str, Any]:
    """inputNode -> decisionTableNode (hit policy "first") -> outputNode."""
    fields = list(dict.fromkeys(field for cells, _, _ in rows for field in cells))
    column = {field: f"in{i}" for i, field in enumerate(fields)}
    table_rows = [
        {"_id": f"{rule}/{n}", **{column[f]: c for f, c in cells.items()}, "out": json.dumps(level)}
        for n, (cells, level, rule) in enumerate(rows)
    ]
    table = {
        "hitPolicy": "first",
        "inputs": [{"id": column[f], "name": f, "field": f} for f in fields],
        "outputs": [{"id": "out", "name": "Triage", "field": "triage"}],
        "rules": table_rows,
    }
    nodes = [
        {"id": "request", "type": "inputNode", "name": "Request", "position": {"x": 0, "y": 0}},
        {
            "id": "triage",
            "type": "decisionTableNode",
            "name": "Triage",
            "position": {"x": 300, "y": 0},
            "content": table,
        },
        {
            "id": "response",
            "type": "outputNode",
            "name": "Response",
            "position": {"x": 600, "y": 0},
        },
    ]
    edges = [
        {"id": "e1", "type": "edge", "sourceId": "request", "targetId": "triage"},
        {"id": "e2", "type": "edge", "sourceId": "triage", "targetId": "response"},
    ]
    return {"nodes": nodes, "edges": edges}


def zen_context(env: dict[str, Any], fields: Sequence[str]) -> dict[str, Any]:
    """The facts the table reads, nested by their dotted ids (None becomes JSON null)."""
    context: dict[str, Any] = {}
    for field in fields:
        *path, leaf = field.split(".")
        node = context
        for part in path:
            node = node.setdefault(part, {})
        node[leaf] = env.get(field)
    return context


def check_agreement(ours: Sequence[str], theirs: Sequence[object], what: str) -> int:
    """Abort the benchmark unless both sides decided every case the same way."""
    differ = [i for i, (a, b) in enumerate(zip(ours, theirs, strict=True)) if a != b]
    if differ:
        first = differ[0]
        sys.exit(
            f"{what}: {len(differ)} disagreements, first at case {first}: "
            f"{ours[first]!r} vs {theirs[first]!r}"
        )
    return len(ours)


@dataclass(frozen=True)
class Zen:
    """The triage table loaded into zen-engine, with the prepared inputs for every case."""

    engine: zen.ZenEngine
    decision: zen.ZenDecision
    contexts: list[dict[str, Any]]
    requests: list[Any]  # the same contexts as batch requests
    rows: int
    columns: int

    def single(self, context: dict[str, Any]) -> object:
        return self.decision.evaluate(context)["result"].get("triage")

    def keyed(self, context: dict[str, Any]) -> object:
        return self.engine.evaluate(KEY, context)["result"].get("triage")

    def batch(self) -> list[object]:
        """Every case in one call: ``ZenEngine.evaluate_batch`` if present, else a plain loop."""
        if not hasattr(self.engine, "evaluate_batch"):
            return [self.keyed(c) for c in self.contexts]
        results = self.engine.evaluate_batch(self.requests)
        return [r["data"]["result"].get("triage") if r["success"] else r for r in results]


def batch_api() -> str:
    if hasattr(zen.ZenDecision, "evaluate_batch"):
        return "ZenDecision.evaluate_batch exists but is not used; engine batch by key"
    if hasattr(zen.ZenEngine, "evaluate_batch"):
        return "batch = ZenEngine.evaluate_batch by key (ZenDecision has no batch method)"
    return "no batch API in this zen-engine: 'batch' is a Python loop of engine.evaluate"


def zen_triage(kb: Knowledge, envs: Sequence[dict[str, Any]]) -> Zen:
    rows = triage_rows(kb)
    jdm = triage_jdm(rows)
    fields = [column["field"] for column in jdm["nodes"][1]["content"]["inputs"]]
    engine = zen.ZenEngine({"loader": {"type": "static", "content": {KEY: jdm}}})
    contexts = [zen_context(env, fields) for env in envs]
    requests: list[Any] = [{"key": KEY, "context": c} for c in contexts]
    decision = engine.create_decision(json.dumps(jdm))
    return Zen(engine, decision, contexts, requests, len(rows), len(fields))


# ---- measuring and reporting ---------------------------------------------------------------------


@dataclass(frozen=True)
class Mix:
    texts: list[str]
    cases: list[Case]
    assessments: list[Assessment]
    envs: list[dict[str, Any]]
    triage: list[str]


def prepare(kb: Knowledge, texts: list[str]) -> Mix:
    """Validate and assess every case once, and check decide_triage against assess."""
    cases = [validate(t) for t in texts]
    assessments = [assess(c, kb, AS_OF) for c in cases]
    envs = [case_facts(c, kb, AS_OF) for c in cases]
    triage = [decide_triage(kb, env) for env in envs]
    same = check_agreement([a.triage.level for a in assessments], triage, "assess vs decide_triage")
    counts = {level: triage.count(level) for level in (EMERGENCY, REFERRAL, ROUTINE)}
    print(f"triage in the mix: {counts}; decide_triage agrees with assess() on {same}/{len(texts)}")
    return Mix(texts, cases, assessments, envs, triage)


def verify(mix: Mix, table: Zen) -> None:
    n = len(mix.texts)
    single = check_agreement(mix.triage, [table.single(c) for c in table.contexts], "evaluate")
    batch = check_agreement(mix.triage, table.batch(), "evaluate_batch")
    print(
        f"ZEN table: {table.rows} rows x {table.columns} input columns, hit policy first; "
        f"agrees with decide_triage on {single}/{n} (evaluate) and {batch}/{n} (batch)\n"
        f"{batch_api()}"
    )


def measure(kb: Knowledge, dump: Dump, mix: Mix, table: Zen) -> dict[str, list[float]]:
    n = len(mix.texts)
    times = stage_timings(kb, dump, mix.texts)
    times["per_second"] = [throughput(complete_fn(kb, dump), mix.texts, PASSES_COMPLETE)]
    times["validate_alone"] = per_call_ns(validate, mix.texts, PASSES_STAGE)
    times["assess_alone"] = per_call_ns(lambda c: assess(c, kb, AS_OF), mix.cases, PASSES_STAGE)
    tasks = {
        "triage": (
            passes_of(lambda env: decide_triage(kb, env), mix.envs, TRIAGE_PASSES),
            n * TRIAGE_PASSES,
        ),
        "zen": (passes_of(table.single, table.contexts, 1), n),
        "zen_keyed": (passes_of(table.keyed, table.contexts, 1), n),
        "zen_batch": (table.batch, n),
    }
    times.update(interleaved_ns(tasks, ROUNDS))
    times["ratio"] = [z / o for z, o in zip(times["zen_batch"], times["triage"], strict=True)]
    return times


def fmt_us(ns: float) -> str:
    return f"{ns / 1000:,.2f} µs"


def verdict(ok: bool) -> str:
    return "MET" if ok else "NOT MET"


def report(t: dict[str, list[float]], cases: int) -> None:
    med = {name: statistics.median(samples) for name, samples in t.items()}
    fast = med["complete"] <= TARGET_MEDIAN_US * 1000
    low, high = min(t["ratio"]), max(t["ratio"])
    lines = [
        (
            "complete assessment (JSON in -> JSON out), median",
            fmt_us(med["complete"]),
            f"<= {TARGET_MEDIAN_US:.0f} µs: {verdict(fast)}",
        ),
        ("complete assessment, p99", fmt_us(p99(t["complete"])), ""),
        ("complete assessments per second (one core)", f"{med['per_second']:,.0f} /s", ""),
        ("  of which validation (Case.model_validate_json), median", fmt_us(med["validate"]), ""),
        ("  of which assess, median", fmt_us(med["assess"]), ""),
        ("  of which JSON dump, median", fmt_us(med["dump"]), ""),
        ("validation alone, in its own loop, median", fmt_us(med["validate_alone"]), ""),
        ("assess alone, in its own loop, median", fmt_us(med["assess_alone"]), ""),
        ("triage alone: decide_triage, per call", fmt_us(med["triage"]), ""),
        ("ZEN: decision.evaluate, per call", fmt_us(med["zen"]), ""),
        ("ZEN: engine.evaluate(key), per call", fmt_us(med["zen_keyed"]), ""),
        ("ZEN: engine.evaluate_batch, per decision", fmt_us(med["zen_batch"]), ""),
        (
            "ratio: ZEN batch per decision / decide_triage",
            f"{med['ratio']:,.1f}x",
            f">= {TARGET_SPEEDUP:.0f}x: {verdict(med['ratio'] >= TARGET_SPEEDUP)}",
        ),
        ("  ratio range over rounds (min - max)", f"{low:.1f}-{high:.1f}x", ""),
    ]
    width = 58
    print(f"\n{'measure':<{width}}{'result':>14}   target: verdict")
    print("-" * (width + 40))
    for name, value, target in lines:
        print(f"{name:<{width}}{value:>14}   {target}".rstrip())
    print(
        f"\ncomplete assessment: {len(t['complete'])} timed calls ({PASSES_COMPLETE} passes), "
        f"stages timed inside the same calls ('alone': {PASSES_STAGE} passes of that stage only);\n"
        f"throughput from {PASSES_COMPLETE} untimed passes. "
        f"triage and ZEN: {ROUNDS} interleaved rounds, each {TRIAGE_PASSES} passes of "
        f"decide_triage, one pass per ZEN call path and one batch of {cases};\n"
        f"per-call figures are medians over rounds of the mean per decision; the ratio is the "
        f"median of per-round ratios."
    )


def profile(fn: Callable[[str], object], texts: Sequence[str]) -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(3):
        for text in texts:
            fn(text)
    profiler.disable()
    print("\ncProfile of 3 passes of complete assessments (top 20 by own time):")
    pstats.Stats(profiler).sort_stats("tottime").print_stats(20)


def main() -> None:
    zen_version = importlib.metadata.version("zen-engine")
    print(
        f"fusionwatch assessment benchmark ({pin_one_core()}, Python {sys.version.split()[0]}, "
        f"zen-engine {zen_version})"
    )
    kb = load()
    dump, dump_name = dumper()
    texts, examples = case_mix()
    print(
        f"mix: {len(texts)} cases ({SYNTHETIC_CASES} synthetic, seed {SEED}; {examples} from "
        f"examples/*.json), as_of {AS_OF}; serialiser: {dump_name}"
    )
    if "--profile" in sys.argv:
        profile(complete_fn(kb, dump), texts)
        return
    mix = prepare(kb, texts)
    table = zen_triage(kb, mix.envs)
    verify(mix, table)
    report(measure(kb, dump, mix, table), len(texts))


if __name__ == "__main__":
    main()
