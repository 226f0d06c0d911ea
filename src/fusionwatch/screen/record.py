"""What core.derive.studies derives from the imaging studies table, in SQL, vectorised.

Every study row at a level gets the months after the last operation at that level before the
study (``core.derive.studies._months_at``): a study's own ``months_since`` as given; else from its
date, counted from the latest later operation at that level done on or before it (the index
fusion when there is none), by dates when that operation is dated, else by the months before
the screening date (never below 0). A dated study row at a level where a later timed operation
was done after it is superseded (``core.derive.studies._later_at``): it describes the fusion that
operation redid, so it is neither a fused nor an adjacent reading below (its study's own answers,
nerve compression and infection, still count). Over the levels that are not next to the fused span
(``core.derive.studies`` judges those apart), per episode: whether a CT, flexion-extension films
or any radiographs are on record and the latest month of each (``core.derive.record``); and each
level judged as ``core.derive.fusion`` judges it (``level_ctes``: hardware, the latest CT's
bridging signs, the latest motion against the site's cut-off, progress between the first and last
graded studies, the deciding study), then the summary answers the levels fill where none was
given, ``ct_solid_fusion`` and months without progress; and each segment next to the fusion
judged as ``core.derive.adjacent`` judges it (``adjacent_ctes``), then the adjacent-segment
change. Window functions only number a level's studies by time and pick the latest later
operation at a study's level; the rest are grouped aggregates.

Landmark points are not read from a table. ``not_read_sql`` names the episodes whose studies
feed a derivation not in SQL (none now): those are screened as episodes without studies and
flagged (``screen.query``; decision 0019).
"""

from fusionwatch.core.derive.fusion import SEVERITY, Cutoffs
from fusionwatch.core.derive.grading import (  # the scales' ranks, as core.derive.grading.score
    BRANTIGAN_SCORE,
    BRIDWELL_SCORE,
    MAYFIELD_SCORE,
)
from fusionwatch.core.imaging import Brantigan, Modality
from fusionwatch.core.vocab import FusionStatus
from fusionwatch.screen.compiler import literal, number
from fusionwatch.screen.dialect import Dialect
from fusionwatch.screen.months import months_sql, signed_months_sql
from fusionwatch.screen.schema import EPISODE_ID, LEVEL_FIELDS

_CT, _FE, _STATIC = (
    literal(m.value) for m in (Modality.CT, Modality.FLEXION_EXTENSION, Modality.STATIC_XRAY)
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


def study_ctes(  # noqa: PLR0917
    dialect: Dialect, today: str, studies: str, operations: str, episodes: str, cut: Cutoffs
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
            f" s.level IS NOT NULL AND NOT COALESCE(s.adjacent, FALSE) AS at_fused,"
            " COALESCE(s.adjacent, FALSE) AND s.level IS NOT NULL AS at_adjacent,"
            " s.nerve_compression, s.infection_signs, s.collection,"
            f" {', '.join(f's.{n}' for n, _ in LEVEL_FIELDS)}, s.study,"
            " s.in_index, s.index_levels, e.surgery__instrumented AS instrumented,"
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
            # The dated study rows a later timed operation at their level superseded.
            "study_superseded",
            f"SELECT DISTINCT s.{EPISODE_ID}, s.seq FROM study_rows s"
            f" JOIN (SELECT {EPISODE_ID}, levels, {ago} AS ago FROM {operations}) o"
            f" ON o.{EPISODE_ID} = s.{EPISODE_ID} AND {at_level}"
            " WHERE s.months_since IS NULL AND s.study_date IS NOT NULL AND s.level IS NOT NULL"
            " AND o.ago IS NOT NULL AND o.ago < s.study_ago",
        ),
        (
            # A superseded row is neither a fused nor an adjacent reading: it judges no level and
            # is not on record; its study's own answers (nerve compression, infection) still count.
            "study_months",
            "SELECT r.*, r.at_fused AND x.seq IS NULL AS fused,"
            " r.at_adjacent AND x.seq IS NULL AS adjacent,"
            " CASE WHEN r.months_since IS NOT NULL THEN r.months_since"
            " WHEN r.study_date IS NULL THEN NULL"
            f" WHEN p.seq IS NOT NULL THEN ({since_op.replace('r.op_', 'p.op_')})"
            f" ELSE ({since_index}) END AS months"
            f" FROM study_rows r LEFT JOIN study_last_op p ON p.{EPISODE_ID} = r.{EPISODE_ID}"
            " AND p.seq = r.seq"
            f" LEFT JOIN study_superseded x ON x.{EPISODE_ID} = r.{EPISODE_ID} AND x.seq = r.seq",
        ),
        *level_ctes(cut),
        *adjacent_ctes(cut),
        (
            "study_facts",
            f"SELECT a.*, {_summary()} FROM (SELECT {EPISODE_ID},"
            f" {record}, BOOL_OR(adjacent) AS any_adjacent,"
            " CASE WHEN BOOL_OR(nerve_compression) THEN TRUE"
            " WHEN BOOL_AND(nerve_compression IS FALSE) THEN FALSE END AS d_nerve,"
            " CASE WHEN BOOL_OR(infection_signs OR collection) THEN TRUE"
            " WHEN BOOL_AND(infection_signs IS FALSE AND collection IS FALSE) THEN FALSE"
            " END AS d_infection"
            f" FROM study_months GROUP BY {EPISODE_ID}) a"
            f" LEFT JOIN level_facts f ON f.{EPISODE_ID} = a.{EPISODE_ID}"
            f" LEFT JOIN adjacent_facts j ON j.{EPISODE_ID} = a.{EPISODE_ID}",
        ),
    ]


