"""Score trajectories for a whole cohort in SQL window functions (core.derive.trajectory, vectorised).

Each step mirrors one line of ``core.derive.trajectory``: the reference point (the baseline, else
the first follow-up), the gain of every later point, the best point (largest gain, earliest of
equals; the reference when nothing beats it), the latest point, and then the same pattern
decisions in the same order. Only the facts the rules read leave this module.
"""

from collections.abc import Mapping

from fusionwatch.core.derive.trajectory import LIMIT_IDS, limit_for
from fusionwatch.core.followup import FEEDS_SIGNS
from fusionwatch.core.scores import HIGHER_IS_BETTER, Instrument
from fusionwatch.screen.compiler import literal, number
from fusionwatch.screen.derived import SCORE_SHIFT
from fusionwatch.screen.dialect import Dialect
from fusionwatch.screen.months import signed_months_sql
from fusionwatch.screen.schema import EPISODE_ID


def _limits(thresholds: Mapping[str, float]) -> str:
    rows = []
    for instrument in Instrument:
        mcid_id, sdc_id = LIMIT_IDS[instrument]
        if mcid_id is None and sdc_id is None:
            continue  # shown only, never judged: cannot raise a sign
        limit = limit_for(instrument, thresholds)
        sign = 1.0 if instrument in HIGHER_IS_BETTER else -1.0
        feeds = "TRUE" if instrument in FEEDS_SIGNS else "FALSE"
        rows.append(
            f"SELECT {literal(instrument.value)} AS instrument, {number(sign)} AS sgn,"
            f" {number(limit.improvement or 0.0)} AS improvement,"
            f" {number(limit.threshold or 0.0)} AS threshold, {feeds} AS feeds"
        )
    return " UNION ALL ".join(rows)


