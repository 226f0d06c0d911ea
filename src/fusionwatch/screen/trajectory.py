"""Score trajectories for a whole cohort in SQL (core.derive.trajectory, vectorised).

The same decisions as ``core.derive.trajectory`` in the same order: the reference point (the
baseline, else the first follow-up; after a later operation the latest point at or before it,
the baseline visit on a tie: ``core.followup._restarted``), the gain of every later point, the
best point (largest gain, earliest of equals), the latest point, then the patterns. Only the
facts the rules read leave this module.

The visits are placed once (one row each), then unpivoted to one row per visit and judged score
with the score turned so that a larger number is better (``w``; the gain is then
``ROUND(w - reference, 6)``, bit for bit the engine's ``(value - reference) * sign``). One
grouped aggregate per series (episode and instrument) gives everything but the best point's
time: the gain only grows with the score, so the largest gain and the gain now are those of the
best and of the latest score (without a baseline the first follow-up's own gain, 0, is among
them, which changes nothing: only a largest gain above 0 is read), and the first follow-up's,
the latest and the pre-operative points' scores are ``min_by``/``max_by`` of the time. The best point's time and the first fall
after it are only needed where every other condition of a relapse holds; only those series are
joined back to their visits, twice (the fall needs the best point). There is no window function
(DuckDB's window operator costs about as much per expression as a sort).

Time points are unique within an episode's series and an episode has at most one baseline visit
(the readers refuse a second visit at one point, as ``track import`` does; the engine takes the
same), so no tie needs an order beyond the baseline visit's at a later operation.
"""

from collections.abc import Mapping

from fusionwatch.core.derive.trajectory import LIMIT_IDS, limit_for
from fusionwatch.core.followup import FEEDS_SIGNS
from fusionwatch.core.scores import HIGHER_IS_BETTER, Instrument
from fusionwatch.screen.compiler import number
from fusionwatch.screen.dialect import Dialect
from fusionwatch.screen.months import signed_months_sql
from fusionwatch.screen.schema import EPISODE_ID


def judged_instruments() -> tuple[Instrument, ...]:
    """Instruments with a published limit (the others are shown only and never raise a sign)."""
    return tuple(i for i in Instrument if LIMIT_IDS[i] != (None, None))


def _each(template: str) -> str:
    """``template`` with ``{i}`` filled in for every judged instrument, comma-separated."""
    return ", ".join(template.format(i=i.value) for i in judged_instruments())


def _by_instrument(values: Mapping[Instrument, str], inst: str = "inst") -> str:
    """Each instrument's SQL picked by ``inst``, its index in ``judged_instruments()``."""
    judged = judged_instruments()
    cases = " ".join(f"WHEN {k} THEN {values[i]}" for k, i in enumerate(judged))
    return f"(CASE {inst} {cases} END)"


def _gain_scale(instrument: Instrument, value: str) -> str:
    """``value`` turned so that a larger number is better (the sign of every gain)."""
    return value if instrument in HIGHER_IS_BETTER else f"{value} * CAST(-1.0 AS DOUBLE)"


