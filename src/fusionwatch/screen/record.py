"""What the record holds, from the imaging studies table, in SQL (core.derive.record, vectorised).

Every study row at a level gets the months after the last operation at that level before the
study (``core.derive.studies._months_at``): a study's own ``months_since`` as given; else from its
date, counted from the latest later operation at that level done on or before it (the index
fusion when there is none), by dates when that operation is dated, else by the months before
the screening date (never below 0). Then, per episode and over the levels that are not next to
the fused span (``core.derive.studies`` judges those apart): whether a CT, flexion-extension
films or any radiographs are on record, and the latest month of each.

The rest of what ``core.derive.studies`` derives from studies (each level's fusion status and the
summary answers it fills, ``derived.ct_solid_fusion``, months without progress, adjacent-segment
change) is not in SQL yet. ``studies_not_read`` marks the episodes where it could matter: then
the episode is screened as one without studies, as before, and flagged (``screen.query``).
"""

from fusionwatch.core.imaging import Modality
from fusionwatch.screen.compiler import literal
from fusionwatch.screen.dialect import Dialect
from fusionwatch.screen.months import months_sql, signed_months_sql
from fusionwatch.screen.schema import EPISODE_ID

_CT, _FE, _STATIC = (
    literal(m.value) for m in (Modality.CT, Modality.FLEXION_EXTENSION, Modality.STATIC_XRAY)
)
_GRADED = (
    "(bridwell IS NOT NULL OR mayfield IS NOT NULL OR brantigan IS NOT NULL"
    " OR interbody_bridging IS NOT NULL OR posterolateral_bridging IS NOT NULL"
    " OR facet_bridging IS NOT NULL)"
)
# The record facts and the SQL over one episode's rows at fused levels (``fused``) that gives them.
RECORD_SQL = {
    "derived.ct_on_record": f"COALESCE(BOOL_OR(fused AND modality = {_CT}), FALSE)",
    "derived.last_ct_month": f"MAX(CASE WHEN fused AND modality = {_CT} THEN months END)",
    "derived.fe_on_record": f"COALESCE(BOOL_OR(fused AND modality = {_FE}), FALSE)",
    "derived.last_fe_month": f"MAX(CASE WHEN fused AND modality = {_FE} THEN months END)",
    "derived.xray_on_record": f"COALESCE(BOOL_OR(fused AND modality IN ({_FE}, {_STATIC})), FALSE)",
    "derived.last_xray_month": (
        f"MAX(CASE WHEN fused AND modality IN ({_FE}, {_STATIC}) THEN months END)"
    ),
}


