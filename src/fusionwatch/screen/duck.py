"""Runs the screening query embedded in DuckDB (no server) over Arrow tables or registered views."""

import datetime as dt
from collections.abc import Callable

import duckdb
import pyarrow as pa

from fusionwatch.core.compiled import Knowledge
from fusionwatch.core.site import DEFAULT_SITE, Site
from fusionwatch.screen.query import screening_sql
from fusionwatch.screen.schema import EPISODE_ID
from fusionwatch.screen.studies import empty_studies


def screen_arrow(
    kb: Knowledge,
    episodes: pa.Table,
    visits: pa.Table,
    operations: pa.Table,
    as_of: dt.date,
    *,
    site: Site = DEFAULT_SITE,
    mutate: Callable[[str, str], str] | None = None,
    studies: pa.Table | None = None,
) -> pa.Table:
    """Screen episodes held in memory; the result is ordered by episode id."""
    con = duckdb.connect()
    try:
        con.register("episodes", episodes)
        con.register("visits", visits)
        con.register("operations", operations)
        if studies is None:
            con.execute(empty_studies())
        else:
            con.register("studies", studies)
        sql = screening_sql(kb, as_of, site, mutate=mutate)
        return con.sql(f"SELECT * FROM ({sql}) ORDER BY {EPISODE_ID}").to_arrow_table()
    finally:
        con.close()
