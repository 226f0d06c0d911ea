"""The command line in Spanish: `check --lang es` (emergency, "not sure", a whole walk, a bad
answer) and `assess --for patient --lang es` (terminal, Markdown, PDF), with the scan for English
strings the web pages get (decision 0013)."""

import io
import re
from pathlib import Path

import pytest
import yaml
from pypdf import PdfReader
from typer.testing import CliRunner

from fusionwatch.cli.main import ExitCode, app
from tests.leaks import ENGLISH

ROOT = Path(__file__).resolve().parents[1]
AS_OF = ["--as-of", "2026-11-23"]
ES = ["--lang", "es"]
NO_EMERGENCY = ["n"] * 8
runner = CliRunner()
# Rich's panels: borders and rules, taken out so that a wrapped sentence reads as one line.
BOX = re.compile(r"[│╭╮╰╯─━┃┏┓┗┛]+")
# The one English line on purpose, for an English clinician reading a Spanish printout.
FOR_CLINICIAN = re.compile(r"For the clinician:[^\n]*")
# Paper titles are never translated (the web marks them lang="en"): the sources panel is skipped.
SOURCES = re.compile(r"De dónde sale esto.*?╰", re.DOTALL)


def invoke(*args: str, stdin: str | None = None):  # type: ignore[no-untyped-def]
    return runner.invoke(app, list(args), input=stdin)


def check(*answers: str, args: tuple[str, ...] = ()):  # type: ignore[no-untyped-def]
    result = invoke("check", *ES, *AS_OF, *args, stdin="\n".join(answers) + "\n")
    assert result.exit_code == 0, result.output
    return result


def flat(text: str) -> str:
    text = SOURCES.sub(" ", FOR_CLINICIAN.sub(" ", text))
    return re.sub(r"\s+", " ", BOX.sub(" ", text))


def assert_spanish(text: str) -> None:
    shown = flat(text)
    leaked = sorted(s for s in ENGLISH if s in shown)
    assert leaked == []


def test_an_emergency_in_spanish_stops_the_check() -> None:
    result = check("n", "sí")
    out = result.stdout
    assert_spanish(out)
    assert "Antes de empezar" in out
    assert "Primero, unas preguntas urgentes." in out
    assert "[s / n / ? (no sé), Enter para saltar]" in out
    assert "BUSQUE ATENCIÓN DE URGENCIA AHORA" in out
    assert "La revisión se detiene aquí" in flat(out)
    assert "Ahora, unas preguntas sobre su operación" not in out
    assert "For the clinician: Emergency" in out


def test_not_sure_in_spanish_gives_same_day_advice_first(tmp_path: Path) -> None:
    saved = tmp_path / "yo.yaml"
    result = check("no sé", *NO_EMERGENCY[1:], "s", *[""] * 80, args=("--save", str(saved)))
    out = result.stdout
    assert_spanish(out)
    advice = out.index("LLAME HOY A SU EQUIPO DE CIRUGÍA")
    second = out.index("¿Ha perdido el control de la orina")
    assert advice < second  # the advice comes before anything else is asked
    assert "Respondió «no lo sé» a" in out
    assert "¿Seguir con las demás preguntas? [S/n]" in out
    assert "Las demás preguntas urgentes siguen siendo importantes:" in out
    assert "Sus respuestas se guardaron en" in out
    assert yaml.safe_load(saved.read_text())["emergency"]["new_weakness"] == "not_sure"


def test_the_check_can_stop_after_the_same_day_advice_in_spanish() -> None:
    result = check("?", *NO_EMERGENCY[1:], "no")
    assert "LLAME HOY A SU EQUIPO DE CIRUGÍA" in result.stdout
    assert "Ahora, unas preguntas" not in result.stdout


def test_a_whole_walk_in_spanish(tmp_path: Path) -> None:
    """Numbered plain-word choices, Spanish yes/no, a decimal comma and a re-asked answer."""
    saved = tmp_path / "yo.yaml"
    walk = [
        "quizás",  # not an answer: asked again, in Spanish
        *NO_EMERGENCY,
        "8",  # months since surgery
        "3",  # region: the third plain choice, "Parte baja de la espalda"
        "L4-L5",
        "Sí",
        "desgaste",  # indication, typed as its plain name
        *[""] * 80,
    ]
    result = check(*walk, args=("--save", str(saved)))
    out = result.stdout
    assert_spanish(out)
    assert "responda s (sí), n (no) o ? (no sé); Enter salta la pregunta" in out
    assert "[un número, en meses (Enter para saltar)]" in out
    assert "1 Cuello / 2 Mitad de la espalda" in out
    assert "Presione Enter para saltar lo que no sepa." in out
    assert "Mis respuestas en breve" in flat(out)
    data = yaml.safe_load(saved.read_text())
    assert data["surgery"]["months_since"] == 8
    assert data["surgery"]["region"] == "lumbar"
    assert data["surgery"]["instrumented"] == "yes"
    assert data["surgery"]["indication"] == "degenerative"