def trajectory_ctes(
    dialect: Dialect,
    thresholds: Mapping[str, float],
    visits: str,
    timing: str,
) -> list[tuple[str, str]]:
    """Named CTEs ending in ``traj_facts``: one row per episode with a judged score series.

    ``timing`` holds ``episode_id``, ``surgery__date`` and ``score_shift`` for every episode.
    """
    early = number(thresholds["months.early_recovery"])
    judged = number(thresholds["months.fusion_assessment"])
    placed = f"COALESCE(v.month, {signed_months_sql(dialect, 't.surgery__date', 'v.visit_date')})"
    mo = (
        f"(CASE WHEN v.baseline THEN LEAST(COALESCE({placed}, 0.0), 0.0) ELSE {placed} END)"
        " - COALESCE(t.score_shift, 0.0)"
    )
    # pt: 0 a follow-up point, 2 the visit given as the baseline; after a later operation
    # (core.followup._restarted) every other point at or before it is 1.
    pt = (
        "CASE WHEN shift IS NULL THEN (CASE WHEN baseline THEN 2 ELSE 0 END)"
        " WHEN mo <= 0 THEN (CASE WHEN baseline THEN 2 ELSE 1 END) ELSE 0 END"
    )
    instruments = judged_instruments()
    limits = {i: limit_for(i, thresholds) for i in instruments}
    rise = {i: number(lim.improvement or 0.0) for i, lim in limits.items()}
    drop = {i: number(lim.threshold or 0.0) for i, lim in limits.items()}
    fall = {
        i: number(min(lim.threshold or 0.0, lim.improvement or 0.0)) for i, lim in limits.items()
    }
    key = f"{EPISODE_ID}, inst"
    # The score of the series a candidate row names, read from a visit row.
    scored = _by_instrument({i: _gain_scale(i, f"p.v_{i.value}") for i in instruments}, "c.inst")
    best, now = "ROUND(kb - ref, 6)", "ROUND(lw - ref, 6)"
    pattern = (
        "CASE WHEN np < 2 - hb THEN NULL"
        " WHEN cm IS NOT NULL AND la > top THEN 'relapse'"
        f" WHEN ng <= -{_by_instrument(drop, 'g.inst')} AND la >= {early} THEN 'worsening'"
        f" WHEN ng >= {_by_instrument(rise, 'g.inst')} THEN 'improving'"
        f" WHEN la < {early} THEN 'too_early'"
        f" WHEN la >= {judged} AND hb = 1 THEN 'not_improved'"
        " ELSE 'plateau' END"
    )
    feeds = " OR ".join(f"inst = {k}" for k, i in enumerate(instruments) if i in FEEDS_SIGNS)

    def verdict(wanted: str) -> str:
        def seen(condition: str) -> str:
            return f"MAX(CASE WHEN ({feeds or 'FALSE'}) AND {condition} THEN 1 END) = 1"

        hit, judged_any = seen(f"p IN ({wanted})"), seen("p IS NOT NULL")
        return f"CASE WHEN {hit} THEN TRUE WHEN {judged_any} THEN FALSE END"

    relapse, stalled = verdict("'relapse'"), verdict("'not_improved', 'worsening'")
    return [
        (
            "traj_placed",
            f"SELECT {EPISODE_ID}, mo, {pt} AS pt, {_each('v_{i}')} FROM (SELECT v.{EPISODE_ID},"
            f" v.baseline, t.score_shift AS shift, {mo} AS mo, {_each('v.{i} AS v_{i}')}"
            f" FROM {visits} v JOIN {timing} t ON t.{EPISODE_ID} = v.{EPISODE_ID}"
            f" WHERE {' OR '.join(f'v.{i.value} IS NOT NULL' for i in instruments)}) s",
        ),
        (
            # One row per visit and judged score, the score turned so that larger is better.
            "traj_long",
            " UNION ALL ".join(
                f"SELECT {EPISODE_ID}, {k} AS inst, mo, pt, {_gain_scale(i, f'v_{i.value}')} AS w"
                f" FROM traj_placed WHERE v_{i.value} IS NOT NULL AND mo IS NOT NULL"
                for k, i in enumerate(instruments)
            ),
        ),
        (
            # Per series: the follow-up count, the latest point and its score, the first
            # follow-up's score, the best score; the baseline visit's score and time, and
            # after a later operation the latest other point at or before it.
            "traj_agg",
            f"SELECT {key},"
            " COUNT(*) FILTER (WHERE pt = 0) AS np, MAX(mo) FILTER (WHERE pt = 0) AS la,"
            " MAX_BY(w, mo) FILTER (WHERE pt = 0) AS lw, MIN_BY(w, mo) FILTER (WHERE pt = 0) AS fw,"
            " MAX(w) FILTER (WHERE pt = 0) AS kb, MAX(w) FILTER (WHERE pt = 2) AS bw,"
            " MAX(mo) FILTER (WHERE pt = 2) AS ba, MAX_BY(w, mo) FILTER (WHERE pt = 1) AS nw,"
            f" MAX(mo) FILTER (WHERE pt = 1) AS na FROM traj_long GROUP BY {key}",
        ),
        (
            # The reference: the baseline (the latest point at or before a later operation,
            # the baseline visit on a tie), else the first follow-up point.
            "traj_ref",
            f"SELECT {key}, np, la, kb, lw,"
            " CASE WHEN ba IS NOT NULL OR na IS NOT NULL THEN 1 ELSE 0 END AS hb,"
            " COALESCE(CASE WHEN ba >= na OR na IS NULL THEN bw ELSE nw END, fw) AS ref"
            " FROM traj_agg",
        ),
        (
            # The gain now and the largest gain are those of the latest and the best score.
            # cm: the largest gain, for a series that is a relapse if its latest point comes
            # after its best one (all other conditions of a relapse hold).
            "traj_g",
            f"SELECT {key}, np, la, hb, ref, {now} AS ng,"
            f" CASE WHEN np >= 2 - hb AND {best} > 0 AND {best} >= {_by_instrument(rise)}"
            f" AND {best} - {now} >= {_by_instrument(fall)} AND la >= {early}"
            f" THEN {best} END AS cm FROM traj_ref",
        ),
        ("traj_cand", f"SELECT {key}, ref, cm FROM traj_g WHERE cm IS NOT NULL"),
        (
            # The best point of those series: the earliest with the largest gain.
            "traj_top",
            f"SELECT p.{EPISODE_ID}, c.inst, MIN(c.ref) AS ref, MIN(c.cm) AS cm,"
            f" MIN(p.mo) FILTER (WHERE p.pt = 0 AND ROUND({scored} - c.ref, 6) = c.cm) AS top"
            f" FROM traj_placed p JOIN traj_cand c ON c.{EPISODE_ID} = p.{EPISODE_ID}"
            f" GROUP BY p.{EPISODE_ID}, c.inst",
        ),
        (
            # The first later point that fell from the best one by the smaller of the SDC and
            # the MCID (issue 12).
            "traj_fell",
            f"SELECT p.{EPISODE_ID}, c.inst, MIN(c.top) AS top,"
            " MIN(p.mo) FILTER (WHERE p.pt = 0 AND p.mo > c.top"
            f" AND c.cm - ROUND({scored} - c.ref, 6) >= {_by_instrument(fall, 'c.inst')})"
            f" AS fell FROM traj_placed p JOIN traj_top c ON c.{EPISODE_ID} = p.{EPISODE_ID}"
            f" GROUP BY p.{EPISODE_ID}, c.inst",
        ),
        (
            "traj_pattern",
            f"SELECT g.{EPISODE_ID}, g.inst, {pattern} AS p, f.fell"
            f" FROM traj_g g LEFT JOIN traj_fell f"
            f" ON f.{EPISODE_ID} = g.{EPISODE_ID} AND f.inst = g.inst",
        ),
        (
            "traj_facts",
            f"SELECT {EPISODE_ID}, {relapse} AS scores_relapse, {stalled} AS scores_no_recovery,"
            " MIN(CASE WHEN p = 'relapse' AND fell <> 0 THEN fell END) AS scores_relapse_month"
            f" FROM traj_pattern GROUP BY {EPISODE_ID}",
        ),
    ]