def _summary() -> str:
    """The facts core.derive.studies derives from the judged levels, over ``f`` (level_facts)."""
    status = " ".join(f"WHEN {n} THEN {literal(s.value)}" for s, n in SEVERITY.items())
    return (
        f"CASE f.worst {status} END AS d_fusion_status, f.hardware_failure AS d_hardware,"
        " f.instability AS d_instability,"
        " CASE WHEN COALESCE(f.n_ct_levels, 0) = 0 THEN NULL WHEN f.ct_unfused THEN FALSE"
        " WHEN f.n_ct_levels = f.wanted THEN TRUE END AS d_ct_solid,"
        " f.stalled AS d_stalled, j.change AS d_adjacent,"
        " COALESCE(f.cage_lucency, FALSE) AS d_cage_lucency"
    )


# The summary answers core.derive.studies fills from the studies where none was given, and the
# column of study_facts that holds each derived value.
SUMMARY = {
    "imaging.fusion_status": "d_fusion_status",
    "imaging.hardware_failure": "d_hardware",
    "imaging.instability_on_motion_films": "d_instability",
    "imaging.nerve_compression": "d_nerve",
    "imaging.infection_signs": "d_infection",
}
# Facts derived from the judged levels (NULL for an episode without studies, as in assess()).
LEVEL_DERIVED = {
    "derived.ct_solid_fusion": "d_ct_solid",
    "derived.cage_lucency_on_record": "d_cage_lucency",
    "derived.months_without_progress": "d_stalled",
    "derived.adjacent_segment_change": "d_adjacent",
}


def not_read_sql(facts: str) -> str:
    """True when a derivation from studies that is not in SQL could change the episode's facts:
    none is left for the studies table (every one of core.derive.studies is here). The flag
    stays for input whose studies are not turned into the table (FHIR Bulk, screen.query)."""
    return "FALSE"


# ---- per-level fusion status (core.derive.fusion), stage 3 ----------------------------------

_BRIDGED_BRANTIGAN = ", ".join(
    literal(b.value)
    for b in (Brantigan.BRIDGED_AT_SURGICAL_DENSITY, Brantigan.BRIDGED_AT_LEAST_HALF)
)
_BRIDWELL = {k.value: v for k, v in BRIDWELL_SCORE.items()}
_MAYFIELD = {k.value: v for k, v in MAYFIELD_SCORE.items()}
_BRANTIGAN = {k.value: v for k, v in BRANTIGAN_SCORE.items()}


def _rank(column: str, scores: dict[str, int]) -> str:
    arms = " ".join(f"WHEN {literal(code)} THEN {n}" for code, n in scores.items())
    return f"CASE {column} {arms} END"


def _status_code(status: FusionStatus) -> str:
    return str(SEVERITY[status])


