"""Generated synthetic cohorts (no real person): an episode table and its score visits, vectorised.

Every input fact of the knowledge base gets a column, with answers, choices and numbers drawn
over their whole range and a share left unknown; the ranges come from the case model's own
bounds, so a fact added to the knowledge base is generated without code here. The cohorts are
valid cases (levels fit the region, ODI only outside the neck, one visit per time point).
"""

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from fusionwatch.core.compiled import Knowledge
from fusionwatch.core.knowledge import FactType
from fusionwatch.core.scores import Instrument
from fusionwatch.core.spine import parse_level, vertebrae_of
from fusionwatch.screen.columns import field_spec
from fusionwatch.screen.schema import COLLECTIONS, EPISODE_ID, VISIT_COLUMNS, column

# Fused segments by region; each set is a valid fusion for its region.
LEVELS: tuple[tuple[str | None, str | None], ...] = (
    ("lumbar", "L4-L5"),
    ("lumbar", "L3-L4;L4-L5"),
    ("lumbosacral", "L5-S1"),
    ("lumbosacral", "L4-S1"),
    ("lumbosacral", "L3-S1"),
    ("cervical", "C5-C6"),
    ("cervical", "C4-C6"),
    ("thoracic", "T10-T12"),
    (None, "L4-L5"),
    ("lumbar", None),
    (None, None),
)
_MONTHS = np.array([1.0, 1.5, 3.0, 4.0, 6.0, 9.0, 12.0, 18.0, 24.0])
_DAY = np.timedelta64(1, "D")


@dataclass(frozen=True, slots=True)
class Cohort:
    episodes: pa.Table
    visits: pa.Table


def field_type(path: str) -> type:
    """The Python type of a case field (int fields take whole numbers only)."""
    kind: type = field_spec(path)[0]
    return kind


def _field(path: str) -> tuple[type, float | None, float | None]:
    return field_spec(path)


# Answer profiles (share of yes, share of no; the rest unknown): a typical record, a fully
# answered quiet one, and a sparse one, so that rare all-"no" conditions are met too.
_PROFILES = np.array([(0.3, 0.45), (0.08, 0.92), (0.1, 0.2)])
_EMERGENCY = np.array([(0.03, 0.82), (0.01, 0.99), (0.02, 0.3)])


def _answers(rng: np.random.Generator, profile: np.ndarray, emergency: bool) -> pa.Array:
    shares = (_EMERGENCY if emergency else _PROFILES)[profile]
    u = rng.random(len(profile))
    yes, known = u < shares[:, 0], u < shares[:, 0] + shares[:, 1]
    return pa.array(yes, mask=~known)


def _choices(rng: np.random.Generator, n: int, values: tuple[str, ...]) -> pa.Array:
    draw = rng.integers(0, len(values) + 1, size=n)
    options = np.array([*values, ""], dtype=object)
    return pa.array(options[draw], type=pa.string(), mask=draw == len(values))


def _numbers(rng: np.random.Generator, n: int, fact: str) -> pa.Array:
    kind, low, high = _field(fact)
    low, high = low if low is not None else 0.0, high if high is not None else 100.0
    values = rng.uniform(low, high, size=n)
    values = np.round(values) if kind is int else np.round(values, 1)
    return pa.array(values, type=pa.float64(), mask=rng.random(n) < 0.3)


def generate(kb: Knowledge, n: int, as_of: dt.date, seed: int = 14) -> Cohort:
    """A cohort of ``n`` episodes with unknowns, score series and imaging summaries."""
    rng = np.random.default_rng(seed)
    ids = pa.array([f"E{i:07d}" for i in range(n)])
    columns: dict[str, pa.Array] = {EPISODE_ID: ids}
    region_levels = rng.integers(0, len(LEVELS), size=n)
    profile = rng.choice(3, size=n, p=(0.6, 0.25, 0.15))
    today = np.datetime64(as_of.isoformat(), "D")
    age_days = rng.integers(0, 60 * 30, size=n)
    dated = rng.random(n) < 0.6
    given_months = rng.random(n) < 0.7
    surgery_date = (today - age_days * _DAY).astype("datetime64[D]")
    for fact in kb.data.facts:
        if fact.derived or fact.id in COLLECTIONS:
            continue
        name = column(fact.id)
        if fact.id == "surgery.region":
            regions = np.array([r or "" for r, _ in LEVELS], dtype=object)[region_levels]
            columns[name] = pa.array(regions, type=pa.string(), mask=regions == "")
        elif fact.id == "surgery.levels":
            levels = np.array([lv or "" for _, lv in LEVELS], dtype=object)[region_levels]
            columns[name] = pa.array(levels, type=pa.string(), mask=levels == "")
        elif fact.id == "surgery.date":
            columns[name] = pa.array(surgery_date, type=pa.date32(), mask=~dated)
        elif fact.id == "surgery.months_since":
            months = np.round(age_days / 30.4, 1)
            columns[name] = pa.array(months, type=pa.float64(), mask=dated | ~given_months)
        elif fact.type is FactType.DATE:
            columns[name] = pa.nulls(n, type=pa.date32())
        elif fact.type is FactType.ANSWER:
            columns[name] = _answers(rng, profile, fact.id.startswith("emergency."))
        elif fact.type is FactType.CHOICE:
            columns[name] = _choices(rng, n, fact.values)
        elif fact.type is FactType.NUMBER:
            columns[name] = _numbers(rng, n, fact.id)
        else:
            columns[name] = pa.nulls(n, type=pa.string())
    for name in ("follow_up", "imaging__studies"):
        columns[name] = pa.nulls(n, type=pa.string())
    counts = _level_counts()
    columns["derived__level_count"] = pa.array(
        [counts[i][0] for i in region_levels], type=pa.float64()
    )
    columns["derived__vertebra_count"] = pa.array(
        [counts[i][1] for i in region_levels], type=pa.float64()
    )
    episodes = pa.table(columns)
    region = np.array([r or "" for r, _ in LEVELS], dtype=object)[region_levels]
    visits = _visits(rng, ids, region, surgery_date, dated, age_days)
    return Cohort(episodes, visits)


def _level_counts() -> list[tuple[float | None, float | None]]:
    found: list[tuple[float | None, float | None]] = []
    for _, text in LEVELS:
        segments: list[str] = []
        for part in (text or "").split(";"):
            if part:
                segments += [s for s in parse_level(part) if s not in segments]
        found.append(
            (float(len(segments)) or None, float(len(vertebrae_of(tuple(segments)))) or None)
        )
    return found


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
        return pa.table({name: pa.array([], type=_arrow(sql)) for name, sql in VISIT_COLUMNS})
    tables = [pa.table({name: part[name] for name in names}) for part in parts]
    return pa.concat_tables(tables)


def _arrow(sql: str) -> pa.DataType:
    return {"VARCHAR": pa.string(), "BOOLEAN": pa.bool_(), "DATE": pa.date32()}.get(
        sql, pa.float64()
    )


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
    """Write a cohort in the registry layout (dotted case-file names, yes/no, a ``when`` column)."""
    folder.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.register("episodes", cohort.episodes)
    con.register("visits", cohort.visits)
    cols = [f"{EPISODE_ID}"]
    for fact in kb.data.facts:
        if fact.derived or fact.id in COLLECTIONS:
            continue
        name = column(fact.id)
        if fact.type is FactType.ANSWER:
            cols.append(
                f"CASE {name} WHEN TRUE THEN 'yes' WHEN FALSE THEN 'no' END AS \"{fact.id}\""
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
    con.close()