def test_typed_decimals_come_back_with_a_decimal_comma() -> None:
    """'8,5' and '4.5' are both read; the summary writes them as Spanish does: '8,5', '4,5'."""
    walk = [*NO_EMERGENCY, "8,5", "", "", "", "", "", "", "", "s", "s", "4.5", *[""] * 80]
    out = flat(check(*walk).stdout)
    assert "8,5 meses" in out
    assert "4,5 meses después de su última operación de fusión" in out
    # The typed "4.5" is echoed back as typed; every number the check writes has a comma.
    assert re.findall(r"\d+\.\d+ meses", out) == []


def test_english_words_still_work_in_spanish() -> None:
    result = check("n", "y")
    assert "BUSQUE ATENCIÓN DE URGENCIA AHORA" in result.stdout


def test_an_impossible_answer_is_named_by_its_question_in_spanish() -> None:
    walk = [*NO_EMERGENCY, "8", "", "", "", "", "", "", "250", *[""] * 80]  # age 250
    result = invoke("check", *ES, *AS_OF, stdin="\n".join(walk) + "\n")
    assert result.exit_code == ExitCode.INVALID_INPUT, result.output
    assert "Algunas respuestas no son posibles; revíselas:" in result.stderr
    assert "¿Cuántos años tiene?: debe estar entre 0 y 120" in result.stderr
    assert_spanish(result.stderr)


@pytest.mark.parametrize("lang", ["fr", "EN", ""])
def test_an_unknown_language_names_the_allowed_ones(lang: str) -> None:
    for command in (["check"], ["assess", "--for", "patient", "examples/x.json"]):
        result = invoke(*command, "--lang", lang)
        assert result.exit_code == ExitCode.INVALID_INPUT
        assert "use one of: en, es" in result.output


def test_the_clinician_wording_stays_english() -> None:
    result = invoke("check", "--mode", "clinician", *ES)
    assert result.exit_code == ExitCode.INVALID_INPUT
    assert "English only" in result.output


def test_assess_for_the_patient_in_spanish_on_the_terminal() -> None:
    path = ROOT / "examples/referral-smoker-mechanical-pain.json"
    result = invoke("assess", *AS_OF, *ES, "--for", "patient", str(path))
    assert result.exit_code == 0, result.output
    assert_spanish(result.stdout)
    assert "VEA PRONTO A UN ESPECIALISTA DE COLUMNA" in result.stdout
    assert "23 de noviembre de 2026" in result.stdout
    assert "For the clinician: Prompt referral" in result.stdout


def test_assess_writes_a_spanish_markdown_summary(tmp_path: Path) -> None:
    out = tmp_path / "yo.md"
    path = ROOT / "examples/referral-smoker-mechanical-pain.json"
    args = ["--format", "markdown", "--for", "patient", "--out", str(out), str(path)]
    result = invoke("assess", *AS_OF, *ES, *args)
    assert result.exit_code == 0, result.output
    assert "Se guardó el archivo" in result.stderr
    text = out.read_text(encoding="utf-8")
    assert text.startswith("# Resumen")
    assert "## Vea pronto a un especialista de columna" in text
    assert "## Mis respuestas en breve" in text
    assert "| 15 de enero de 2026 |" in text  # the surgery date in Spanish, never a code
    assert "> For the clinician: Prompt referral" in text
    # Paper titles stay as published (English); the scan reads the rest.
    body = text.split("## De dónde sale esto")[0]
    assert_spanish(body.replace("\\", ""))


def test_assess_writes_a_spanish_patient_pdf(tmp_path: Path) -> None:
    out = tmp_path / "yo.pdf"
    path = ROOT / "examples/emergency-saddle-numbness.json"
    args = ["--format", "pdf", "--for", "patient", "--out", str(out), str(path)]
    result = invoke("assess", *AS_OF, *ES, *args)
    assert result.exit_code == 0, result.output
    reader = PdfReader(io.BytesIO(out.read_bytes()))
    first = reader.pages[0].extract_text()
    assert "Busque atención de urgencia ahora" in first
    assert "23 de noviembre de 2026" in first
    assert "For the clinician: Emergency" in first


EXAMPLES = [
    *sorted(
        p.relative_to(ROOT).as_posix()
        for p in [*ROOT.glob("examples/*.json"), *ROOT.glob("examples/*.yaml")]
    ),
    "examples/follow-up/case-with-scores.yaml",
]


@pytest.mark.parametrize("example", EXAMPLES)
def test_every_example_reads_in_spanish_for_the_patient(tmp_path: Path, example: str) -> None:
    """Scores, check points, imaging, goals and answers from files: no English on the patient's
    Spanish summary (the clinician line and the paper titles aside)."""
    out = tmp_path / "yo.md"
    args = ["--format", "markdown", "--for", "patient", "--out", str(out), example]
    result = invoke("assess", *AS_OF, *ES, *args)
    assert result.exit_code == 0, result.output
    body = out.read_text(encoding="utf-8").split("## De dónde sale esto")[0]
    assert_spanish(FOR_CLINICIAN.sub(" ", body.replace("\\", "")))
    assert re.findall(r"(?<![\d.])\d+\.\d+(?![\d.])", body.replace("2026.12.1", "")) == []
