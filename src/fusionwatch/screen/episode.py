"""From an episode row (and its visits) back to a case file, so one row opens its full assessment."""

import datetime as dt
import json
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import pyarrow as pa

from fusionwatch.core.case import Case
from fusionwatch.core.compiled import Knowledge
from fusionwatch.core.knowledge import FactType
from fusionwatch.core.scores import Instrument
from fusionwatch.screen.columns import field_spec
from fusionwatch.screen.schema import COLLECTIONS, EPISODE_ID, column

_ANSWER = {True: "yes", False: "no"}


def case_data(
    kb: Knowledge, row: Mapping[str, Any], visits: Iterable[Mapping[str, Any]]
) -> dict[str, Any]:
    """The case-file data of one episode (unknown answers and empty cells are left out)."""
    data: dict[str, Any] = {"label": row[EPISODE_ID]}
    for fact in kb.data.facts:
        if fact.derived or fact.id in COLLECTIONS:
            continue
        value = row.get(column(fact.id))
        if value is None:
            continue
        if fact.type is FactType.ANSWER:
            value = _ANSWER[bool(value)]
        elif fact.id == "surgery.levels":
            value = [part for part in str(value).split(";") if part]
        elif fact.type is FactType.NUMBER and float(value).is_integer() and _is_int(fact.id):
            value = int(value)
        _put(data, fact.id, value)
    follow_up = [_visit(v) for v in visits]
    if follow_up:
        data["follow_up"] = follow_up
    return data


def _is_int(fact: str) -> bool:
    return field_spec(fact)[0] is int


def _put(data: dict[str, Any], path: str, value: object) -> None:
    *parents, leaf = path.split(".")
    node = data
    for part in parents:
        node = node.setdefault(part, {})
    node[leaf] = value


def _visit(visit: Mapping[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    if visit.get("baseline"):
        found["baseline"] = True
    if visit.get("visit_date") is not None:
        found["date"] = visit["visit_date"]
    if visit.get("month") is not None:
        found["month"] = float(visit["month"])
    for instrument in Instrument:
        if visit.get(instrument.value) is not None:
            found[instrument.value] = float(visit[instrument.value])
    return found


def cases(kb: Knowledge, episodes: pa.Table, visits: pa.Table, as_of: dt.date) -> Iterator[Case]:
    """Every episode of a table as a validated case, in table order."""
    by_episode: dict[str, list[dict[str, Any]]] = {}
    for visit in visits.to_pylist():
        by_episode.setdefault(visit[EPISODE_ID], []).append(visit)
    context = {"as_of": as_of}
    for row in episodes.to_pylist():
        data = case_data(kb, row, by_episode.get(row[EPISODE_ID], ()))
        # The case file is JSON; its reader's JSON mode turns the codes into the vocabularies.
        yield Case.model_validate_json(json.dumps(data, default=_iso), context=context)


def _iso(value: object) -> str:
    if isinstance(value, dt.date):
        return value.isoformat()
    raise TypeError(f"cannot write {type(value).__name__} into a case file")
