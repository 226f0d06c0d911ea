"""Outcome scores an EHR keeps as single LOINC-coded Observations, gathered into visits.

Each score must be dated to the day and the fusion date must be known, or it cannot be placed in
time. Scores of one day form one visit; scores dated before the fusion are the pre-operative
baseline (the latest such day; earlier days are reported and left out).
"""

import datetime as dt
from dataclasses import dataclass
from typing import Any

from fusionwatch.fhir.codes import SCORE_LOINC, System

Resource = dict[str, Any]
# LOINC code → visit field. The export's codes, plus PROMIS Physical Function T-scores of the
# PF 6b short form (77866-2) and of PROMIS-29 (71959-1); both report on the same T-score metric.
INSTRUMENT_OF_LOINC = {code: name for name, code in SCORE_LOINC.items()} | {
    "77866-2": "promis_pf",
    "71959-1": "promis_pf",
}
# Units a score may carry: scores have none, so only UCUM's unity, annotations and per cent.
_SCORE_UNITS = {None, "1", "{score}", "{T-score}", "%"}


@dataclass(frozen=True, slots=True)
class Score:
    source: str
    day: str
    field: str
    value: float


def score_field(resource: Resource) -> str | None:
    """The visit field a LOINC-coded Observation carries, or None."""
    for coding in (resource.get("code") or {}).get("coding") or ():
        if coding.get("system") == System.LOINC and coding.get("code") in INSTRUMENT_OF_LOINC:
            return INSTRUMENT_OF_LOINC[coding["code"]]
    return None


def read_score(resource: Resource, source: str, field: str) -> tuple[Score | None, str]:
    """The score, or None with the reason it cannot be used."""
    day = str(resource.get("effectiveDateTime") or "")[:10]
    if len(day) != 10:
        return None, f"{field} score not dated to the day ({day or 'no date'})"
    if isinstance(resource.get("valueInteger"), int):
        return Score(source, day, field, float(resource["valueInteger"])), ""
    quantity = resource.get("valueQuantity") or {}
    if quantity.get("code") not in _SCORE_UNITS:
        return None, f"{field} score in unit {quantity.get('code')}, not a score"
    value = quantity.get("value")
    if not isinstance(value, int | float):
        return None, f"{field} score has no numeric value"
    return Score(source, day, field, float(value)), ""


def visits_from_scores(
    scores: list[Score], surgery_date: dt.date | None
) -> tuple[list[dict[str, Any]], list[tuple[str, str]]]:
    """Visits (case data) and (source, reason) for each score that could not be placed."""
    if not scores:
        return [], []
    if surgery_date is None:
        reason = "cannot assess: a dated score needs the fusion date to the day"
        return [], [(s.source, reason) for s in scores]
    fusion = surgery_date.isoformat()
    before = sorted({s.day for s in scores if s.day <= fusion})
    baseline = before[-1] if before else None
    visits: dict[str, dict[str, Any]] = {}
    left_out = []
    for score in sorted(scores, key=lambda s: s.day):
        if score.day <= fusion and score.day != baseline:
            left_out.append(
                (score.source, f"ignored: an earlier pre-operative score ({score.day})")
            )
            continue
        visit = visits.setdefault(score.day, {"date": score.day})
        if score.day == baseline:
            visit["baseline"] = True
        visit[score.field] = score.value
    return list(visits.values()), left_out
