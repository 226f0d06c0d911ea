"""Score trajectories for a whole cohort in SQL (core.derive.trajectory, vectorised).

Each step mirrors one line of ``core.derive.trajectory``: the reference point (the baseline, else
the first follow-up), the gain of every later point, the best point (largest gain, earliest of
equals; the reference when nothing beats it), the latest point, and then the same pattern
decisions in the same order. Only the facts the rules read leave this module.

The visits stay one row each, with one column set per judged instrument (not one row per visit
and instrument), and each step is a grouped aggregate per episode joined back to the visits: the
earliest and latest points are minimums and maximums, and the value at the first follow-up is
``min_by``. Window functions cost DuckDB about as much per expression as a sort, and this form
needs one only for the restart: after a later operation the latest point at or before it becomes
the baseline, and only those episodes' visits go through that window. Time points are unique
within an episode's series (the readers refuse two visits at one point, as ``track import``
does), so no tie needs an order.
"""

from collections.abc import Mapping

from fusionwatch.core.derive.trajectory import LIMIT_IDS, limit_for
from fusionwatch.core.followup import FEEDS_SIGNS
from fusionwatch.core.scores import HIGHER_IS_BETTER, Instrument
from fusionwatch.screen.compiler import number
from fusionwatch.screen.dialect import Dialect
from fusionwatch.screen.months import signed_months_sql
from fusionwatch.screen.schema import EPISODE_ID

_W = f"OVER (PARTITION BY {EPISODE_ID})"


def judged_instruments() -> tuple[Instrument, ...]:
    """Instruments with a published limit (the others are shown only and never raise a sign)."""
    return tuple(i for i in Instrument if LIMIT_IDS[i] != (None, None))


def _each(template: str) -> str:
    """``template`` with ``{i}`` filled in for every judged instrument, comma-separated."""
    return ", ".join(template.format(i=i.value) for i in judged_instruments())


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
    values = _each("v.{i} AS v_{i}")
    any_value = " OR ".join(f"v.{i.value} IS NOT NULL" for i in judged_instruments())
    kept = " AND ".join(("k_{i} IS NOT NULL", "NOT b_{i}"))
    patterns, facts = _patterns(thresholds, early, judged)
    return [
        (
            "traj_placed",
            f"SELECT v.{EPISODE_ID}, v.baseline, t.score_shift AS shift,"
            f" (CASE WHEN v.baseline THEN LEAST(COALESCE({placed}, 0.0), 0.0)"
            f" ELSE {placed} END) - COALESCE(t.score_shift, 0.0) AS mo, {values}"
            f" FROM {visits} v JOIN {timing} t ON t.{EPISODE_ID} = v.{EPISODE_ID}"
            f" WHERE ({any_value})",
        ),
        (
            # After a later operation (shift known) the latest point at or before it is the
            # baseline, on a tie the visit given as the baseline, and earlier ones are left out
            # (core.followup._restarted).
            "traj_points",
            f"SELECT {EPISODE_ID}, mo, {_each('v_{i} AS k_{i}, baseline AS b_{i}')}"
            " FROM traj_placed WHERE shift IS NULL AND mo IS NOT NULL"
            f" UNION ALL SELECT {EPISODE_ID}, mo,"
            + _each(
                "CASE WHEN mo > 0 OR (mo = near_{i} AND (baseline OR NOT COALESCE(near_base_{i}"
                " = near_{i}, FALSE))) THEN v_{i} END AS k_{i}, mo <= 0 AS b_{i}"
            )
            + " FROM (SELECT *,"
            + _each(
                f"MAX(CASE WHEN v_{{i}} IS NOT NULL AND mo <= 0 THEN mo END) {_W} AS near_{{i}},"
                f" MAX(CASE WHEN v_{{i}} IS NOT NULL AND mo <= 0 AND baseline THEN mo END) {_W}"
                " AS near_base_{i}"
            )
            + " FROM traj_placed WHERE shift IS NOT NULL AND mo IS NOT NULL) s",
        ),
        (
            # The reference: the baseline, else the first follow-up point; and the latest point.
            "traj_ref",
            f"SELECT {EPISODE_ID},"
            + _each(
                "MAX(CASE WHEN k_{i} IS NOT NULL AND b_{i} THEN 1 ELSE 0 END) AS hb_{i},"
                f" SUM(CASE WHEN {kept} THEN 1 ELSE 0 END) AS np_{{i}},"
                f" MIN(CASE WHEN {kept} THEN mo END) AS fp_{{i}},"
                f" MAX(CASE WHEN {kept} THEN mo END) AS la_{{i}},"
                " MAX(CASE WHEN k_{i} IS NOT NULL AND b_{i} THEN k_{i} END) AS bv_{i},"
                " MAX(CASE WHEN k_{i} IS NOT NULL AND b_{i} THEN mo END) AS ba_{i},"
                f" MIN_BY(k_{{i}}, CASE WHEN {kept} THEN mo END) AS fv_{{i}}"
            )
            + f" FROM traj_points GROUP BY {EPISODE_ID}",
        ),
        (
            # The gain of every later point over the reference.
            "traj_gain",
            f"SELECT p.{EPISODE_ID}, p.mo, "
            + ", ".join(
                f"CASE WHEN p.k_{i} IS NOT NULL AND NOT p.b_{i} AND (r.hb_{i} = 1 OR p.mo > r.fp_{i})"
                f" THEN ROUND((p.k_{i} - (CASE WHEN r.hb_{i} = 1 THEN r.bv_{i} ELSE r.fv_{i} END))"
                f" * {number(1.0 if i in HIGHER_IS_BETTER else -1.0)}, 6) END AS g_{i}"
                for i in judged_instruments()
            )
            + f", {_each('r.la_{i}')}"
            + f" FROM traj_points p JOIN traj_ref r ON r.{EPISODE_ID} = p.{EPISODE_ID}",
        ),
        (
            # The largest gain, and the gain now (at the latest point).
            "traj_max",
            f"SELECT {EPISODE_ID},"
            + _each("MAX(g_{i}) AS mg_{i}, MAX(CASE WHEN mo = la_{i} THEN g_{i} END) AS ng_{i}")
            + f" FROM traj_gain GROUP BY {EPISODE_ID}",
        ),
        (
            "traj_top",
            f"SELECT g.{EPISODE_ID}, g.mo, {_each('g.g_{i}, m.mg_{i}')} FROM traj_gain g"
            f" JOIN traj_max m ON m.{EPISODE_ID} = g.{EPISODE_ID}",
        ),
        (
            # The best point when a later point beats the reference (gain above 0): the earliest
            # with the largest gain (otherwise the reference itself, taken from traj_ref).
            "traj_best",
            f"SELECT {EPISODE_ID},"
            + _each("MIN(CASE WHEN mg_{i} > 0 AND g_{i} = mg_{i} THEN mo END) AS top_{i}")
            + f" FROM traj_top GROUP BY {EPISODE_ID}",
        ),
        (
            "traj_last",
            f"SELECT t.*, {_each('b.top_{i}')} FROM traj_top t"
            f" JOIN traj_best b ON b.{EPISODE_ID} = t.{EPISODE_ID}",
        ),
        ("traj_fell", _fell(thresholds)),
        (
            "traj_g",
            f"SELECT r.{EPISODE_ID},"
            + _each(
                "r.hb_{i}, r.np_{i}, r.la_{i}, m.mg_{i}, m.ng_{i}, f.fell_{i},"
                " CASE WHEN m.mg_{i} > 0 THEN m.mg_{i} ELSE 0.0 END AS bg_{i},"
                " CASE WHEN m.mg_{i} > 0 THEN b.top_{i}"
                " WHEN r.hb_{i} = 1 THEN r.ba_{i} ELSE r.fp_{i} END AS best_{i}"
            )
            + f" FROM traj_ref r JOIN traj_max m ON m.{EPISODE_ID} = r.{EPISODE_ID}"
            f" JOIN traj_best b ON b.{EPISODE_ID} = r.{EPISODE_ID}"
            f" JOIN traj_fell f ON f.{EPISODE_ID} = r.{EPISODE_ID}",
        ),
        ("traj_pattern", f"SELECT {EPISODE_ID}, {patterns} FROM traj_g"),
        ("traj_facts", f"SELECT {EPISODE_ID}, {facts} FROM traj_pattern"),
    ]


