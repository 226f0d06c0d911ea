"""The score chart says what the engine does: where a worsening was first seen, from what it is
judged and by how much, and labels that never overlap (checked on what is handed to matplotlib)."""

import datetime as dt
from collections.abc import Iterator
from itertools import combinations
from pathlib import Path
from typing import Any

import matplotlib as mpl
import pytest

from fusionwatch.core.engine import assess
from fusionwatch.core.followup import FollowUpResult
from fusionwatch.files.case import read_case
from fusionwatch.knowledge import load
from fusionwatch.report import chart, chartlabels
from fusionwatch.settings import Settings

KB = load()
DAY = dt.date(2026, 11, 1)
CASE = """\
surgery: {date: 2025-06-01, region: lumbar, levels: [L4-L5], approach: TLIF, instrumented: "yes",
  indication: degenerative, prior_failed_fusion_same_site: "no"}
person: {age: 60}
follow_up:
"""
# Synthetic: ODI improves to its best at month 6, and is first seen worse at month 12.
RELAPSE = """\
  - {baseline: true, nrs_axial: 8, odi: 56}
  - {month: 1.5, nrs_axial: 5, odi: 42}
  - {month: 3, nrs_axial: 3, odi: 26}
  - {month: 6, nrs_axial: 3, odi: 24}
  - {month: 12, nrs_axial: 7, odi: 48}
  - {month: 17, nrs_axial: 7, odi: 50}
"""
# Synthetic: ODI never improves and is first seen worse than the start by the SDC at month 6.
WORSENING = """\
  - {baseline: true, odi: 30}
  - {month: 3, odi: 44}
  - {month: 6, odi: 50}
  - {month: 9, odi: 52}
"""


def follow_up(tmp_path: Path, visits: str) -> FollowUpResult:
    path = tmp_path / "case.yaml"
    path.write_text(CASE + visits, encoding="utf-8")
    result = assess(read_case(path, DAY), KB, DAY, Settings().site()).follow_up
    assert result is not None
    return result


@pytest.fixture
def drawn() -> Iterator[None]:
    mpl.use("Agg")
    with mpl.rc_context(chart.STYLE):
        yield


def by_gid(figure: Any, gid: str) -> Any:
    return next(a for a in figure.findobj() if a.get_gid() == gid)


def legend_texts(figure: Any) -> list[str]:
    return [t.get_text() for t in figure.legends[0].get_texts()]


@pytest.mark.usefixtures("drawn")
def test_the_first_worse_visit_and_the_best_score_are_marked_and_named(tmp_path: Path) -> None:
    figure = chart.build(follow_up(tmp_path, RELAPSE))
    ring = by_gid(figure, "worsening-odi")
    assert (list(ring.get_xdata()), list(ring.get_ydata())) == ([12], [48])
    assert ring.get_label() == "First visit worse than the best by the threshold"
    best = by_gid(figure, "best-odi")
    assert (list(best.get_xdata()), list(best.get_ydata())) == ([6], [24])
    assert "from here" not in " ".join(legend_texts(figure))
    assert {"Best score", ring.get_label()} <= set(legend_texts(figure))


@pytest.mark.usefixtures("drawn")
def test_the_dashed_line_is_the_engines_relapse_step_from_the_best(tmp_path: Path) -> None:
    figure = chart.build(follow_up(tmp_path, RELAPSE))
    mcid = KB.thresholds["mcid.odi"]  # smaller than the SDC, so the engine judges by it
    limit = by_gid(figure, "worse-limit-odi")
    assert limit.get_text() == f"best 24 + {mcid:g} (MCID)"
    assert limit.xy[1] == pytest.approx(24 + mcid)
    assert chart.LIMIT_LABEL in legend_texts(figure)


@pytest.mark.usefixtures("drawn")
def test_a_worsening_from_the_start_is_judged_by_the_sdc(tmp_path: Path) -> None:
    figure = chart.build(follow_up(tmp_path, WORSENING))
    sdc = KB.thresholds["sdc.odi"]
    assert by_gid(figure, "worse-limit-odi").get_text() == f"start 30 + {sdc:g} (SDC)"
    ring = by_gid(figure, "worsening-odi")
    assert (list(ring.get_xdata()), ring.get_label()) == (
        [6],
        "First visit worse than the start by the threshold",
    )
    assert "Best score" not in legend_texts(figure)


@pytest.mark.usefixtures("drawn")
def test_the_band_claims_only_what_the_mcid_from_the_start_decides(tmp_path: Path) -> None:
    figure = chart.build(follow_up(tmp_path, RELAPSE))
    band = by_gid(figure, "mcid-band-odi")
    assert band.get_label() == chart.BAND_LABEL
    assert "too small to matter" not in " ".join(legend_texts(figure))


@pytest.mark.usefixtures("drawn")
def test_close_check_points_are_named_on_different_rows(tmp_path: Path) -> None:
    figure = chart.build(follow_up(tmp_path, RELAPSE))
    six_weeks = by_gid(figure, "milestone-name-6-weeks")
    three_months = by_gid(figure, "milestone-name-3-months")
    assert six_weeks.xyann[1] != three_months.xyann[1]
    assert by_gid(figure, "milestone-name-12-months").xyann[1] == six_weeks.xyann[1]


@pytest.mark.usefixtures("drawn")
def test_no_time_labels_overlap(tmp_path: Path) -> None:
    figure = chart.build(follow_up(tmp_path, RELAPSE))
    figure.draw_without_rendering()
    axis = figure.axes[-1]
    names = [t for t in figure.axes[0].texts if str(t.get_gid()).startswith("milestone-name")]
    ticks = [t for t in axis.get_xticklabels() if t.get_text()]
    assert "surgery" not in [t.get_text().strip() for t in ticks]  # the legend names the line
    for group in (names, ticks):
        boxes = [t.get_window_extent() for t in group]
        assert len(boxes) > 3
        assert not any(a.overlaps(b) for a, b in combinations(boxes, 2))


def test_rows_stack_close_labels_and_keep_far_ones_on_the_axis() -> None:
    # 20 points a month: "6 weeks" and "3 months" are 30 points apart, narrower than either.
    rows = chartlabels.rows([1.5, 3, 6, 12], ["6 weeks", "3 months", "6 months", "12"], 11, 20)
    assert rows == [0, 1, 0, 0]
    # A two-line label fills two rows, so a close neighbour goes below both.
    assert chartlabels.rows([-1.5, 0], ["before\nsurgery", "0"], 13, 10) == [0, 2]
    assert chartlabels.rows([-1.5, 30], ["before\nsurgery", "30"], 13, 10) == [0, 0]


def test_month_ticks_thin_out_on_a_crowded_axis() -> None:
    assert chartlabels.month_step(25, 13) == 3
    assert chartlabels.month_step(3, 13) == 12
