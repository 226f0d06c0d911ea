"""Generated synthetic cohorts (no real person): episodes, score visits and operations, vectorised.

Every input fact of the knowledge base gets a column, with answers, choices and numbers drawn
over their whole range and a share left unknown or answered "not sure"; the ranges come from the
case model's own bounds, so a fact added to the knowledge base is generated without code here.
The facts that emergency and urgent rules read are drawn rarer, so that every triage tier is
common. The cohorts are valid cases: levels fit the region (also for later operations), ODI only
outside the neck, one visit per time point, a temperature always with its unit and in its range,
operations after the index fusion with a reason only for a revision, and timelines the
single-case reader accepts (``core.timeline``: rehab weeks and the month pain came back within the
time since surgery, a quit date in the past). ``generate(..., invalid_timelines=True)`` leaves
contradictory timelines in, for the tests of ``screen.timeline``.
"""

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from fusionwatch.core.compiled import Knowledge
from fusionwatch.core.imaging import Brantigan, Bridwell, LevelFindings, Mayfield, Modality
from fusionwatch.core.knowledge import Fact, FactType, RuleKind
from fusionwatch.core.scores import Instrument
from fusionwatch.core.timeline import SLACK_MONTHS, SLACK_WEEKS, WEEKS_PER_MONTH
from fusionwatch.core.vocab import OperationKind, OperationReason, TemperatureUnit
from fusionwatch.screen.columns import field_spec
from fusionwatch.screen.derived import operations_cte, timing_sql
from fusionwatch.screen.dialect import DUCKDB
from fusionwatch.screen.history import History, judge, operation_key
from fusionwatch.screen.schema import (
    COLLECTIONS,
    EPISODE_ID,
    HISTORY_FAILED,
    LEVEL_FACTS,
    LEVEL_FIELDS,
    NOT_SURE,
    NOT_SURE_SEP,
    OPERATION_COLUMNS,
    STUDY_COLUMNS,
    STUDY_FIELDS,
    VISIT_COLUMNS,
    column,
)
from fusionwatch.screen.studies import place


@dataclass(frozen=True, slots=True)
class Fusion:
    """An index fusion's region and levels, and two levels a later operation may touch there."""

    region: str | None
    levels: str | None
    same: str
    next_to: str


# Each row is a valid fusion for its region, with a re-fused and an adjacent level in it.
LEVELS: tuple[Fusion, ...] = (
    Fusion("lumbar", "L4-L5", "L4-L5", "L3-L4"),
    Fusion("lumbar", "L3-L4;L4-L5", "L4-L5", "L2-L3"),
    Fusion("lumbosacral", "L5-S1", "L5-S1", "L4-L5"),
    Fusion("lumbosacral", "L4-S1", "L4-L5", "L3-L4"),
    Fusion("lumbosacral", "L3-S1", "L5-S1", "S1-pelvis"),
    Fusion("cervical", "C5-C6", "C5-C6", "C4-C5"),
    Fusion("cervical", "C4-C6", "C4-C5", "C6-C7"),
    Fusion("thoracic", "T10-T12", "T11-T12", "T9-T10"),
    Fusion("cervicothoracic", "C6-T1", "C7-T1", "T1-T2"),
    Fusion("thoracolumbar", "T11-L2", "T12-L1", "L2-L3"),
    Fusion(None, "L4-L5", "L4-L5", "L3-L4"),
    Fusion("lumbar", None, "L4-L5", "L3-L4"),
    Fusion(None, None, "L4-L5", "L5-S1"),
)
# Later operations as (kind, reason, which levels): none, the fused ones again, or next to them.
_REASONS = (OperationReason.NONUNION, OperationReason.ADJACENT_SEGMENT, OperationReason.OTHER, None)
OPERATIONS: tuple[tuple[str, str | None, str], ...] = (
    *(
        (OperationKind.REVISION.value, r.value if r else None, w)
        for r in _REASONS
        for w in ("", "same", "next_to")
    ),
    *(
        (k.value, None, w)
        for k in (OperationKind.EXTENSION, OperationKind.STAGED)
        for w in ("", "same", "next_to")
    ),
)
_MONTHS = np.array([1.0, 1.5, 3.0, 4.0, 6.0, 9.0, 12.0, 18.0, 24.0])
_DAY = np.timedelta64(1, "D")