def _fell(thresholds: Mapping[str, float]) -> str:
    """The first later point after the best one that fell from it by the smaller of the SDC and
    the MCID (issue 12); only read for a relapse, whose best point beat the reference."""
    parts = []
    for i in judged_instruments():
        limit = limit_for(i, thresholds)
        fall = number(min(limit.threshold or 0.0, limit.improvement or 0.0))
        n = i.value
        parts.append(
            f"MIN(CASE WHEN g_{n} IS NOT NULL AND mo > top_{n} AND mg_{n} - g_{n} >= {fall}"
            f" THEN mo END) AS fell_{n}"
        )
    return f"SELECT {EPISODE_ID}, {', '.join(parts)} FROM traj_last GROUP BY {EPISODE_ID}"


def _patterns(thresholds: Mapping[str, float], early: str, judged: str) -> tuple[str, str]:
    """Each instrument's pattern (NULL when there are too few points), then the facts."""
    patterns = []
    for i in judged_instruments():
        limit = limit_for(i, thresholds)
        improvement, threshold = number(limit.improvement or 0.0), number(limit.threshold or 0.0)
        fall = number(min(limit.threshold or 0.0, limit.improvement or 0.0))
        n = i.value
        patterns.append(
            f"CASE WHEN np_{n} < 2 - hb_{n} THEN NULL"
            f" WHEN mg_{n} > 0 AND bg_{n} >= {improvement} AND bg_{n} - ng_{n} >= {fall}"
            f" AND la_{n} >= {early} AND la_{n} > best_{n} THEN 'relapse'"
            f" WHEN ng_{n} <= -{threshold} AND la_{n} >= {early} THEN 'worsening'"
            f" WHEN ng_{n} >= {improvement} THEN 'improving'"
            f" WHEN la_{n} < {early} THEN 'too_early'"
            f" WHEN la_{n} >= {judged} AND hb_{n} = 1 THEN 'not_improved'"
            f" ELSE 'plateau' END AS p_{n}, fell_{n}"
        )
    feeds = [i.value for i in judged_instruments() if i in FEEDS_SIGNS]
    judged_any = " OR ".join(f"p_{n} IS NOT NULL" for n in feeds) or "FALSE"

    def verdict(wanted: str) -> str:
        hit = " OR ".join(f"p_{n} IN ({wanted})" for n in feeds) or "FALSE"
        return f"CASE WHEN {hit} THEN TRUE WHEN {judged_any} THEN FALSE END"

    months = ", ".join(
        f"CASE WHEN p_{i.value} = 'relapse' AND fell_{i.value} <> 0 THEN fell_{i.value} END"
        for i in judged_instruments()
    )
    relapse, stalled = verdict("'relapse'"), verdict("'not_improved', 'worsening'")
    facts = (
        f"{relapse} AS scores_relapse, {stalled} AS scores_no_recovery,"
        f" LEAST({months}) AS scores_relapse_month"
    )
    return ", ".join(patterns), facts