def level_ctes(cut: Cutoffs) -> list[tuple[str, str]]:
    """Named CTEs ending in ``level_facts``: each fused level's status as ``core.derive.fusion``
    judges it, then per episode what ``core.derive.studies`` derives from the levels (the
    summary answers it fills, ``ct_solid_fusion``, months without progress). Reads
    ``study_months`` (one row per study and level, with its months)."""
    bridged = _BRIDGED_BRANTIGAN
    answers = ("interbody_bridging", "posterolateral_bridging", "facet_bridging")
    given = " OR ".join(f"{a} IS NOT NULL" for a in answers)
    none_yes = " AND ".join(f"{a} IS NOT TRUE" for a in answers)
    pro = (
        f"(COALESCE(bridwell IN ('I', 'II'), FALSE) OR COALESCE(brantigan IN ({bridged}), FALSE)"
        " OR COALESCE(mayfield IN ('I', 'II'), FALSE) OR interbody_bridging IS TRUE"
        " OR facet_bridging IS TRUE"
        " OR (posterolateral_bridging IS TRUE AND facet_bridging IS NOT FALSE))"
    )
    con = (
        "(COALESCE(bridwell IN ('III', 'IV'), FALSE)"
        f" OR COALESCE(brantigan NOT IN ({bridged}), FALSE)"
        " OR COALESCE(mayfield IN ('III', 'IV', 'V'), FALSE) OR facet_bridging IS FALSE"
        f" OR (({given}) AND {none_yes}) OR cage_lucency IS TRUE)"
    )
    halo, sunk = number(cut.halo_mm), number(cut.subsidence_mm)
    items = ("screw_broken", "rod_broken", "cage_migration", "set_screw_loose")
    failed = (
        " OR ".join(f"{i} IS TRUE" for i in items)
        + f" OR COALESCE(periscrew_lucency_mm > {halo}, FALSE)"
        + f" OR COALESCE(cage_subsidence_mm > {sunk}, FALSE)"
    )
    intact = (
        " AND ".join(f"{i} IS FALSE" for i in items)
        + f" AND COALESCE(periscrew_lucency_mm <= {halo}, TRUE)"
        + f" AND COALESCE(cage_subsidence_mm <= {sunk}, TRUE)"
    )
    scale = (
        "CASE WHEN bridwell IS NOT NULL THEN 'bridwell' WHEN mayfield IS NOT NULL THEN 'mayfield'"
        f" WHEN brantigan IS NOT NULL THEN 'brantigan' WHEN {given} THEN 'bridging' END"
    )
    yes_count = " + ".join(f"CASE WHEN {a} IS TRUE THEN 1 ELSE 0 END" for a in answers)
    rank = (
        f"CASE WHEN bridwell IS NOT NULL THEN {_rank('bridwell', _BRIDWELL)}"
        f" WHEN mayfield IS NOT NULL THEN {_rank('mayfield', _MAYFIELD)}"
        f" WHEN brantigan IS NOT NULL THEN {_rank('brantigan', _BRANTIGAN)}"
        f" ELSE {yes_count} END"
    )
    w = (
        f"OVER (PARTITION BY {EPISODE_ID}, level ROWS BETWEEN UNBOUNDED PRECEDING"
        " AND UNBOUNDED FOLLOWING)"
    )

    def at(pos: str, value: str) -> str:
        return f"MAX(CASE WHEN pos = {pos} THEN {value} END)"

    angle, inter = (
        number(cut.angle_deg),
        (
            number(cut.interspinous_fused_mm),
            number(cut.interspinous_nonunion_mm),
        ),
    )
    est = number(cut.established_months)
    code = {s: _status_code(s) for s in SEVERITY}
    fused, nyf = code[FusionStatus.FUSED], code[FusionStatus.NOT_YET_FUSED]
    ind, non = code[FusionStatus.INDETERMINATE], code[FusionStatus.NONUNION]
    cervical_non = f"(level LIKE 'C%' AND COALESCE(inter > {inter[1]}, FALSE))"
    no_ct = (
        f"(CASE WHEN moving IS FALSE AND instrumented IS FALSE THEN {fused}"
        f" WHEN moving IS TRUE AND {cervical_non} THEN (CASE WHEN m >= {est} THEN {non}"
        f" WHEN m IS NOT NULL THEN {nyf} ELSE {ind} END) ELSE {ind} END)"
    )
    decide = (
        f"CASE WHEN hardware IS TRUE AND ct = 1 THEN {non}"
        f" WHEN hardware IS TRUE AND ct = 0 THEN GREATEST({no_ct}, {ind})"
        f" WHEN hardware IS TRUE AND ct = 2 THEN {ind}"
        # Lucency around the cage on films (core.derive.fusion._lucent), unless CT shows no bridging.
        f" WHEN film_lucency AND ct = 2 THEN {ind}"
        f" WHEN film_lucency AND ct = 0 THEN GREATEST({no_ct}, {ind})"
        f" WHEN ct = 2 THEN (CASE WHEN moving IS TRUE THEN {ind} ELSE {fused} END)"
        f" WHEN ct = 1 THEN (CASE WHEN m IS NULL THEN {ind} WHEN m < {est} THEN {nyf}"
        f" WHEN progress IS TRUE THEN {ind} ELSE {non} END)"
        f" ELSE {no_ct} END"
    )
    # ct_solid counts the index fusion's levels (all judged levels when it names none).
    on_ct = f"(deciding = {_CT} AND (index_levels = 0 OR in_index))"
    verdict_a = f"(CASE WHEN angle IS NOT NULL THEN angle >= {angle} END)"
    verdict_i = (
        f"(CASE WHEN level LIKE 'C%' AND inter IS NOT NULL THEN (CASE WHEN inter < {inter[0]}"
        f" THEN FALSE WHEN inter > {inter[1]} THEN TRUE END) END)"
    )
    return [
        (
            "level_rows",
            f"SELECT {EPISODE_ID}, level, study, seq, modality, months, instrumented, in_index,"
            " index_levels,"
            f" modality = {_CT} AS is_ct, modality = {_STATIC} AS is_static,"
            f" modality <> {_CT} AND cage_lucency IS TRUE AS film_lucency,"
            " cage_lucency IS TRUE AS lucent,"
            f" ({failed}) AS hw_failed, ({intact}) AS hw_intact,"
            f" CASE WHEN {pro} AND {con} THEN 0 WHEN {con} THEN 1 WHEN {pro} THEN 2 ELSE 0 END"
            f" AS ct_code, {scale} AS scale, {rank} AS score,"
            " angle_deg, translation_mm, interspinous_mm,"
            f" ROW_NUMBER() OVER (PARTITION BY {EPISODE_ID}, level"
            " ORDER BY CASE WHEN months IS NULL THEN 1 ELSE 0 END, months, study, seq) AS pos"
            " FROM study_months WHERE fused",
        ),
        (
            "level_win",
            "SELECT *,"
            f" MAX(CASE WHEN is_ct THEN pos END) {w} AS last_ct,"
            f" MAX(pos) {w} AS last_pos,"
            f" MAX(CASE WHEN angle_deg IS NOT NULL THEN pos END) {w} AS angle_pos,"
            f" MAX(CASE WHEN translation_mm IS NOT NULL THEN pos END) {w} AS translation_pos,"
            f" MAX(CASE WHEN interspinous_mm IS NOT NULL THEN pos END) {w} AS inter_pos,"
            f" MIN(CASE WHEN scale IS NOT NULL AND months IS NOT NULL THEN pos END) {w}"
            " AS first_scored,"
            f" MAX(CASE WHEN scale IS NOT NULL AND months IS NOT NULL THEN pos END) {w}"
            " AS last_scored,"
            f" SUM(CASE WHEN scale IS NOT NULL AND months IS NOT NULL THEN 1 ELSE 0 END) {w}"
            " AS n_scored FROM level_rows",
        ),
        (
            "level_agg",
            f"SELECT {EPISODE_ID}, level,"
            " CASE WHEN BOOL_OR(hw_failed) THEN TRUE WHEN BOOL_OR(hw_intact) THEN FALSE END"
            " AS hardware,"
            f" COALESCE({at('last_ct', 'ct_code')}, 0) AS ct,"
            # A film's lucency counts unless a later CT read the level (the CT decides).
            " BOOL_OR(film_lucency AND (last_ct IS NULL OR pos > last_ct)) AS film_lucency,"
            " BOOL_OR(film_lucency AND (last_ct IS NULL OR pos > last_ct))"
            f" OR COALESCE({at('last_ct', 'lucent')}, FALSE) AS cage_lucency,"
            f" {at('COALESCE(last_ct, last_pos)', 'months')} AS m,"
            f" {at('COALESCE(last_ct, last_pos)', 'modality')} AS deciding,"
            f" {at('angle_pos', 'angle_deg')} AS angle,"
            f" {at('translation_pos', 'translation_mm')} AS translation,"
            f" {at('inter_pos', 'interspinous_mm')} AS inter,"
            " MAX(n_scored) AS n_scored, BOOL_OR(instrumented) AS instrumented,"
            " BOOL_OR(in_index) AS in_index, MAX(index_levels) AS index_levels,"
            f" {at('first_scored', 'scale')} AS first_scale,"
            f" {at('last_scored', 'scale')} AS last_scale,"
            f" {at('first_scored', 'score')} AS first_score,"
            f" {at('last_scored', 'score')} AS last_score,"
            f" {at('first_scored', 'months')} AS first_m,"
            f" {at('last_scored', 'months')} AS last_m"
            f" FROM level_win GROUP BY {EPISODE_ID}, level",
        ),
        (
            "level_judged",
            "SELECT *,"
            f" CASE WHEN {verdict_a} IS TRUE OR {verdict_i} IS TRUE THEN TRUE"
            f" WHEN {verdict_a} IS NOT NULL OR {verdict_i} IS NOT NULL THEN FALSE END AS moving,"
            " CASE WHEN n_scored >= 2 AND first_scale = last_scale"
            " THEN last_score > first_score END AS progress,"
            " CASE WHEN n_scored >= 2 AND first_scale = last_scale"
            " THEN ROUND(last_m - first_m, 2) END AS span"
            " FROM level_agg",
        ),
        (
            "level_status",
            f"SELECT *, {decide} AS severity,"
            f" CASE WHEN translation IS NOT NULL THEN translation > {number(cut.translation_mm)}"
            " END AS instability FROM level_judged",
        ),
        (
            "level_facts",
            f"SELECT {EPISODE_ID}, MAX(severity) AS worst,"
            " CASE WHEN BOOL_OR(hardware) THEN TRUE WHEN BOOL_AND(hardware IS FALSE) THEN FALSE"
            " END AS hardware_failure,"
            " CASE WHEN BOOL_OR(instability) THEN TRUE"
            " WHEN BOOL_AND(instability IS FALSE) THEN FALSE END AS instability,"
            f" SUM(CASE WHEN {on_ct} THEN 1 ELSE 0 END) AS n_ct_levels,"
            f" BOOL_OR({on_ct} AND severity <> {fused}) AS ct_unfused,"
            " CASE WHEN MAX(index_levels) > 0 THEN MAX(index_levels) ELSE COUNT(*) END AS wanted,"
            " MAX(CASE WHEN progress IS FALSE AND span <> 0 THEN span END) AS stalled,"
            " BOOL_OR(cage_lucency) AS cage_lucency"
            f" FROM level_status GROUP BY {EPISODE_ID}",
        ),
    ]