@dataclass(frozen=True, slots=True)
class Cohort:
    episodes: pa.Table
    visits: pa.Table
    operations: pa.Table
    studies: pa.Table


def field_type(path: str) -> type:
    """The Python type of a case field (int fields take whole numbers only)."""
    kind: type = field_spec(path)[0]
    return kind


def _field(path: str) -> tuple[type, float | None, float | None]:
    return field_spec(path)


# Answer profiles (share of yes, share of no; the rest unknown): a typical record, a fully
# answered quiet one, and a sparse one, so that rare all-"no" conditions are met too.
_PROFILES = np.array([(0.3, 0.45), (0.08, 0.92), (0.1, 0.2)])
_EMERGENCY = np.array([(0.01, 0.93), (0.005, 0.99), (0.01, 0.3)])
# Of the unknown answers, the share given as "not sure" (emergency-screen questions, others).
_NOT_SURE = (0.1, 0.02)


def _answers(rng: np.random.Generator, profile: np.ndarray, rare: bool) -> tuple[pa.Array, Any]:
    shares = (_EMERGENCY if rare else _PROFILES)[profile]
    u = rng.random(len(profile))
    yes, known = u < shares[:, 0], u < shares[:, 0] + shares[:, 1]
    return pa.array(yes, mask=~known), ~known


def _choices(rng: np.random.Generator, n: int, values: tuple[str, ...], rare: bool) -> pa.Array:
    draw = rng.integers(0, len(values) + 1, size=n)
    options = np.array([*values, ""], dtype=object)
    # Choices an emergency or urgent rule reads are mostly not recorded, as in real records.
    unknown = (draw == len(values)) | (rare & (rng.random(n) < 0.6))
    return pa.array(options[draw], type=pa.string(), mask=unknown)


def _numbers(rng: np.random.Generator, n: int, fact: str) -> pa.Array:
    kind, low, high = _field(fact)
    low, high = low if low is not None else 0.0, high if high is not None else 100.0
    values = rng.uniform(low, high, size=n)
    values = np.round(values) if kind is int else np.round(values, 1)
    return pa.array(values, type=pa.float64(), mask=rng.random(n) < 0.3)


def _rare_facts(kb: Knowledge) -> frozenset[str]:
    """Facts that emergency and urgent rules read: drawn rarer so that every tier is common."""
    kinds = (RuleKind.EMERGENCY, RuleKind.URGENT)
    read = {f for kind in kinds for r in kb.rules[kind] for f in (*r.when.facts, *r.questions)}
    return frozenset(read | kb.emergency_questions)


def _temperature(rng: np.random.Generator, n: int) -> tuple[pa.Array, pa.Array]:
    """A temperature with its unit, around the fever line in either scale (1 decimal)."""
    units = np.array([u.value for u in TemperatureUnit] + [""], dtype=object)
    unit = units[rng.choice(len(units), size=n, p=(0.35, 0.25, 0.4))]
    celsius = np.round(rng.uniform(35.8, 39.0, size=n), 1)
    fahrenheit = np.round(rng.uniform(96.5, 102.0, size=n), 1)
    value = np.where(unit == TemperatureUnit.FAHRENHEIT.value, fahrenheit, celsius)
    given = (unit != "") & (rng.random(n) < 0.5)
    return (
        pa.array(value, type=pa.float64(), mask=~given),
        pa.array(unit, type=pa.string(), mask=unit == ""),
    )


