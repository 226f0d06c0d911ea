"""The episode table: one row per person and index fusion, one column per fact the rules read.

Column names are the fact ids with ``.`` replaced by ``__`` so that every SQL engine accepts them
unquoted. Yes/no answers are BOOLEAN with NULL for unknown, choices are text codes, numbers are
DOUBLE. Score visits live in a child table (one row per visit, as ``track import`` reads them),
and so do later operations (extensions, revisions, stages; one row per operation, in order).

An answer's column holds yes/no/unknown; the answers given as "not sure" (asked, could not say)
are listed by fact id in ``answers_not_sure``, because triage treats a "not sure" to an emergency
question differently from a question no one asked (decision 0009).
"""

from dataclasses import dataclass

import pyarrow as pa

from fusionwatch.core.compiled import Knowledge
from fusionwatch.core.imaging import LevelFindings, Study
from fusionwatch.core.knowledge import FactType
from fusionwatch.core.scores import Instrument
from fusionwatch.core.vocab import Answer

EPISODE_ID = "episode_id"
# Collections in the case file; in the episode table they are only "given or not".
COLLECTIONS = frozenset({"follow_up", "imaging.studies", "surgery.operations"})
# Facts computed from the levels (index fusion and later operations) once per distinct history
# when a source is read (screen.history), with the core's own functions.
LEVEL_FACTS = (
    "derived.level_count",
    "derived.vertebra_count",
    "derived.levels_at_least",
    "derived.vertebrae_at_least",
)
# The history shows a revision for nonunion at earlier fused levels (core.derive.timing).
HISTORY_FAILED = "history_failed_fusion"
# Answer facts given as "not sure", ';'-separated fact ids (NULL when none).
NOT_SURE = "answers_not_sure"
NOT_SURE_SEP = ";"
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
# Later operations: ``seq`` orders them as in the case file; levels are ';'-separated segments.
OPERATION_COLUMNS: tuple[tuple[str, str], ...] = (
    (EPISODE_ID, "VARCHAR"),
    ("seq", "INTEGER"),
    ("kind", "VARCHAR"),
    ("op_date", "DATE"),
    ("months_since", "DOUBLE"),
    ("levels", "VARCHAR"),
    ("reason", "VARCHAR"),
)


# Imaging studies: one row per episode, study and level (``level`` NULL for a study without
# per-level findings). ``study`` numbers the episode's studies in order, ``seq`` its rows in order
# (the order of the case file). ``adjacent`` is worked out by the reader with the case model
# (screen.history), once per distinct history and level: the level is next to the fused span,
# not part of it (core.derive.studies judges such findings apart); ``in_index``: the level is one
# of the index fusion's own levels, of which there are ``index_levels`` (ct_solid_fusion counts
# those, core.derive.record.ct_solid).
_ANSWER_FIELDS = {"nerve_compression", "infection_signs", "collection"}
STUDY_FIELDS: tuple[tuple[str, str], ...] = (
    ("modality", "VARCHAR"),
    ("study_date", "DATE"),
    ("months_since", "DOUBLE"),
    *((name, "BOOLEAN") for name in Study.model_fields if name in _ANSWER_FIELDS),
)
# The per-level findings read from a table (landmark points are not: give angle/translation).
LEVEL_FIELDS: tuple[tuple[str, str], ...] = tuple(
    (
        name,
        "BOOLEAN"
        if info.annotation is Answer
        else "VARCHAR"
        if name in {"bridwell", "brantigan", "mayfield"}
        else "DOUBLE",
    )
    for name, info in LevelFindings.model_fields.items()
    if name not in {"level", "landmarks"}
)
STUDY_COLUMNS: tuple[tuple[str, str], ...] = (
    (EPISODE_ID, "VARCHAR"),
    ("study", "INTEGER"),
    ("seq", "INTEGER"),
    *STUDY_FIELDS,
    ("level", "VARCHAR"),
    ("adjacent", "BOOLEAN"),
    ("in_index", "BOOLEAN"),
    ("index_levels", "INTEGER"),
    *LEVEL_FIELDS,
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
    found += [EpisodeColumn(HISTORY_FAILED, "BOOLEAN"), EpisodeColumn(NOT_SURE, "VARCHAR")]
    return tuple(found)


def empty_table(columns: tuple[tuple[str, str], ...]) -> pa.Table:
    """An Arrow table with these (name, SQL type) columns and no rows."""
    types = {
        "VARCHAR": pa.string(),
        "BOOLEAN": pa.bool_(),
        "DOUBLE": pa.float64(),
        "DATE": pa.date32(),
        "INTEGER": pa.int32(),
    }
    return pa.table({name: pa.array([], type=types[sql]) for name, sql in columns})
