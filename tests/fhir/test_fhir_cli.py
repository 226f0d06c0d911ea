"""The fhir commands and assess --fhir, as a user would run them."""

import json
from pathlib import Path

import yaml
from typer.testing import CliRunner

from fusionwatch.cli.main import ExitCode, app

HERE = Path(__file__).parent
BUNDLE = str(HERE / "bundle-post-fusion.json")
runner = CliRunner()


def test_fhir_import_prints_the_case_and_notes(tmp_path: Path) -> None:
    out = tmp_path / "case.yaml"
    result = runner.invoke(
        app, ["fhir", "import", BUNDLE, "--as-of", "2026-11-23", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert yaml.safe_load(out.read_text())["risk"]["nicotine"] == "current"
    assert "nmol/L" in result.output


def test_assess_fhir_writes_a_result_bundle(tmp_path: Path) -> None:
    out = tmp_path / "result.json"
    result = runner.invoke(
        app, ["assess", "--fhir", BUNDLE, "--out", str(out), "--as-of", "2026-11-23", "--json"]
    )
    assert result.exit_code == 0, result.output
    kinds = [e["resource"]["resourceType"] for e in json.loads(out.read_text())["entry"]]
    assert kinds[0] == "RiskAssessment"
    assert kinds[-1] == "Provenance"


def test_assess_needs_files_or_a_bundle() -> None:
    assert runner.invoke(app, ["assess"]).exit_code == 2


def test_questionnaire_and_plandefinitions_print_fhir() -> None:
    result = runner.invoke(app, ["fhir", "questionnaire", "--for", "clinician"])
    assert json.loads(result.stdout)["resourceType"] == "Questionnaire"
    result = runner.invoke(app, ["fhir", "plandefinitions"])
    assert json.loads(result.stdout)["entry"][0]["resource"]["resourceType"] == "PlanDefinition"


def test_a_bad_bundle_is_an_input_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2]")
    assert runner.invoke(app, ["fhir", "import", str(bad)]).exit_code == ExitCode.INVALID_INPUT