@dataclass
class _Draws:
    """Draws one column per input fact; answers given as "not sure" are listed per episode."""

    kb: Knowledge
    rng: np.random.Generator
    profile: np.ndarray
    rare: frozenset[str]
    unsure: list[list[str]]

    def column(self, fact: Fact) -> pa.Array:
        n, rng = len(self.profile), self.rng
        if fact.type is FactType.DATE:
            return pa.nulls(n, type=pa.date32())
        if fact.type is FactType.ANSWER:
            drawn, unknown = _answers(rng, self.profile, fact.id in self.rare)
            share = _NOT_SURE[0] if fact.id in self.kb.emergency_questions else _NOT_SURE[1]
            for i in np.nonzero(unknown & (rng.random(n) < share))[0]:
                self.unsure[i].append(fact.id)
            return drawn
        if fact.type is FactType.CHOICE:
            return _choices(rng, n, fact.values, fact.id in self.rare)
        if fact.type is FactType.NUMBER:
            return _numbers(rng, n, fact.id)
        return pa.nulls(n, type=pa.string())


def generate(
    kb: Knowledge, n: int, as_of: dt.date, seed: int = 14, *, invalid_timelines: bool = False
) -> Cohort:
    """A cohort of ``n`` episodes with unknowns, score series, operations and imaging summaries."""
    rng = np.random.default_rng(seed)
    ids = pa.array([f"E{i:07d}" for i in range(n)])
    fusion = rng.integers(0, len(LEVELS), size=n)
    profile = rng.choice(3, size=n, p=(0.6, 0.25, 0.15))
    today = np.datetime64(as_of.isoformat(), "D")
    age_days = rng.integers(0, 60 * 30, size=n)
    dated = rng.random(n) < 0.6
    given_months = rng.random(n) < 0.7
    surgery_date = (today - age_days * _DAY).astype("datetime64[D]")
    draws = _Draws(kb, rng, profile, _rare_facts(kb), [[] for _ in range(n)])
    temperature, unit = _temperature(rng, n)
    regions = np.array([f.region or "" for f in LEVELS], dtype=object)[fusion]
    levels = np.array([f.levels or "" for f in LEVELS], dtype=object)[fusion]
    months = np.round(age_days / 30.4, 1)
    fixed = {
        "surgery.region": pa.array(regions, type=pa.string(), mask=regions == ""),
        "surgery.levels": pa.array(levels, type=pa.string(), mask=levels == ""),
        "surgery.date": pa.array(surgery_date, type=pa.date32(), mask=~dated),
        "surgery.months_since": pa.array(months, type=pa.float64(), mask=dated | ~given_months),
        "infection.temperature": temperature,
        "infection.temperature_unit": unit,
    }
    columns: dict[str, pa.Array] = {EPISODE_ID: ids}
    for fact in kb.data.facts:
        if not fact.derived and fact.id not in COLLECTIONS:
            given = fixed.get(fact.id)
            columns[column(fact.id)] = draws.column(fact) if given is None else given
    for name in ("follow_up", "imaging__studies", "surgery__operations"):
        columns[name] = pa.nulls(n, type=pa.string())
    operations, op_pick = _operations(rng, ids, fusion, dated, surgery_date, age_days, today)
    history = _history(fusion, op_pick)
    for i, level_fact in enumerate(LEVEL_FACTS):
        columns[column(level_fact)] = pa.array([h.counts[i] for h in history], type=pa.float64())
    columns[HISTORY_FAILED] = pa.array([h.failed_fusion for h in history], type=pa.bool_())
    listed = [NOT_SURE_SEP.join(u) or None for u in draws.unsure]
    columns[NOT_SURE] = pa.array(listed, type=pa.string())
    columns[column("risk.nicotine_quit_date")] = _quit_dates(
        rng, columns[column("risk.nicotine")], today, invalid_timelines
    )
    visits = _visits(rng, ids, regions, surgery_date, dated, age_days)
    episodes = pa.table(columns)
    if not invalid_timelines:
        episodes = _within_timeline(episodes, operations, as_of)
    studies = _studies(rng, ids, fusion, op_pick, surgery_date, age_days)
    return Cohort(episodes, visits, operations, studies)


