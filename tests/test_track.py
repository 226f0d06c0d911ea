"""`fusionwatch track`: CSV import (with row-named errors) and the charts it draws."""

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from fusionwatch.cli.main import ExitCode, app
from fusionwatch.core.errors import CaseError
from fusionwatch.files.scores import merge, parse_scores

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE_CSV = ROOT / "examples/follow-up/scores.csv"
EXAMPLE_CASE = ROOT / "examples/follow-up/case.yaml"
WITH_SCORES = ROOT / "examples/follow-up/case-with-scores.yaml"
AS_OF = "2026-09-01"
SVG = "{http://www.w3.org/2000/svg}"


def invoke(*args: str) -> object:
    return CliRunner().invoke(app, list(args))


def problems(text: str) -> list[str]:
    with pytest.raises(CaseError) as caught:
        parse_scores(text)
    return [str(p) for p in caught.value.problems]


def test_csv_rows_become_visits() -> None:
    rows = parse_scores("when,odi,analgesics\nbaseline,52,opioid\n2026-01-06,40,\n6,28,none\n")
    assert [n for n, _ in rows] == [2, 3, 4]
    assert [v for _, v in rows] == [
        {"baseline": True, "odi": 52.0, "analgesics": "opioid"},
        {"date": "2026-01-06", "odi": 40.0},
        {"month": 6.0, "odi": 28.0, "analgesics": "none"},
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("odi\n40\n", "header: needs a 'when' column"),
        ("when,oswestry\n3,40\n", "unknown column oswestry"),
        ("when,odi\n3,abc\n", "row 2, column odi: 'abc' is not a number"),
        ("when,odi\n3,140\n", "row 2, column odi: must be 100 or less"),
        ("when,odi\nsoon,40\n", "row 2, column when: 'soon' is not 'baseline'"),
        ("when,odi\n,40\n", "row 2, column when: is empty"),
        ("when,odi,analgesics\n3,40,lots\n", "row 2, column analgesics: 'lots' is not one of"),
        ("when,odi\n3,\n", "row 2, column when: a visit needs at least one score"),
        ("when,odi\n", "holds no score rows"),
    ],
)
def test_csv_errors_name_row_and_column(text: str, expected: str) -> None:
    assert any(expected in p for p in problems(text)), problems(text)


def test_import_refuses_duplicates_and_wrong_region_by_row(tmp_path: Path) -> None:
    scores = tmp_path / "s.csv"
    scores.write_text("when,ndi\n3,40\n3,35\n", encoding="utf-8")
    result = invoke("track", "import", str(scores), "--region", "lumbar", "--as-of", AS_OF)
    assert result.exit_code == ExitCode.INVALID_INPUT  # type: ignore[attr-defined]
    text = " ".join(result.output.split())  # type: ignore[attr-defined]
    assert "row 2, ndi: does not fit a lumbar fusion" in text
    assert "row 3, when: month 3 is the same time point as visit 1" in text


def test_merge_replaces_visits_at_the_same_time_point() -> None:
    old = [{"baseline": True, "odi": 50}, {"month": 3.0, "odi": 30}]
    merged, replaced = merge(old, [{"month": 3, "odi": 28}, {"month": 6.0, "odi": 25}])
    assert replaced == 1
    assert merged == [
        {"baseline": True, "odi": 50},
        {"month": 3, "odi": 28},
        {"month": 6.0, "odi": 25},
    ]


def test_import_merges_into_a_case_and_shows_the_pattern(tmp_path: Path) -> None:
    out = tmp_path / "case.yaml"
    result = invoke(
        "track", "import", str(EXAMPLE_CSV), "--case", str(EXAMPLE_CASE), "--out", str(out),
        "--as-of", AS_OF,
    )  # fmt: skip
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    text = " ".join(result.output.split())  # type: ignore[attr-defined]
    assert "improved, then worsened" in text
    assert "fell back 22 from the best" in text
    assert "DISAGREE" in text
    saved = yaml.safe_load(out.read_text(encoding="utf-8"))
    assert len(saved["follow_up"]) == 5
    assert saved["signs"]["improved_then_worse"] == "no"  # the answer is kept as given
    assessed = invoke("assess", str(out), "--as-of", AS_OF)
    shown = " ".join(assessed.output.split())  # type: ignore[attr-defined]
    assert "Recovery over time" in shown
    assert "FW-TRAJ-001" in shown


