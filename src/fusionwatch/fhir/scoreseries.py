"""Outcome scores an EHR keeps as single LOINC-coded Observations, gathered into visits.

A score is placed in time only when it is dated to the day and the fusion date is known to the
day. Scores of one day form one visit. Scores before the fusion are the pre-operative baseline:
the latest such day is used and earlier days are reported. A score on the day of the fusion
counts only when both carry a time with a zone, so that before and after can be told apart.
Nothing is guessed: a score outside its scale, in another unit, with a comparator (``<20``), after
the assessment date, or in conflict with another score of the same day is reported, not used.
"""

import datetime as dt
import json
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from fusionwatch.core.scores import Visit
from fusionwatch.fhir.codes import SCORE_LOINC, System
from fusionwatch.files.case import plain_message

Resource = dict[str, Any]
# LOINC code → visit field. The export's codes, plus PROMIS Physical Function T-scores of the
# PF 6b short form (77866-2) and of PROMIS-29 (71959-1); both report on the same T-score metric.
INSTRUMENT_OF_LOINC = {code: name for name, code in SCORE_LOINC.items()} | {
    "77866-2": "promis_pf",
    "71959-1": "promis_pf",
}
# UCUM codes a score may carry (scores have no physical unit); a quantity may also have none.
SCORE_UNITS = {
    "odi": {"{score}", "%", "1"},
    "ndi": {"{score}", "%", "1"},
    "promis_pf": {"{T-score}", "{score}", "1"},
}


@dataclass(frozen=True, slots=True)
class Score:
    source: str
    when: str  # effectiveDateTime as given (a day, or a day and time)
    field: str
    value: float

    @property
    def day(self) -> str:
        return self.when[:10]


def score_field(resource: Resource) -> str | None:
    """The visit field a LOINC-coded Observation carries, or None."""
    for coding in (resource.get("code") or {}).get("coding") or ():
        if coding.get("system") == System.LOINC and coding.get("code") in INSTRUMENT_OF_LOINC:
            return INSTRUMENT_OF_LOINC[coding["code"]]
    return None


def read_score(resource: Resource, source: str, field: str) -> tuple[Score | None, str]:
    """The score, or None with the reason it cannot be used."""
    when = str(resource.get("effectiveDateTime") or "")
    if len(when) < 10:
        return None, f"{field} score not dated to the day ({when or 'no date'})"
    value, problem = _number(resource, field)
    if value is None:
        return None, problem
    try:
        Visit.model_validate_json(json.dumps({"date": when[:10], field: value}))
    except ValidationError as err:
        return None, f"{field} score {value:g}: {plain_message(err.errors()[0])}"
    return Score(source, when, field, value), ""


def _number(resource: Resource, field: str) -> tuple[float | None, str]:
    if isinstance(resource.get("valueInteger"), int):
        return float(resource["valueInteger"]), ""
    quantity = resource.get("valueQuantity") or {}
    code, unit = quantity.get("code"), quantity.get("unit")
    if quantity.get("comparator"):
        return None, f"{field} score is {quantity['comparator']} {quantity.get('value')}"
    if code is None and unit is not None:
        return None, f"{field} score in unit {unit!r} without a UCUM code"
    known = code in SCORE_UNITS[field]
    if code is not None and (quantity.get("system") != System.UCUM or not known):
        return None, f"{field} score in unit {code}, not a score unit"
    value = quantity.get("value")
    if not isinstance(value, int | float):
        return None, f"{field} score has no numeric value"
    return float(value), ""


def visits_from_scores(
    scores: list[Score], fusion: str | None, as_of: dt.date
) -> tuple[list[dict[str, Any]], list[tuple[str, str]]]:
    """Visits (case data) and (source, reason) for each score that could not be placed.

    ``fusion`` is the fusion's performed date-time as given (a day, or a day and time).
    """
    if not scores:
        return [], []
    if fusion is None or len(fusion) < 10:
        reason = "cannot assess: a dated score needs the fusion date to the day"
        return [], [(s.source, reason) for s in scores]
    notes: list[tuple[str, str]] = []
    placed: list[tuple[str, Score]] = []  # (slot: "baseline" or the day, score)
    sides = [(score, _side(score.when, fusion)) for score in scores]
    baseline = max((s.day for s, side in sides if side == "before"), default=None)
    for score, side in sides:
        if score.day > as_of.isoformat():
            notes.append((score.source, f"cannot assess: dated {score.day}, after {as_of}"))
        elif side == "unclear":
            reason = "cannot assess: scored on the day of the fusion, before or after it unknown"
            notes.append((score.source, reason))
        elif side == "before" and score.day != baseline:
            notes.append((score.source, f"ignored: an earlier pre-operative score ({score.day})"))
        elif side == "before":
            reason = f"read as the pre-operative baseline ({score.day}; fusion {fusion[:10]})"
            notes.append((score.source, reason))
            placed.append(("baseline", score))
        else:
            placed.append((score.day, score))
    return _visits(placed, notes), notes


def _visits(placed: list[tuple[str, Score]], notes: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """One visit per slot; a field with two different values on one slot is left out."""
    values: dict[tuple[str, str], list[Score]] = defaultdict(list)
    for slot, score in placed:
        values[slot, score.field].append(score)
    visits: dict[str, dict[str, Any]] = {}
    for (slot, field), found in sorted(values.items()):
        if len({s.value for s in found}) > 1:
            shown = ", ".join(f"{s.value:g}" for s in found)
            reason = f"cannot assess: different {field} scores on {found[0].day} ({shown})"
            notes += [(s.source, reason) for s in found]
            continue
        visit = visits.setdefault(slot, {"date": found[0].day})
        if slot == "baseline":
            visit["baseline"] = True
        visit[field] = found[0].value
    return sorted(visits.values(), key=lambda v: (not v.get("baseline"), v["date"]))


def _side(when: str, fusion: str) -> str:
    """Whether a score was taken before or after the fusion, or "unclear"."""
    at, fused = _instant(when), _instant(fusion)
    if at is not None and fused is not None:
        side = "before" if at < fused else "after"
        # The visit keeps its local day, which must not contradict the side.
        agrees = when[:10] <= fusion[:10] if side == "before" else when[:10] >= fusion[:10]
        return side if agrees else "unclear"
    if when[:10] == fusion[:10]:
        return "unclear"
    return "before" if when[:10] < fusion[:10] else "after"


def _instant(when: str) -> dt.datetime | None:
    """A date-time with a zone, or None for a bare day or a time without a zone."""
    if len(when) <= 10:
        return None
    try:
        moment = dt.datetime.fromisoformat(when)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None