def _quit_dates(
    rng: np.random.Generator, nicotine: pa.Array, today: np.datetime64, invalid: bool
) -> pa.Array:
    """A quit date for half the former smokers, in the past (or, when ``invalid``, a tenth of
    them in the future)."""
    n = len(nicotine)
    former = np.array(nicotine.to_pylist(), dtype=object) == "former"
    days = rng.integers(0, 20 * 365, size=n)
    if invalid:
        days = np.where(rng.random(n) < 0.1, -rng.integers(1, 400, size=n), days)
    dates = (today - days * _DAY).astype("datetime64[D]")
    return pa.array(dates, type=pa.date32(), mask=~(former & (rng.random(n) < 0.5)))


def _within_timeline(episodes: pa.Table, operations: pa.Table, as_of: dt.date) -> pa.Table:
    """Rehab weeks and the month pain came back scaled into the time since the last operation
    where they would exceed it (the checks of core.timeline, with its slack)."""
    today = DUCKDB.date_literal(as_of.isoformat())
    ops_name, ops_sql = operations_cte(DUCKDB, today, "operations")
    con = duckdb.connect()
    con.register(
        "episodes", episodes.select([EPISODE_ID, "surgery__date", "surgery__months_since"])
    )
    con.register("operations", operations)
    months = con.execute(
        f"WITH {ops_name} AS ({ops_sql}) SELECT {timing_sql(DUCKDB, today)}"
        f" FROM episodes e LEFT JOIN {ops_name} o ON o.{EPISODE_ID} = e.{EPISODE_ID}"
        f" ORDER BY e.{EPISODE_ID}"
    ).fetchnumpy()
    con.close()
    m = np.asarray(next(iter(months.values())), dtype=float)  # NaN where unknown
    limits = {
        "care.rehab_weeks": (m * WEEKS_PER_MONTH, SLACK_WEEKS),
        "signs.worsening_began_month": (m, SLACK_MONTHS),
    }
    for fact, (limit, slack) in limits.items():
        name = column(fact)
        kind, _, high = _field(fact)
        values = episodes[name].to_numpy(zero_copy_only=False).astype(float)
        over = ~np.isnan(values) & ~np.isnan(limit) & (values > limit + slack)
        scaled = np.floor(values / (high or 1.0) * np.nan_to_num(limit) * 10) / 10
        fixed = np.where(over, np.floor(scaled) if kind is int else scaled, values)
        index = episodes.column_names.index(name)
        episodes = episodes.set_column(
            index, name, pa.array(fixed, type=pa.float64(), mask=np.isnan(values))
        )
    return episodes