def _plot(tmp_path: Path, name: str) -> Path:
    case = tmp_path / "case.yaml"
    invoke(
        "track",
        "import",
        str(EXAMPLE_CSV),
        "--case",
        str(EXAMPLE_CASE),
        "--out",
        str(case),
        "--as-of",
        AS_OF,
    )
    chart = tmp_path / name
    result = invoke("track", "plot", str(case), "--out", str(chart), "--as-of", AS_OF)
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    return chart


def test_svg_chart_has_series_band_milestones_and_worsening(tmp_path: Path) -> None:
    chart = _plot(tmp_path, "chart.svg")
    ids = {el.get("id") for el in ET.parse(chart).iter() if el.get("id")}
    for score in ("nrs_axial", "nrs_limb", "odi", "promis_pf", "walking_minutes"):
        assert f"series-{score}" in ids
    assert {"mcid-band-odi", "mcid-band-nrs_axial", "worsening-odi"} <= ids
    assert "mcid-band-walking_minutes" not in ids  # no published MCID: no band drawn
    assert {"milestone-6-weeks", "milestone-3-months", "milestone-12-months"} <= ids
    texts = " ".join(t.text or "" for t in ET.parse(chart).iter(f"{SVG}text"))
    assert "improved, then worsened" in texts
    assert "lower is better" in texts


def test_svg_chart_is_deterministic(tmp_path: Path) -> None:
    first = _plot(tmp_path, "a.svg").read_bytes()
    second = _plot(tmp_path, "b.svg").read_bytes()
    assert first == second
    assert b"<dc:date>" not in first


def test_png_chart_is_a_real_image(tmp_path: Path) -> None:
    data = _plot(tmp_path, "chart.png").read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(data) > 20_000


def test_plot_refuses_a_case_without_scores_and_other_formats(tmp_path: Path) -> None:
    empty = tmp_path / "empty.yaml"
    empty.write_text("surgery: {months_since: 4}\n", encoding="utf-8")
    result = invoke("track", "plot", str(empty), "--out", str(tmp_path / "c.svg"))
    assert result.exit_code == ExitCode.INVALID_INPUT  # type: ignore[attr-defined]
    result = invoke("track", "plot", str(EXAMPLE_CASE), "--out", str(tmp_path / "c.pdf"))
    assert result.exit_code != 0  # type: ignore[attr-defined]


def test_assessing_never_loads_matplotlib() -> None:
    import subprocess
    import sys

    code = (
        "import sys, datetime as dt\n"
        "from fusionwatch.cli import main as cli\n"
        "from fusionwatch.files.case import read_case\n"
        "from fusionwatch.core.engine import assess\n"
        "from fusionwatch.knowledge import load\n"
        "from pathlib import Path\n"
        f"case = read_case(Path({str(WITH_SCORES)!r}), dt.date(2026, 9, 1))\n"
        "assess(case, load(), dt.date(2026, 9, 1))\n"
        "assert 'matplotlib' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_patient_report_and_json_carry_the_follow_up() -> None:
    patient = invoke("assess", "--for", "patient", "--as-of", AS_OF, str(WITH_SCORES))
    text = " ".join(re.sub("[│╭╮╰╯─]", " ", patient.output).split())  # type: ignore[attr-defined]
    assert "your scores show this, although you answered no" in text
    assert "the person answered" not in text
    machine = invoke("assess", "--json", "--as-of", AS_OF, str(WITH_SCORES))
    data = json.loads(machine.stdout)  # type: ignore[attr-defined]
    patterns = {t["instrument"]: t["pattern"] for t in data["follow_up"]["trajectories"]}
    assert patterns["odi"] == "improved_then_worsened"
    assert data["follow_up"]["signs"][0]["answer"] is False
    assert data["follow_up"]["signs"][0]["counted"] is True
