"""`fusionwatch imaging measure` with synthetic DICOM films and landmark files."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fusionwatch.cli.main import ExitCode, app
from tests.synthetic import pair_mm, transform, write_dicom

runner = CliRunner()
SPACING = (0.2, 0.1)


def named(pair: dict, upper: str, lower: str) -> dict:  # type: ignore[type-arg]
    return {upper: pair["upper"], lower: pair["lower"]}


@pytest.fixture
def films(tmp_path: Path) -> dict[str, Path]:
    # Flexion -3° / 2 mm forward, extension +4° / 1 mm back: 7° and 3 mm of motion.
    points = {
        "flexion": named(transform(pair_mm(-3, 2), scale=SPACING), "L4", "L5"),
        "extension": named(transform(pair_mm(4, -1), scale=SPACING, mirror=True), "L4", "L5"),
    }
    landmarks = tmp_path / "points.json"
    landmarks.write_text(json.dumps(points), encoding="utf-8")
    return {
        "flexion": write_dicom(tmp_path / "flex.dcm", PixelSpacing=list(SPACING)),
        "extension": write_dicom(tmp_path / "ext.dcm", PixelSpacing=list(SPACING)),
        "bare": write_dicom(tmp_path / "bare.dcm"),
        "landmarks": landmarks,
    }


def measure(films: dict[str, Path], *extra: str, flexion: str = "flexion") -> object:
    args = ["imaging", "measure", "--flexion", str(films[flexion])]
    args += ["--extension", str(films["extension"]), "--level", "L4-L5"]
    args += ["--landmarks", str(films["landmarks"]), *extra]
    return runner.invoke(app, args)


def test_measure_prints_angle_translation_and_verdict(films: dict[str, Path]) -> None:
    result = measure(films)
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    out = result.output  # type: ignore[attr-defined]
    assert "Motion at L4-L5 (cut-off < 5°)" in out
    assert "│ motion    │ 7 " in out
    assert "does not prove a nonunion" in out


def test_measure_json(films: dict[str, Path]) -> None:
    result = measure(films, "--json", "--motion-cutoff", "8")
    data = json.loads(result.stdout)  # type: ignore[attr-defined]
    assert data["angle_deg"] == pytest.approx(7.0, abs=1e-3)
    assert data["translation_mm"] == pytest.approx(3.0, abs=1e-3)
    assert data["cutoff_deg"] == 8
    assert "suggests fusion" in data["verdict"][1]
    assert data["spacing"]["flexion"].startswith("Pixel Spacing")


def test_unknown_spacing_is_an_error(films: dict[str, Path]) -> None:
    result = measure(films, flexion="bare")
    assert result.exit_code == ExitCode.INVALID_INPUT  # type: ignore[attr-defined]
    assert "pixel spacing is unknown" in result.output  # type: ignore[attr-defined]


def test_calibration_stands_in_for_missing_spacing(films: dict[str, Path], tmp_path: Path) -> None:
    points = {
        "flexion": named(pair_mm(-1, 0), "L4", "L5"),
        "extension": named(pair_mm(2, 0.5), "L4", "L5"),
    }
    films["landmarks"].write_text(json.dumps(points), encoding="utf-8")
    films["extension"] = films["bare"]
    result = measure(films, "--json", "--mm-per-pixel", "1", flexion="bare")
    data = json.loads(result.stdout)  # type: ignore[attr-defined]
    assert data["angle_deg"] == pytest.approx(3.0)
    assert data["translation_mm"] == pytest.approx(0.5)


def test_span_level_is_refused(films: dict[str, Path]) -> None:
    args = ["imaging", "measure", "--level", "L4-S1", "--landmarks", str(films["landmarks"])]
    result = runner.invoke(app, args)
    assert result.exit_code == ExitCode.INVALID_INPUT
    assert "one motion segment" in result.output


def test_clinician_check_does_not_ask_for_studies_as_text() -> None:
    result = runner.invoke(app, ["check", "--mode", "clinician"], input="n\n" * 8 + "\n" * 120)
    assert result.exit_code == 0, result.output
    assert "Imaging studies" not in result.output


def test_assess_takes_the_site_policy_and_cutoff() -> None:
    example = Path(__file__).resolve().parents[1] / "examples/imaging-ct-and-motion-films.yaml"
    args = ["assess", "--json", "--as-of", "2026-11-23", "--stimulator-policy", "bcbsa_7_01_85"]
    result = runner.invoke(app, [*args, "--motion-cutoff", "7", str(example)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["stimulator"]["policy"] == "bcbsa_7_01_85"
    assert data["imaging"]["motion_cutoff_deg"] == 7
    statuses = {lv["level"]: lv["status"] for lv in data["imaging"]["levels"]}
    assert statuses == {"L4-L5": "nonunion", "L5-S1": "fused"}
    assert [c["rule"] for c in data["concordance"]] == ["FW-CONC-005", "FW-CONC-001"]
    refused = runner.invoke(app, ["assess", "--motion-cutoff", "-1", str(example)])
    assert refused.exit_code != 0


def test_the_synthetic_sample_films_in_examples_measure_7_degrees_and_3_mm() -> None:
    """The README's `imaging measure` example: synthetic DICOM files, no person behind them."""
    import pydicom

    sample = Path(__file__).parents[1] / "examples" / "imaging-motion"
    for film in ("flexion", "extension"):
        header = pydicom.dcmread(sample / f"{film}.dcm")
        assert str(header.PatientName) == "Synthetic^Phantom"
        assert [float(v) for v in header.PixelSpacing] == [0.2, 0.1]
    args = ["imaging", "measure", "--level", "L4-L5", "--json"]
    args += ["--flexion", str(sample / "flexion.dcm"), "--extension", str(sample / "extension.dcm")]
    result = runner.invoke(app, [*args, "--landmarks", str(sample / "points.json")])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["angle_deg"] == pytest.approx(7, abs=0.05)
    assert data["translation_mm"] == pytest.approx(3, abs=0.05)