def _operations(  # noqa: PLR0917
    rng: np.random.Generator,
    ids: pa.Array,
    fusion: np.ndarray,
    dated: np.ndarray,
    surgery_date: np.ndarray,
    age_days: np.ndarray,
    today: np.datetime64,
) -> tuple[pa.Table, np.ndarray]:
    """Up to two later operations for a quarter of the episodes; ``pick`` holds their kinds."""
    n = len(ids)
    count = np.where(rng.random(n) < 0.25, rng.integers(1, 3, size=n), 0)
    pick = np.where(
        np.arange(2)[None, :] < count[:, None], rng.integers(0, len(OPERATIONS), size=(n, 2)), -1
    )
    parts = []
    for seq in range(2):
        idx = np.nonzero(pick[:, seq] >= 0)[0]
        if not len(idx):
            continue
        ops = [OPERATIONS[k] for k in pick[idx, seq]]
        where = [
            getattr(LEVELS[f], w) if w else ""
            for f, (_, _, w) in zip(fusion[idx], ops, strict=True)
        ]
        # Timing: a date after the index fusion, months since, or not known (then the time
        # since surgery is unknown: the operation could be the latest).
        how = rng.choice(3, size=len(idx), p=(0.6, 0.3, 0.1))
        after = (rng.random(len(idx)) * (age_days[idx] + 1)).astype("int64")
        op_date = surgery_date[idx] + after * _DAY
        use_date = (how == 0) & dated[idx]
        months = np.round((today - op_date).astype("int64") / 30.4, 1)
        use_months = (how == 1) | ((how == 0) & ~dated[idx])
        parts.append(
            pa.table(
                {
                    EPISODE_ID: ids.take(pa.array(idx)),
                    "seq": pa.array(np.full(len(idx), seq), type=pa.int32()),
                    "kind": pa.array([k for k, _, _ in ops], type=pa.string()),
                    "op_date": pa.array(op_date, type=pa.date32(), mask=~use_date),
                    "months_since": pa.array(months, type=pa.float64(), mask=~use_months),
                    "levels": pa.array(where, type=pa.string(), mask=np.array(where) == ""),
                    "reason": pa.array([r for _, r, _ in ops], type=pa.string()),
                }
            )
        )
    if not parts:
        return _empty(OPERATION_COLUMNS), pick
    return pa.concat_tables(parts), pick


def _history(fusion: np.ndarray, pick: np.ndarray) -> list[History]:
    """Level counts and a failed fusion in the history, once per distinct history."""
    keys = (
        fusion * (len(OPERATIONS) + 1) ** 2
        + (pick[:, 0] + 1) * (len(OPERATIONS) + 1)
        + pick[:, 1]
        + 1
    )
    distinct, inverse = np.unique(keys, return_inverse=True)
    found = []
    for key in distinct:
        f, rest = divmod(int(key), (len(OPERATIONS) + 1) ** 2)
        first, second = divmod(rest, len(OPERATIONS) + 1)
        done = [OPERATIONS[k - 1] for k in (first, second) if k > 0]
        ops = "#".join(
            operation_key(kind, reason, getattr(LEVELS[f], w) if w else None)
            for kind, reason, w in done
        )
        h = judge(LEVELS[f].levels, LEVELS[f].region, ops or None)
        found.append(h)
    return [found[i] for i in inverse]


# How a study's levels are drawn: none (a study without per-level findings), a fused level, the
# level next to the index fusion, or both.
_STUDY_LEVELS = ((), ("same",), ("next_to",), ("same", "next_to"))
_CHOICE_FIELDS = {"bridwell": Bridwell, "brantigan": Brantigan, "mayfield": Mayfield}