def study_ctes(
    dialect: Dialect, today: str, studies: str, operations: str, episodes: str
) -> list[tuple[str, str]]:
    """Named CTEs ending in ``study_facts``: one row per episode with study rows, holding the
    record facts (by column name ``rf_<n>``, in ``RECORD_SQL`` order) and what the rest of the
    study derivations would read (``any_adjacent``, ``any_ct_fused``, ``any_fused``,
    ``serial``, ``nerve_known``, ``infection_known``)."""
    ago = f"CASE WHEN op_date IS NULL THEN months_since ELSE {months_sql(dialect, 'op_date', today)} END"
    index_ago = (
        "CASE WHEN e.surgery__date IS NULL THEN e.surgery__months_since"
        f" ELSE {months_sql(dialect, 'e.surgery__date', today)} END"
    )
    study_ago = months_sql(dialect, "s.study_date", today)
    at_level = "instr(concat(';', o.levels, ';'), concat(';', s.level, ';')) > 0"
    since_op = (
        f"CASE WHEN r.op_date IS NOT NULL THEN {signed_months_sql(dialect, 'r.op_date', 'r.study_date')}"
        " ELSE GREATEST(0.0, ROUND(r.op_ago - r.study_ago, 2)) END"
    )
    since_index = (
        f"CASE WHEN r.surgery_date IS NOT NULL"
        f" THEN {signed_months_sql(dialect, 'r.surgery_date', 'r.study_date')}"
        " WHEN r.index_ago IS NOT NULL THEN GREATEST(0.0, ROUND(r.index_ago - r.study_ago, 2)) END"
    )
    record = ", ".join(f"{sql} AS rf_{i}" for i, sql in enumerate(RECORD_SQL.values()))
    return [
        (
            # One row per study row at a level, with the index fusion's timing.
            "study_rows",
            f"SELECT s.{EPISODE_ID}, s.seq, s.level, s.modality, s.study_date, s.months_since,"
            f" s.level IS NOT NULL AND NOT COALESCE(s.adjacent, FALSE) AS fused,"
            " COALESCE(s.adjacent, FALSE) AND s.level IS NOT NULL AS adjacent,"
            f" {_GRADED} AS graded, s.nerve_compression IS NOT NULL AS nerve_known,"
            " (s.infection_signs IS NOT NULL OR s.collection IS NOT NULL) AS infection_known,"
            f" e.surgery__date AS surgery_date, {index_ago} AS index_ago,"
            f" CASE WHEN s.study_date IS NOT NULL THEN {study_ago} END AS study_ago"
            f" FROM {studies} s JOIN {episodes} e ON e.{EPISODE_ID} = s.{EPISODE_ID}",
        ),
        (
            # The latest later operation at the study's level done on or before the study.
            "study_last_op",
            f"SELECT {EPISODE_ID}, seq, op_date, op_ago FROM (SELECT s.{EPISODE_ID}, s.seq,"
            f" o.op_date, o.ago AS op_ago, ROW_NUMBER() OVER (PARTITION BY s.{EPISODE_ID}, s.seq"
            " ORDER BY o.ago, o.seq) AS pick FROM study_rows s"
            f" JOIN (SELECT {EPISODE_ID}, seq, levels, op_date, {ago} AS ago FROM {operations}) o"
            f" ON o.{EPISODE_ID} = s.{EPISODE_ID} AND {at_level}"
            " WHERE s.months_since IS NULL AND s.study_date IS NOT NULL AND s.level IS NOT NULL"
            " AND o.ago IS NOT NULL AND o.ago >= s.study_ago) WHERE pick = 1",
        ),
        (
            "study_months",
            f"SELECT r.*, CASE WHEN r.months_since IS NOT NULL THEN r.months_since"
            " WHEN r.study_date IS NULL THEN NULL"
            f" WHEN p.seq IS NOT NULL THEN ({since_op.replace('r.op_', 'p.op_')})"
            f" ELSE ({since_index}) END AS months"
            f" FROM study_rows r LEFT JOIN study_last_op p ON p.{EPISODE_ID} = r.{EPISODE_ID}"
            " AND p.seq = r.seq",
        ),
        (
            # Two graded studies with known months at one level: serial progress is judged.
            "study_serial",
            f"SELECT {EPISODE_ID} FROM study_months"
            " WHERE fused AND graded AND months IS NOT NULL"
            f" GROUP BY {EPISODE_ID}, level HAVING COUNT(*) >= 2",
        ),
        (
            "study_facts",
            f"SELECT a.*, sr.{EPISODE_ID} IS NOT NULL AS serial FROM (SELECT {EPISODE_ID},"
            f" {record}, BOOL_OR(adjacent) AS any_adjacent,"
            f" BOOL_OR(fused AND modality = {_CT}) AS any_ct_fused, BOOL_OR(fused) AS any_fused,"
            " BOOL_OR(nerve_known) AS nerve_known, BOOL_OR(infection_known) AS infection_known"
            f" FROM study_months GROUP BY {EPISODE_ID}) a"
            f" LEFT JOIN (SELECT DISTINCT {EPISODE_ID} FROM study_serial) sr"
            f" ON sr.{EPISODE_ID} = a.{EPISODE_ID}",
        ),
    ]


def not_read_sql(facts: str, row: str) -> str:
    """True when a derivation from studies that is not in SQL yet could change the episode's
    facts: a level next to the fusion (adjacent-segment change), a CT at a fused level
    (``ct_solid_fusion`` and the level's status), two graded studies of one level with their
    months (months without progress), a fused level while a summary answer it could fill is
    unknown, or a study's nerve compression or infection signs while that summary is unknown."""
    summary = " OR ".join(
        f"{row}.imaging__{name} IS NULL"
        for name in ("fusion_status", "hardware_failure", "instability_on_motion_films")
    )
    return (
        f"COALESCE({facts}.any_adjacent OR {facts}.any_ct_fused OR {facts}.serial"
        f" OR ({facts}.any_fused AND ({summary}))"
        f" OR ({facts}.nerve_known AND {row}.imaging__nerve_compression IS NULL)"
        f" OR ({facts}.infection_known AND {row}.imaging__infection_signs IS NULL), FALSE)"
    )