def trajectory_ctes(
    dialect: Dialect,
    thresholds: Mapping[str, float],
    visits: str,
    base: str,
) -> list[tuple[str, str]]:
    """Named CTEs ending in ``traj_facts``: one row per episode with follow-up visits."""
    early = number(thresholds["months.early_recovery"])
    judged = number(thresholds["months.fusion_assessment"])
    pick = " ".join(f"WHEN {literal(i.value)} THEN v.{i.value}" for i in Instrument)
    placed = f"COALESCE(v.month, {signed_months_sql(dialect, 'b.surgery__date', 'v.visit_date')})"
    by = f"PARTITION BY p.{EPISODE_ID}, p.instrument"
    return [
        ("traj_limits", _limits(thresholds)),
        (
            "traj_placed",
            f"SELECT v.{EPISODE_ID}, l.instrument, v.baseline, l.sgn, l.improvement, l.threshold,"
            f" l.feeds, (CASE WHEN v.baseline THEN LEAST(COALESCE({placed}, 0.0), 0.0)"
            f" ELSE {placed} END) - COALESCE(b.{SCORE_SHIFT}, 0.0) AS at,"
            f" CASE l.instrument {pick} END AS value, b.{SCORE_SHIFT} AS shift"
            f" FROM {visits} v JOIN {base} b ON b.{EPISODE_ID} = v.{EPISODE_ID}"
            " CROSS JOIN traj_limits l",
        ),
        (
            # After a later operation (shift known) the latest point at or before it is the
            # baseline and earlier ones are left out (core.followup._restarted).
            "traj_points",
            f"SELECT p.{EPISODE_ID}, p.instrument, CASE WHEN p.shift IS NULL THEN p.baseline"
            " ELSE p.at <= 0 END AS baseline, p.sgn, p.improvement, p.threshold, p.feeds, p.at,"
            " p.value FROM (SELECT q.*, ROW_NUMBER() OVER (PARTITION BY"
            f" q.{EPISODE_ID}, q.instrument, q.at <= 0 ORDER BY q.at DESC, q.baseline DESC)"
            " AS nearest FROM traj_placed q WHERE q.value IS NOT NULL AND q.at IS NOT NULL) p"
            " WHERE p.shift IS NULL OR p.at > 0 OR p.nearest = 1",
        ),
        (
            "traj_a",
            "SELECT p.*,"
            f" MAX(CASE WHEN p.baseline THEN 1 ELSE 0 END) OVER ({by}) AS has_base,"
            f" ROW_NUMBER() OVER ({by}, p.baseline ORDER BY p.at) AS post_rank,"
            f" SUM(CASE WHEN p.baseline THEN 0 ELSE 1 END) OVER ({by}) AS n_post,"
            f" MAX(CASE WHEN p.baseline THEN NULL ELSE p.at END) OVER ({by}) AS latest_at"
            " FROM traj_points p WHERE p.value IS NOT NULL AND p.at IS NOT NULL",
        ),
        (
            "traj_b",
            "SELECT p.*, CASE WHEN p.has_base = 1 THEN p.baseline"
            " ELSE (NOT p.baseline AND p.post_rank = 1) END AS is_ref,"
            " (NOT p.baseline AND (p.has_base = 1 OR p.post_rank > 1)) AS is_later"
            " FROM traj_a p WHERE p.n_post >= (2 - p.has_base)",
        ),
        (
            "traj_c",
            "SELECT p.*,"
            f" MAX(CASE WHEN p.is_ref THEN p.value END) OVER ({by}) AS ref_value,"
            f" MAX(CASE WHEN p.is_ref THEN p.at END) OVER ({by}) AS ref_at"
            " FROM traj_b p",
        ),
        (
            "traj_d",
            "SELECT p.*, CASE WHEN p.is_later THEN ROUND((p.value - p.ref_value) * p.sgn, 6)"
            " END AS gain FROM traj_c p",
        ),
        (
            "traj_e",
            f"SELECT p.*, MAX(p.gain) OVER ({by}) AS max_gain FROM traj_d p",
        ),
        (
            "traj_f",
            # The best point: the earliest later point with the largest gain if it beats the
            # reference (gain 0), else the reference itself.
            "SELECT p.*,"
            " CASE WHEN p.max_gain > 0 THEN p.max_gain ELSE 0.0 END AS best_gain,"
            " CASE WHEN p.max_gain > 0 THEN"
            f" MIN(CASE WHEN p.gain = p.max_gain THEN p.at END) OVER ({by})"
            " ELSE p.ref_at END AS best_at FROM traj_e p",
        ),
        (
            "traj_g",
            f"SELECT p.{EPISODE_ID}, p.instrument, MAX(p.feeds) AS feeds,"
            " MAX(p.has_base) AS has_base, MAX(p.latest_at) AS latest_at,"
            " MAX(p.best_gain) AS best_gain, MAX(p.best_at) AS best_at,"
            " MAX(p.max_gain) AS max_gain, MAX(p.improvement) AS improvement,"
            " MAX(p.threshold) AS threshold,"
            " MAX(CASE WHEN p.is_later AND p.at = p.latest_at THEN p.gain END) AS now_gain,"
            # A relapse counts a fall of the smaller of the SDC and the MCID (issue 12): it is
            # only read when the best point beat the reference by the MCID.
            " MIN(CASE WHEN p.is_later AND p.at > p.best_at"
            " AND p.best_gain - p.gain >= LEAST(p.threshold, p.improvement) THEN p.at END)"
            " AS fell_at"
            f" FROM traj_f p GROUP BY p.{EPISODE_ID}, p.instrument",
        ),
        (
            "traj_pattern",
            f"SELECT p.{EPISODE_ID}, p.feeds, p.fell_at, CASE"
            " WHEN p.max_gain > 0 AND p.best_gain >= p.improvement"
            " AND p.best_gain - p.now_gain >= LEAST(p.threshold, p.improvement)"
            f" AND p.latest_at >= {early} AND p.latest_at > p.best_at THEN 'relapse'"
            f" WHEN p.now_gain <= -p.threshold AND p.latest_at >= {early} THEN 'worsening'"
            " WHEN p.now_gain >= p.improvement THEN 'improving'"
            f" WHEN p.latest_at < {early} THEN 'too_early'"
            f" WHEN p.latest_at >= {judged} AND p.has_base = 1 THEN 'not_improved'"
            " ELSE 'plateau' END AS pattern FROM traj_g p",
        ),
        (
            "traj_facts",
            f"SELECT p.{EPISODE_ID},"
            " CASE WHEN MAX(CASE WHEN p.feeds AND p.pattern = 'relapse' THEN 1 ELSE 0 END) = 1"
            " THEN TRUE WHEN MAX(CASE WHEN p.feeds THEN 1 ELSE 0 END) = 1 THEN FALSE"
            " END AS scores_relapse,"
            " CASE WHEN MAX(CASE WHEN p.feeds AND p.pattern IN ('not_improved', 'worsening')"
            " THEN 1 ELSE 0 END) = 1 THEN TRUE"
            " WHEN MAX(CASE WHEN p.feeds THEN 1 ELSE 0 END) = 1 THEN FALSE"
            " END AS scores_no_recovery,"
            " MIN(CASE WHEN p.pattern = 'relapse' AND p.fell_at <> 0 THEN p.fell_at END)"
            " AS scores_relapse_month"
            f" FROM traj_pattern p GROUP BY p.{EPISODE_ID}",
        ),
    ]