def _studies(  # noqa: PLR0917
    rng: np.random.Generator,
    ids: pa.Array,
    fusion: np.ndarray,
    pick: np.ndarray,
    surgery_date: np.ndarray,
    age_days: np.ndarray,
) -> pa.Table:
    """Up to three imaging studies for a third of the episodes, each at none, one or two levels
    (a fused level, the one next to the index fusion), every modality, dated after the index
    fusion, given in months, or untimed; findings mostly unknown. The level's place (fused or
    adjacent) is judged by the case model once per distinct history, as the registry reader
    does."""
    n = len(ids)
    count = np.where(rng.random(n) < 0.35, rng.integers(1, 4, size=n), 0)
    modalities = np.array([m.value for m in Modality], dtype=object)
    parts = []
    for study in range(3):
        idx = np.nonzero(count > study)[0]
        if not len(idx):
            continue
        k = len(idx)
        how = rng.choice(3, size=k, p=(0.55, 0.35, 0.1))
        after = (rng.random(k) * (age_days[idx] + 1)).astype("int64")
        on = surgery_date[idx] + after * _DAY
        months = np.round(rng.random(k) * age_days[idx] / 30.4, 1)
        head = {
            "modality": pa.array(modalities[rng.integers(0, len(modalities), size=k)]),
            "study_date": pa.array(on, type=pa.date32(), mask=how != 0),
            "months_since": pa.array(months, type=pa.float64(), mask=how != 1),
            **{name: _rare_answers(rng, k, 0.85) for name, _ in STUDY_FIELDS[3:]},
        }
        which = rng.choice(len(_STUDY_LEVELS), size=k, p=(0.1, 0.6, 0.15, 0.15))
        for slot, name in enumerate(("none", "same", "next_to")):
            if name == "none":
                rows = np.nonzero(which == 0)[0]
            else:
                rows = np.nonzero([name in _STUDY_LEVELS[w] for w in which])[0]
            if not len(rows):
                continue
            at = idx[rows]
            level = [None if name == "none" else getattr(LEVELS[f], name) for f in fusion[at]]
            placed = _adjacent(fusion[at], pick[at], level)
            table = {
                EPISODE_ID: ids.take(pa.array(at)),
                "study": pa.array(np.full(len(rows), study), type=pa.int32()),
                "seq": pa.array(np.full(len(rows), study * 3 + slot), type=pa.int32()),
                **{key: value.take(pa.array(rows)) for key, value in head.items()},
                "level": pa.array(level, type=pa.string()),
                "adjacent": pa.array([p[0] for p in placed], type=pa.bool_()),
                "in_index": pa.array([p[1] for p in placed], type=pa.bool_()),
                "index_levels": pa.array([p[2] for p in placed], type=pa.int32()),
            }
            for field, sql in LEVEL_FIELDS:
                table[field] = _finding(rng, field, sql, len(rows), name == "none")
            _intact_hardware(rng, table, len(rows), name == "none")
            parts.append(pa.table({c: table[c] for c, _ in STUDY_COLUMNS}))
    if not parts:
        return _empty(STUDY_COLUMNS)
    return pa.concat_tables(parts).sort_by([(EPISODE_ID, "ascending"), ("seq", "ascending")])


# A reading that reports every hardware item intact: one row in eight with a level. Drawn one
# item at a time, all four intact would be about one row in four thousand.
_HARDWARE = ("screw_broken", "rod_broken", "cage_migration", "set_screw_loose")
_ALL_INTACT = 0.125


def _intact_hardware(
    rng: np.random.Generator, table: dict[str, pa.Array], n: int, none: bool
) -> None:
    if none:
        return
    intact = rng.random(n) < _ALL_INTACT
    for item in _HARDWARE:
        drawn = table[item].to_numpy(zero_copy_only=False)
        known = ~np.asarray(table[item].is_null())
        value = np.where(intact, False, np.where(known, drawn, False))
        table[item] = pa.array(value.astype(bool), mask=~(intact | known))


def _rare_answers(rng: np.random.Generator, n: int, unknown: float) -> pa.Array:
    return pa.array(rng.random(n) < 0.5, mask=rng.random(n) < unknown)


def _finding(rng: np.random.Generator, field: str, sql: str, n: int, none: bool) -> pa.Array:
    """One per-level finding, unknown for three rows in four (always without a level)."""
    missing = (rng.random(n) < 0.75) | none
    if sql == "BOOLEAN":
        return pa.array(rng.random(n) < 0.5, mask=missing)
    if field in _CHOICE_FIELDS:
        codes = np.array([c.value for c in _CHOICE_FIELDS[field]], dtype=object)
        return pa.array(codes[rng.integers(0, len(codes), size=n)], type=pa.string(), mask=missing)
    _, low, high = field_spec(field, LevelFindings)
    values = np.round(rng.uniform(low or 0.0, high or 10.0, size=n) / 4, 1)
    return pa.array(values, type=pa.float64(), mask=missing)


