"""Runs the same screening SQL on Apache Spark (``local[*]`` in tests, a cluster URL in production).

The compiler emits Spark's date functions through its dialect; the few type names that differ
are mapped here. Spark inlines a common table expression into every step that reads it, so a
step read several times must stay narrow (the score trajectories read one row per visit and a
narrow timing step, never the wide episode row). PySpark is an optional extra
(``fusionwatch[spark]``) and needs a Java runtime.
"""

import datetime as dt
from typing import Any

import pyarrow as pa

from fusionwatch.core.compiled import Knowledge
from fusionwatch.core.site import DEFAULT_SITE, Site
from fusionwatch.screen.dialect import SPARK
from fusionwatch.screen.query import screening_sql
from fusionwatch.screen.schema import EPISODE_ID, STUDY_COLUMNS, empty_table
from fusionwatch.screen.worklist import WORKLIST_INPUT

OUTPUT = WORKLIST_INPUT


def spark_sql(kb: Knowledge, as_of: dt.date, site: Site = DEFAULT_SITE) -> str:
    """The screening query in Spark SQL."""
    return _spark_types(screening_sql(kb, as_of, site, dialect=SPARK))


def session(master: str, driver_memory: str | None = None) -> Any:
    """A Spark session for screening (no web UI, UTC dates).

    ``driver_memory`` (e.g. ``4g``) matters in ``local`` mode, where the driver does the work; it
    only takes effect when this call starts the JVM.
    """
    from pyspark.sql import SparkSession  # noqa: PLC0415 - optional extra

    builder: Any = SparkSession.builder
    if driver_memory is not None:
        builder = builder.config("spark.driver.memory", driver_memory)
    return (
        builder.master(master)
        .appName("fusionwatch-screen")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.ui.showConsoleProgress", "false")
        .getOrCreate()
    )


def screen_spark(  # noqa: PLR0917
    spark: Any,
    kb: Knowledge,
    episodes: pa.Table,
    visits: pa.Table,
    operations: pa.Table,
    as_of: dt.date,
    site: Site = DEFAULT_SITE,
    studies: pa.Table | None = None,
) -> pa.Table:
    """Screen Arrow tables on Spark; the result is ordered by episode id."""
    spark.createDataFrame(episodes).createOrReplaceTempView("episodes")
    spark.createDataFrame(visits).createOrReplaceTempView("visits")
    spark.createDataFrame(operations).createOrReplaceTempView("operations")
    spark.createDataFrame(
        empty_table(STUDY_COLUMNS) if studies is None else studies
    ).createOrReplaceTempView("studies")
    frame = screened_frame(spark, kb, as_of, site).orderBy(EPISODE_ID)
    table: pa.Table = frame.toArrow()
    return table


def register_parquet(spark: Any, folder: str) -> None:
    """Checked episode, visit and operation tables written as Parquet (``episodes.parquet`` ...)
    become the query's views: the way a cluster reads a large cohort from shared storage."""
    for name in ("episodes", "visits", "operations", "studies"):
        spark.read.parquet(f"{folder}/{name}.parquet").createOrReplaceTempView(name)


def screened_frame(spark: Any, kb: Knowledge, as_of: dt.date, site: Site = DEFAULT_SITE) -> Any:
    """The screening query over the registered views, as a Spark DataFrame of the worklist input."""
    return spark.sql(spark_sql(kb, as_of, site)).select(*OUTPUT)


def _spark_types(sql: str) -> str:
    return sql.replace(" AS VARCHAR)", " AS STRING)")
