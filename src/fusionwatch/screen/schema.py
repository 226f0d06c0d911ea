"""The episode table: one row per person and index fusion, one column per fact the rules read.

Column names are the fact ids with ``.`` replaced by ``__`` so that every SQL engine accepts them
unquoted. Yes/no answers are BOOLEAN with NULL for unknown, choices are text codes, numbers are
DOUBLE. Score visits live in a child table (one row per visit, as ``track import`` reads them).
"""

from dataclasses import dataclass

from fusionwatch.core.compiled import Knowledge
from fusionwatch.core.knowledge import FactType
from fusionwatch.core.scores import Instrument

EPISODE_ID = "episode_id"
# Collections in the case file; in the episode table they are only "given or not".
COLLECTIONS = frozenset({"follow_up", "imaging.studies"})
# Facts computed from the levels text once per distinct value when a source is read.
LEVEL_FACTS = ("derived.level_count", "derived.vertebra_count")
SQL_TYPE = {
    FactType.ANSWER: "BOOLEAN",
    FactType.NUMBER: "DOUBLE",
    FactType.CHOICE: "VARCHAR",
    FactType.DATE: "DATE",
    FactType.TEXT: "VARCHAR",
}
VISIT_COLUMNS: tuple[tuple[str, str], ...] = (
    (EPISODE_ID, "VARCHAR"),
    ("baseline", "BOOLEAN"),
    ("visit_date", "DATE"),
    ("month", "DOUBLE"),
    *((i.value, "DOUBLE") for i in Instrument),
)


def column(fact: str) -> str:
    """The SQL column that holds a fact."""
    return fact.replace(".", "__")


@dataclass(frozen=True, slots=True)
class EpisodeColumn:
    fact: str
    sql_type: str

    @property
    def name(self) -> str:
        return column(self.fact)


def episode_columns(kb: Knowledge) -> tuple[EpisodeColumn, ...]:
    """Every column of the episode table, in knowledge-base order, after the episode id."""
    found = [EpisodeColumn(EPISODE_ID, "VARCHAR")]
    for fact in kb.data.facts:
        if fact.derived:
            continue
        sql_type = "VARCHAR" if fact.id in COLLECTIONS else SQL_TYPE[fact.type]
        found.append(EpisodeColumn(fact.id, sql_type))
    found += [EpisodeColumn(f, "DOUBLE") for f in LEVEL_FACTS]
    return tuple(found)