def _adjacent(
    fusion: np.ndarray, pick: np.ndarray, level: list[str | None]
) -> list[tuple[bool, bool, int]]:
    """Whether each level is next to the fused span, one of the index fusion's levels, and how
    many those are (screen.studies.place)."""
    found: list[tuple[bool, bool, int]] = []
    for f, (first, second), at in zip(fusion, pick, level, strict=True):
        if at is None:  # a study without per-level findings: no place (as the reader)
            found.append((False, False, 0))
            continue
        done = [OPERATIONS[k] for k in (first, second) if k >= 0]
        ops = "#".join(
            operation_key(kind, reason, getattr(LEVELS[f], w) if w else None)
            for kind, reason, w in done
        )
        found.append(place(LEVELS[f].levels, LEVELS[f].region, ops or None, at)[1:])
    return found


def _empty(columns: tuple[tuple[str, str], ...]) -> pa.Table:
    return pa.table({name: pa.array([], type=_arrow(sql)) for name, sql in columns})


def _visits(  # noqa: PLR0917
    rng: np.random.Generator,
    ids: pa.Array,
    region: np.ndarray,
    surgery_date: np.ndarray,
    dated: np.ndarray,
    age_days: np.ndarray,
) -> pa.Table:
    n = len(ids)
    has = rng.random(n) < 0.6
    baseline = has & (rng.random(n) < 0.6)
    slots = rng.random((n, len(_MONTHS))) < 0.45
    elapsed = age_days / 30.4
    start = {
        Instrument.NRS_AXIAL: rng.integers(3, 11, size=n).astype(float),
        Instrument.NRS_LIMB: rng.integers(2, 11, size=n).astype(float),
        Instrument.ODI: rng.integers(20, 80, size=n).astype(float),
        Instrument.NDI: rng.integers(20, 80, size=n).astype(float),
        Instrument.PROMIS_PF: rng.integers(25, 45, size=n).astype(float),
    }
    disability = np.where(region == "cervical", "ndi", "odi")
    parts: list[dict[str, Any]] = []
    rows = [(True, -1, baseline)] + [
        (False, k, has & slots[:, k] & (_MONTHS[k] <= elapsed)) for k in range(len(_MONTHS))
    ]
    for is_base, k, mask in rows:
        idx = np.nonzero(mask)[0]
        if not len(idx):
            continue
        month = np.full(len(idx), np.nan) if is_base else np.full(len(idx), _MONTHS[k])
        use_date = dated[idx] & (rng.random(len(idx)) < 0.5) & (not is_base)
        days = np.round(month * 30.4).astype("int64") if not is_base else np.zeros(len(idx), int)
        visit_date = surgery_date[idx] + np.where(use_date, days, 0) * _DAY
        part: dict[str, Any] = {
            EPISODE_ID: ids.take(pa.array(idx)),
            "baseline": pa.array(np.full(len(idx), is_base)),
            "visit_date": pa.array(visit_date, type=pa.date32(), mask=~use_date),
            "month": pa.array(month, type=pa.float64(), mask=use_date | is_base),
        }
        for instrument in Instrument:
            part[instrument.value] = _scores(rng, instrument, start, idx, disability, k)
        parts.append(part)
    names = [name for name, _ in VISIT_COLUMNS]
    for part in parts:
        scored = np.zeros(len(part["baseline"]), dtype=bool)
        for instrument in Instrument:
            scored |= part[instrument.value].is_valid().to_numpy(zero_copy_only=False)
        keep = pa.array(scored)
        for name in names:
            part[name] = part[name].filter(keep)
    if not parts:
        return _empty(VISIT_COLUMNS)
    tables = [pa.table({name: part[name] for name in names}) for part in parts]
    return pa.concat_tables(tables)


def _arrow(sql: str) -> pa.DataType:
    return {
        "VARCHAR": pa.string(),
        "BOOLEAN": pa.bool_(),
        "DATE": pa.date32(),
        "INTEGER": pa.int32(),
    }.get(sql, pa.float64())


