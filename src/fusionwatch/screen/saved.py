"""A screening run as rows for the workspace: the worklist in order, each with its case data.

The case data is rebuilt from the checked episode tables (the same as `screen.episode.cases`), so
opening a row in the workspace runs the single-case engine on exactly what was screened.
"""

from collections.abc import Iterator
from typing import Any

import duckdb

from fusionwatch.core.compiled import Knowledge
from fusionwatch.screen.episode import case_data
from fusionwatch.screen.schema import EPISODE_ID
from fusionwatch.screen.worklist import IN_ORDER

_COLUMNS = (
    "rank",
    "worklist_group",
    "episode_id",
    "triage",
    "suspicion",
    "months_since_surgery",
    "reasons",
    "open_questions",
    "next_follow_up",
    "set_aside",
)


def _grouped(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for row in con.table(table).to_arrow_table().to_pylist():
        found.setdefault(row[EPISODE_ID], []).append(row)
    return found


def worklist_rows(con: duckdb.DuckDBPyConnection, kb: Knowledge) -> Iterator[dict[str, Any]]:
    """Every screened episode in worklist order, with the case data of the episode."""
    visits, operations = _grouped(con, "visits"), _grouped(con, "operations")
    studies = _grouped(con, "studies")
    episodes = {row[EPISODE_ID]: row for row in con.table("episodes").to_arrow_table().to_pylist()}
    names = ", ".join(_COLUMNS)
    cursor = con.execute(f"SELECT {names} FROM {IN_ORDER}")
    while batch := cursor.fetchmany(1_000):
        for values in batch:
            row = dict(zip(_COLUMNS, values, strict=True))
            key = row["episode_id"]
            row["case_data"] = _jsonable(
                case_data(
                    kb,
                    episodes[key],
                    visits.get(key, ()),
                    operations.get(key, ()),
                    studies.get(key, ()),
                )
            )
            yield row


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value.isoformat() if hasattr(value, "isoformat") else value
