"""The command line as a user drives it: assess files, the interactive check, rules, explain."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fusionwatch.cli.main import ExitCode, app

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*.*"))
runner = CliRunner()
AS_OF = ["--as-of", "2026-11-23"]


def invoke(*args: str, stdin: str | None = None):  # type: ignore[no-untyped-def]
    return runner.invoke(app, list(args), input=stdin)


def test_examples_cover_every_triage_level() -> None:
    result = invoke("assess", "--json", *AS_OF, *map(str, EXAMPLES))
    assert result.exit_code == 0, result.output
    levels = {item["triage"]["level"] for item in json.loads(result.stdout)}
    assert levels == {"emergency", "prompt_referral", "routine"}


def test_json_has_the_documented_keys() -> None:
    result = invoke("assess", "--json", *AS_OF, str(ROOT / "examples/routine-recovering-well.json"))
    data = json.loads(result.stdout)
    for key in ("recommendations", "missing_information", "provenance", "disclaimer"):
        assert key in data
    assert data["triage"]["level"] == "routine"
    assert data["suspicion"]["level"] == "low"
    assert data["provenance"]["knowledge_version"]


def test_readable_report_explains_and_cites() -> None:
    path = ROOT / "examples/emergency-saddle-numbness.json"
    result = invoke("assess", *AS_OF, "--for", "patient", str(path))
    assert result.exit_code == 0
    assert "GET EMERGENCY CARE NOW" in result.stdout
    assert "Cauda equina" in result.stdout  # the source, numbered once
    assert "Where this comes from" in result.stdout
    assert "FW-" not in result.stdout  # rule ids are for clinicians
    # The report stops at the emergency: nothing about suspicion, stimulators or plans follows.
    assert "The check stops here" in result.stdout
    for later in ("Chance that the fusion", "stimulator", "What could help"):
        assert later not in result.stdout


def test_invalid_file_names_the_field_and_exits_non_zero(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"pain": {"axial": 11}, "surgery": {"levels": ["L7-L8"]}}))
    good = ROOT / "examples/routine-recovering-well.json"
    result = invoke("assess", *AS_OF, str(bad), str(good))
    assert result.exit_code == ExitCode.INVALID_INPUT
    assert "pain.axial" in result.stderr
    assert "L7-L8" in result.stderr
    assert "ROUTINE" in result.stdout  # the good file is still assessed


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    result = invoke("assess", str(tmp_path / "nope.json"))
    assert result.exit_code == ExitCode.INVALID_INPUT
    assert "cannot be read" in result.stderr


def test_check_stops_at_the_first_emergency_yes() -> None:
    result = invoke("check", *AS_OF, stdin="n\ny\n")
    assert result.exit_code == 0, result.output
    assert "EMERGENCY" in result.stdout
    assert "Now some questions" not in result.stdout


def test_check_walks_through_and_unasked_emergency_is_never_routine(tmp_path: Path) -> None:
    answers = [""] + ["n"] * 7 + [""] * 80  # first emergency question skipped (not asked)
    saved = tmp_path / "me.yaml"
    result = invoke("check", *AS_OF, "--save", str(saved), stdin="\n".join(answers) + "\n")
    assert result.exit_code == 0, result.output
    assert "SEE A SPINE SPECIALIST SOON" in result.stdout
    assert "Answer these urgent questions first" in result.stdout
    assert "new_weakness: unknown" in saved.read_text()


def test_check_gives_same_day_advice_at_once_when_not_sure(tmp_path: Path) -> None:
    """'Not sure' on an emergency question: the urgent advice comes before the next question."""
    answers = ["?"] + ["n"] * 7 + [""] + [""] * 80  # not sure, rest no, continue, skip the rest
    saved = tmp_path / "me.yaml"
    result = invoke("check", *AS_OF, "--save", str(saved), stdin="\n".join(answers) + "\n")
    assert result.exit_code == 0, result.output
    out = result.stdout
    advice = out.index("CONTACT YOUR SURGICAL TEAM TODAY")
    second = out.index("Have you lost control of your bladder")
    assert advice < second  # shown before anything else is asked
    assert "You were not sure about" in out
    assert "Continue with the other questions?" in out
    assert "new_weakness: not_sure" in saved.read_text()
    assert out.count("CONTACT YOUR SURGICAL TEAM TODAY") == 2  # the advice, then the final result


def test_check_can_stop_after_the_same_day_advice() -> None:
    answers = ["?"] + ["n"] * 7 + ["n"]  # not sure, rest no, do not continue
    result = invoke("check", *AS_OF, stdin="\n".join(answers) + "\n")
    assert result.exit_code == 0, result.output
    assert "CONTACT YOUR SURGICAL TEAM TODAY" in result.stdout
    assert "You were not sure about" in result.stdout
    assert "Now some questions" not in result.stdout


def test_check_reasks_on_a_bad_answer() -> None:
    result = invoke("check", *AS_OF, stdin="maybe\nn\ny\n")
    assert "please answer y (yes), n (no) or ? (not sure)" in result.stdout
    assert "EMERGENCY" in result.stdout


def test_clinician_check_asks_exam_questions() -> None:
    result = invoke("check", "--mode", "clinician", *AS_OF, stdin="n\n" * 8 + "\n" * 120)
    assert result.exit_code == 0, result.output
    assert "Strength" in result.stdout


def test_committed_rulebook_is_up_to_date() -> None:
    result = invoke("rules", "--check", str(ROOT / "docs/rulebook.md"))
    assert result.exit_code == 0, "docs/rulebook.md is stale: run `make rulebook`"


def test_coverage_map_is_current_and_leaves_no_section_out() -> None:
    from fusionwatch.knowledge import load
    from fusionwatch.report import rulebook

    result = invoke("rules", "--coverage", "--check", str(ROOT / "docs/coverage.md"))
    assert result.exit_code == 0, "docs/coverage.md is stale: run `make rulebook`"
    kb = load()
    for section in kb.data.manifest.sections:
        rules, others = rulebook.implementing(kb, section)
        assert rules or others, f"article section {section!r} has nothing implementing it"


def test_stale_rulebook_is_detected(tmp_path: Path) -> None:
    stale = tmp_path / "rulebook.md"
    stale.write_text("old")
    assert invoke("rules", "--check", str(stale)).exit_code == ExitCode.STALE


@pytest.mark.parametrize("term", ["pseudarthrosis", "nonunion", "CT scan"])
def test_explain_finds_glossary_terms(term: str) -> None:
    result = invoke("explain", term)
    assert result.exit_code == 0
    assert len(result.stdout) > 80


def test_explain_unknown_term_suggests_entries() -> None:
    result = invoke("explain", "quantum")
    assert result.exit_code == ExitCode.NOT_FOUND
    assert "Try one of" in result.stderr


@pytest.mark.parametrize(
    ("term", "title"),
    [
        ("seudoartrosis", "Seudoartrosis (falta de unión)"),
        ("pseudarthrosis", "Seudoartrosis (falta de unión)"),
        ("fusion", "Artrodesis (fusión vertebral)"),
        ("TAC", "Tomografía computarizada (TAC)"),
        ("radiografias dinamicas", "Radiografías dinámicas"),
        ("ciática", "Dolor radicular"),
    ],
)
def test_explain_in_spanish_shows_the_spanish_text(term: str, title: str) -> None:
    result = invoke("explain", term, "--lang", "es")
    assert result.exit_code == 0, result.output
    assert title in result.stdout
    assert "bone" not in result.stdout


def test_explain_in_spanish_keeps_the_english_sources() -> None:
    english = invoke("explain", "hba1c").stdout
    spanish = invoke("explain", "hba1c", "--lang", "es").stdout
    assert "azúcar en la sangre" in spanish
    assert "hba1c_gsj2025" in english
    assert "hba1c_gsj2025" in spanish


def test_explain_in_an_unknown_language_is_refused() -> None:
    result = invoke("explain", "pseudarthrosis", "--lang", "tlh")
    assert result.exit_code == ExitCode.INVALID_INPUT
    assert "en, es" in result.stderr


def test_schema_is_json_schema_of_the_case() -> None:
    schema = json.loads(invoke("schema").stdout)
    assert set(schema["properties"]) >= {"surgery", "signs", "emergency", "risk", "imaging"}
    assert schema["additionalProperties"] is False


def test_python_dash_m_runs_the_same_cli() -> None:
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "fusionwatch", "explain", "pseudarthrosis"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Pseudarthrosis" in done.stdout


def test_assess_writes_a_markdown_report_for_the_patient(tmp_path: Path) -> None:
    out = tmp_path / "me.md"
    path = ROOT / "examples/referral-smoker-mechanical-pain.json"
    result = invoke(
        "assess", *AS_OF, "--format", "markdown", "--for", "patient", "--out", str(out), str(path)
    )
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert text.startswith("# Summary")
    assert "## See a spine specialist soon" in text
    assert "**By when:**" in text
    assert "## My answers in short" in text
    assert "## Questions for my doctor" in text
    assert "FW-" not in text
    # Without --out the Markdown goes to standard output.
    printed = invoke("assess", *AS_OF, "--format", "markdown", str(path))
    assert printed.stdout.startswith("# Clinical note: ")


def test_assess_writes_a_clinician_pdf_with_the_note_first(tmp_path: Path) -> None:
    import io

    from pypdf import PdfReader

    out = tmp_path / "note.pdf"
    path = ROOT / "examples/imaging-ct-and-motion-films.yaml"
    result = invoke(
        "assess", *AS_OF, "--format", "pdf", "--for", "clinician", "--out", str(out), str(path)
    )
    assert result.exit_code == 0, result.output
    reader = PdfReader(io.BytesIO(out.read_bytes()))
    first = reader.pages[0].extract_text()
    assert "Clinical note: imaging-ct-and-motion-films" in first
    assert "Plan" in first
    assert len(reader.pages) > 1  # the full assessment follows as an appendix


def test_a_pdf_needs_an_output_file_and_one_case() -> None:
    path = str(ROOT / "examples/routine-recovering-well.json")
    result = invoke("assess", *AS_OF, "--format", "pdf", path)
    assert result.exit_code == ExitCode.INVALID_INPUT
    assert "--out" in result.output
    result = invoke("assess", *AS_OF, "--format", "pdf", "--out", "x.pdf", path, path)
    assert result.exit_code == ExitCode.INVALID_INPUT
    assert "one case" in result.output
    result = invoke("assess", *AS_OF, "--format", "docx", path)
    assert result.exit_code == ExitCode.INVALID_INPUT
    assert "terminal, markdown, pdf" in result.output


def test_assess_stops_at_an_emergency_in_every_format(tmp_path: Path) -> None:
    path = str(ROOT / "examples/emergency-saddle-numbness.json")
    for audience in ("patient", "clinician"):
        out = invoke("assess", *AS_OF, "--for", audience, "--format", "markdown", path).stdout
        assert "Stopped at the emergency" in out or "The check stops here" in out
        assert "Bone-stimulator" not in out
        assert "Policy:" not in out
        assert "## Full assessment" not in out
        assert "## More detail" not in out


def test_exit_codes_are_defined_once() -> None:
    """Every command uses the one enum in cli/exits.py; no module keeps its own numbers."""
    import re
    from pathlib import Path

    import fusionwatch

    root = Path(fusionwatch.__file__).parent
    # An exit code is a number; an enum member of another kind (store/glass.Outcome) is not one.
    own = re.compile(r"^\s*(INVALID_INPUT|STALE|NOT_FOUND|KNOWLEDGE)\s*=\s*\d", re.MULTILINE)
    defining = sorted(
        str(p.relative_to(root)) for p in root.rglob("*.py") if own.search(p.read_text())
    )
    assert defining == ["cli/exits.py"]
    assert len(set(ExitCode)) == len(ExitCode.__members__)
