"""Each reader's report ends with a notice written for that reader: the patient's in plain words,
the clinician's as decision support. The knowledge base must hold exactly one of each."""

from pathlib import Path

from typer.testing import CliRunner

from fusionwatch.cli.main import app
from fusionwatch.core.checks import check
from fusionwatch.knowledge import load

KB = load()
GOOD = KB.data
CASE = str(Path(__file__).parents[1] / "examples" / "referral-ct-nonunion-revision.yaml")
runner = CliRunner()


def _note(audience: str, language: str = "en") -> str:
    args = ["assess", "--as-of", "2026-11-30", "--for", audience, "--format", "markdown"]
    result = runner.invoke(app, [*args, "--lang", language, CASE])
    assert result.exit_code == 0, result.output
    return " ".join(result.stdout.split())


def _body(item_id: str) -> str:
    return " ".join(KB.education_items[item_id].body.split())


def test_the_clinician_note_ends_with_the_clinicians_notice() -> None:
    note = _note("clinician")
    assert note.rstrip("_ ").endswith(_body(KB.disclaimers["clinician"]))
    assert "It cannot examine you" not in note


def test_the_patient_note_ends_with_the_patients_notice() -> None:
    note = _note("patient")
    assert note.rstrip("_ ").endswith(_body(KB.disclaimers["patient"]))
    assert "decision support" not in note.lower()
    assert "does not examine the patient" not in note


def test_a_spanish_patient_note_keeps_the_spanish_patient_notice() -> None:
    spanish = " ".join(KB.education_item(KB.disclaimers["patient"], "es").body.split())
    assert spanish.rstrip(".") in _note("patient", "es")


def test_one_notice_per_reader_is_required() -> None:
    both = tuple(
        e.model_copy(update={"audience": "both"}) if e.id == KB.disclaimers["clinician"] else e
        for e in GOOD.education
    )
    problems = check(GOOD.model_copy(update={"education": both}))
    assert "exactly one disclaimer for the patient is required, found 2" in problems
    assert not any("for the clinician" in p for p in problems)
    gone = tuple(e for e in GOOD.education if e.id != KB.disclaimers["clinician"])
    problems = check(GOOD.model_copy(update={"education": gone}))
    assert "exactly one disclaimer for the clinician is required, found 0" in problems
