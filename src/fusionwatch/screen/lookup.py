"""Small tables worked out in Python (a history's level count, a study level's place) handed to
DuckDB in one step.

Inserting row by row with ``executemany`` binds every value apart: about a second per 2,000 rows,
which at 1,000,000 episodes was the largest cost of reading a registry. The rows go in as one
Arrow table instead and are cast to the declared SQL types.
"""

from collections.abc import Sequence
from typing import Any

import duckdb
import pyarrow as pa

# A name no source table uses; dropped again once the table is built.
_SOURCE = "_fusionwatch_lookup_rows"


def lookup_table(
    con: duckdb.DuckDBPyConnection,
    name: str,
    columns: Sequence[tuple[str, str]],
    rows: Sequence[Sequence[Any]],
) -> None:
    """Create (or replace) the temporary table ``name`` with these ``(column, SQL type)`` columns
    holding ``rows``, each a sequence of values in column order."""
    arrays = {column: [row[i] for row in rows] for i, (column, _) in enumerate(columns)}
    casts = ", ".join(f'CAST("{column}" AS {kind}) AS {column}' for column, kind in columns)
    con.register(_SOURCE, pa.table(arrays))
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT {casts} FROM {_SOURCE}")
    finally:
        con.unregister(_SOURCE)
