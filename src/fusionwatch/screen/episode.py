"""From an episode row (its visits and operations) back to a case file, so one row opens its full
assessment."""

import datetime as dt
import json
import typing
from collections.abc import Iterable, Iterator, Mapping
from enum import Enum
from functools import lru_cache
from typing import Any

import pyarrow as pa

from fusionwatch.core.case import Case
from fusionwatch.core.compiled import Knowledge
from fusionwatch.core.errors import CaseError, Problem
from fusionwatch.core.knowledge import FactType
from fusionwatch.core.scores import Instrument
from fusionwatch.core.timeline import timeline_problems
from fusionwatch.core.vocab import Answer
from fusionwatch.screen.columns import field_spec
from fusionwatch.screen.history import split_levels
from fusionwatch.screen.schema import (
    COLLECTIONS,
    EPISODE_ID,
    LEVEL_FIELDS,
    NOT_SURE,
    NOT_SURE_SEP,
    STUDY_FIELDS,
    column,
)

_ANSWER = {True: Answer.YES.value, False: Answer.NO.value}


def case_data(
    kb: Knowledge,
    row: Mapping[str, Any],
    visits: Iterable[Mapping[str, Any]],
    operations: Iterable[Mapping[str, Any]] = (),
    studies: Iterable[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    """The case-file data of one episode (unknown answers and empty cells are left out)."""
    data: dict[str, Any] = {"label": row[EPISODE_ID]}
    unsure = set(str(row.get(NOT_SURE) or "").split(NOT_SURE_SEP)) - {""}
    for fact, name, kind in _plan(kb):
        value = row.get(name)
        if fact in unsure:
            value = Answer.NOT_SURE.value
        elif value is None:
            continue
        elif kind is _Kind.ANSWER:
            value = _ANSWER[bool(value)]
        elif kind is _Kind.LIST:
            value = split_levels(str(value))
        elif kind is _Kind.WHOLE and float(value).is_integer():
            value = int(value)
        _put(data, fact, value)
    follow_up = [_visit(v) for v in visits]
    if follow_up:
        data["follow_up"] = follow_up
    done = [_operation(op) for op in sorted(operations, key=lambda op: int(op["seq"]))]
    if done:
        data.setdefault("surgery", {})["operations"] = done
    imaged = _studies(studies)
    if imaged:
        data.setdefault("imaging", {})["studies"] = imaged
    return data


def _studies(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The rows of the studies table (one per study and level) as the case file's studies."""
    found: dict[int, dict[str, Any]] = {}
    for row in sorted(rows, key=lambda r: (int(r["study"]), int(r["seq"]))):
        study = found.get(int(row["study"]))
        if study is None:
            study = {"modality": row["modality"]}
            if row.get("study_date") is not None:
                study["date"] = row["study_date"]
            if row.get("months_since") is not None:
                study["months_since"] = float(row["months_since"])
            study.update(_filled(row, (n for n, _ in STUDY_FIELDS[3:])))
            study["levels"] = []
            found[int(row["study"])] = study
        if row.get("level") is not None:
            level = {"level": row["level"], **_filled(row, (n for n, _ in LEVEL_FIELDS))}
            study["levels"].append(level)
    return list(found.values())


def _filled(row: Mapping[str, Any], names: Iterable[str]) -> dict[str, Any]:
    """The given cells of ``names`` as case-file values (yes/no for answers)."""
    found: dict[str, Any] = {}
    for name in names:
        value = row.get(name)
        if value is None:
            continue
        found[name] = _ANSWER[value] if isinstance(value, bool) else value
    return found


class _Kind(Enum):
    ANSWER = "answer"
    LIST = "list"  # a list field (levels), held in one cell as ';'-separated text
    WHOLE = "whole"  # a number the case file takes as a whole number
    PLAIN = "plain"


@lru_cache(maxsize=4)
def _plan(kb: Knowledge) -> tuple[tuple[str, str, _Kind], ...]:
    """Each input fact's column and how its cell becomes case-file data (worked out once)."""
    found = []
    for fact in kb.data.facts:
        if fact.derived or fact.id in COLLECTIONS:
            continue
        kind = field_spec(fact.id)[0]
        if fact.type is FactType.ANSWER:
            how = _Kind.ANSWER
        elif typing.get_origin(kind) is tuple:
            how = _Kind.LIST
        elif fact.type is FactType.NUMBER and kind is int:
            how = _Kind.WHOLE
        else:
            how = _Kind.PLAIN
        found.append((fact.id, column(fact.id), how))
    return tuple(found)


def _operation(op: Mapping[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = {"kind": op["kind"]}
    if op.get("op_date") is not None:
        found["date"] = op["op_date"]
    if op.get("months_since") is not None:
        found["months_since"] = float(op["months_since"])
    if op.get("levels"):
        found["levels"] = split_levels(str(op["levels"]))
    if op.get("reason") is not None:
        found["reason"] = op["reason"]
    return found


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


def _grouped(table: pa.Table | None) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for row in table.to_pylist() if table is not None else ():
        found.setdefault(row[EPISODE_ID], []).append(row)
    return found


def cases(  # noqa: PLR0917
    kb: Knowledge,
    episodes: pa.Table,
    visits: pa.Table,
    as_of: dt.date,
    operations: pa.Table | None = None,
    studies: pa.Table | None = None,
) -> Iterator[Case]:
    """Every episode of a table as a case the single-case reader accepts, in table order.

    The case model validates each one and the reader's timeline checks (``core.timeline``) must
    hold, as when the workspace opens the episode: ``CaseError`` otherwise.
    """
    by_episode, ops, imaged = _grouped(visits), _grouped(operations), _grouped(studies)
    context = {"as_of": as_of}
    for row in episodes.to_pylist():
        key = row[EPISODE_ID]
        data = case_data(kb, row, by_episode.get(key, ()), ops.get(key, ()), imaged.get(key, ()))
        # The case file is JSON; its reader's JSON mode turns the codes into the vocabularies.
        case = Case.model_validate_json(json.dumps(data, default=_iso), context=context)
        problems = timeline_problems(case, as_of)
        if problems:
            raise CaseError([Problem(f"{key}: {p.field}", p.message) for p in problems])
        yield case


def _iso(value: object) -> str:
    if isinstance(value, dt.date):
        return value.isoformat()
    raise TypeError(f"cannot write {type(value).__name__} into a case file")