def _scores(  # noqa: PLR0917
    rng: np.random.Generator,
    instrument: Instrument,
    start: dict[Instrument, np.ndarray],
    idx: np.ndarray,
    disability: np.ndarray,
    slot: int,
) -> pa.Array:
    m = len(idx)
    if instrument not in start:
        return pa.nulls(m, type=pa.float64())
    spread = {Instrument.ODI: 25, Instrument.NDI: 25, Instrument.PROMIS_PF: 10}.get(instrument, 5)
    low, high = {
        Instrument.PROMIS_PF: (10, 90),
        Instrument.ODI: (0, 100),
        Instrument.NDI: (0, 100),
    }.get(instrument, (0, 10))
    values = np.clip(start[instrument][idx] + rng.integers(-spread, spread + 1, size=m), low, high)
    missing = rng.random(m) < 0.25
    if instrument in (Instrument.ODI, Instrument.NDI):
        missing |= disability[idx] != instrument.value
    del slot
    return pa.array(values.astype(float), type=pa.float64(), mask=missing)


def write_registry(kb: Knowledge, cohort: Cohort, folder: Path, suffix: str = ".parquet") -> None:
    """Write a cohort in the registry layout (dotted case-file names, yes/no/not_sure, a ``when``
    column for visits, an operations file, an imaging studies file)."""
    folder.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.register("episodes", cohort.episodes)
    con.register("visits", cohort.visits)
    con.register("operations", cohort.operations)
    cols = [f"{EPISODE_ID}"]
    for fact in kb.data.facts:
        if fact.derived or fact.id in COLLECTIONS:
            continue
        name = column(fact.id)
        if fact.type is FactType.ANSWER:
            unsure = f"instr(concat(';', COALESCE({NOT_SURE}, ''), ';'), ';{fact.id};') > 0"
            cols.append(
                f"CASE WHEN {name} THEN 'yes' WHEN NOT {name} THEN 'no'"
                f" WHEN {unsure} THEN 'not_sure' END AS \"{fact.id}\""
            )
        else:
            cols.append(f'{name} AS "{fact.id}"')
    fmt = "PARQUET" if suffix == ".parquet" else "CSV, HEADER"
    con.execute(
        f"COPY (SELECT {', '.join(cols)} FROM episodes ORDER BY {EPISODE_ID})"
        f" TO '{folder / ('episodes' + suffix)}' (FORMAT {fmt})"
    )
    scores = ", ".join(i.value for i in Instrument)
    when = (
        "CASE WHEN baseline THEN 'baseline' WHEN visit_date IS NOT NULL"
        " THEN CAST(visit_date AS VARCHAR) ELSE CAST(month AS VARCHAR) END"
    )
    con.execute(
        f'COPY (SELECT {EPISODE_ID}, {when} AS "when", {scores} FROM visits'
        f" ORDER BY {EPISODE_ID}, baseline DESC, COALESCE(month, 0))"
        f" TO '{folder / ('visits' + suffix)}' (FORMAT {fmt})"
    )
    con.execute(
        f'COPY (SELECT {EPISODE_ID}, kind, op_date AS "date", months_since, levels, reason'
        f" FROM operations ORDER BY {EPISODE_ID}, seq)"
        f" TO '{folder / ('operations' + suffix)}' (FORMAT {fmt})"
    )
    con.register("studies", cohort.studies)
    cells = ", ".join(
        'study_date AS "date"' if n == "study_date" else n
        for n, _ in STUDY_COLUMNS
        if n not in {EPISODE_ID, "study", "seq", "adjacent", "in_index", "index_levels"}
    )
    con.execute(
        f"COPY (SELECT {EPISODE_ID}, 'study ' || CAST(study AS VARCHAR) AS study, {cells}"
        f" FROM studies ORDER BY {EPISODE_ID}, seq)"
        f" TO '{folder / ('imaging_studies' + suffix)}' (FORMAT {fmt})"
    )
    con.close()