def adjacent_ctes(cut: Cutoffs) -> list[tuple[str, str]]:
    """Named CTEs ending in ``adjacent_facts``: each segment next to the fusion judged as
    ``core.derive.adjacent`` judges it (the latest translation against the instability cut-off,
    a hardware problem at the end of the construct), then per episode the Kleene "any" of their
    change (``derived.adjacent_segment_change``). Reads ``study_months``."""
    halo = number(cut.halo_mm)
    items = ("screw_broken", "rod_broken", "cage_migration", "set_screw_loose")
    failed = " OR ".join(f"{i} IS TRUE" for i in items) + (
        f" OR COALESCE(periscrew_lucency_mm > {halo}, FALSE)"
    )
    intact = " AND ".join(f"{i} IS FALSE" for i in items) + (
        f" AND COALESCE(periscrew_lucency_mm <= {halo}, TRUE)"
    )
    w = (
        f"OVER (PARTITION BY {EPISODE_ID}, level ROWS BETWEEN UNBOUNDED PRECEDING"
        " AND UNBOUNDED FOLLOWING)"
    )
    unstable = number(cut.translation_mm)
    return [
        (
            "adjacent_rows",
            f"SELECT {EPISODE_ID}, level, translation_mm, ({failed}) AS hw_failed,"
            f" ({intact}) AS hw_intact, ROW_NUMBER() OVER (PARTITION BY {EPISODE_ID}, level"
            " ORDER BY CASE WHEN months IS NULL THEN 1 ELSE 0 END, months, study, seq) AS pos"
            " FROM study_months WHERE adjacent",
        ),
        (
            "adjacent_win",
            "SELECT *,"
            f" MAX(CASE WHEN translation_mm IS NOT NULL THEN pos END) {w} AS translation_pos"
            " FROM adjacent_rows",
        ),
        (
            "adjacent_level",
            f"SELECT {EPISODE_ID}, level,"
            " CASE WHEN BOOL_OR(hw_failed) THEN TRUE WHEN BOOL_OR(hw_intact) THEN FALSE END"
            " AS hardware,"
            " MAX(CASE WHEN pos = translation_pos THEN translation_mm END) AS translation"
            f" FROM adjacent_win GROUP BY {EPISODE_ID}, level",
        ),
        (
            "adjacent_judged",
            f"SELECT *, CASE WHEN translation IS NOT NULL THEN translation > {unstable} END"
            " AS instability FROM adjacent_level",
        ),
        (
            "adjacent_facts",
            f"SELECT {EPISODE_ID}, CASE WHEN BOOL_OR(change) THEN TRUE"
            " WHEN BOOL_AND(change IS FALSE) THEN FALSE END AS change FROM (SELECT *,"
            " CASE WHEN instability IS TRUE OR hardware IS TRUE THEN TRUE"
            " WHEN instability IS FALSE AND hardware IS FALSE THEN FALSE END AS change"
            f" FROM adjacent_judged) GROUP BY {EPISODE_ID}",
        ),
    ]
