"""The report view: catalogue labels, the answer first, no raw codes, a stop at emergencies."""

import datetime as dt
import re
from pathlib import Path

import pytest
import yaml

from fusionwatch.core.engine import assess
from fusionwatch.core.errors import KnowledgeError
from fusionwatch.files.case import parse_data, read_case
from fusionwatch.knowledge import load, load_labels
from fusionwatch.knowledge.loader import ROOT as KNOWLEDGE
from fusionwatch.knowledge.loader import read_labels
from fusionwatch.report import markdown
from fusionwatch.report.view import Report, for_case

HERE = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((HERE / "examples").glob("*.*[ln]"))
VIGNETTES = sorted((HERE / "tests/cases").glob("*.yaml"))
AS_OF = dt.date(2026, 11, 30)
# What must never reach a reader: enum values and ids (snake_case words), the validation
# library's wording, and the old raw labels the issue found.
RAW = re.compile(
    r"\b[a-z]+_[a-z0-9_]+\b|Input should be|Follow_Up|phase: |Target: ncd|= yes\b|= no\b(?! change)"
)


def report_of(path: Path, audience: str) -> Report:
    """An example case file or a vignette (case plus as_of), assessed and laid out."""
    if path.parent.name == "cases":
        vignette = yaml.safe_load(path.read_text(encoding="utf-8"))
        day = dt.date.fromisoformat(str(vignette["as_of"]))
        case = parse_data(vignette["case"], day)
    else:
        day = AS_OF
        case = read_case(path, day)
    result = assess(case, load(), day)
    return for_case(result, case, load_labels(), audience)  # type: ignore[arg-type]


def cases() -> list[Path]:
    return EXAMPLES + VIGNETTES


def words_of(report: Report) -> list[str]:
    """Every string a reader sees, except our own Markdown texts and the rule-trace table."""
    a = report.answer
    found = [report.title, a.title, a.when, a.headline, *a.unanswered]
    found += [t for r in a.reasons for t in (r.text, r.detail, r.title)]
    for s in (*report.summary, *report.detail):
        if s.key == "trace":
            continue
        found += [s.heading, *s.lead, s.folded_heading]
        if not s.markdown:
            found += [t for i in (*s.items, *s.folded) for t in (i.text, i.detail, i.title)]
        if s.grid is not None:
            found += [*s.grid.columns, *(cell for row in s.grid.rows for cell in row)]
    return found


@pytest.mark.parametrize("audience", ["patient", "clinician"])
@pytest.mark.parametrize("path", cases(), ids=lambda p: p.stem)
def test_no_raw_code_reaches_a_reader(path: Path, audience: str) -> None:
    report = report_of(path, audience)
    text = "\n".join(words_of(report))
    found = sorted({m.group(0) for m in RAW.finditer(text)})
    assert not found, f"{path.name} ({audience}): raw codes {found}"
    if audience == "patient":
        assert "FW-" not in markdown.render(report)


def test_every_disposition_and_band_has_words_and_a_time_frame() -> None:
    labels = load_labels()
    for level in ("emergency", "urgent", "prompt_referral", "routine"):
        d = labels.disposition(level)
        assert all((d.patient, d.clinician, d.when_patient, d.when_clinician)), level
    assert labels.band("cannot_tell", "patient") == "Cannot tell yet"
    assert labels.disposition("urgent").when_patient.startswith("Today")


def test_a_catalogue_missing_a_label_is_refused(tmp_path: Path) -> None:
    data = yaml.safe_load((KNOWLEDGE / "labels.yaml").read_text(encoding="utf-8"))
    del data["en"]["dispositions"]["urgent"]
    del data["en"]["choices"]["risk.activity"]["very_inactive"]
    (tmp_path / "labels.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(KnowledgeError) as caught:
        read_labels(tmp_path, load())
    message = str(caught.value)
    assert "dispositions: no label for 'urgent'" in message
    assert "risk.activity: no label for 'very_inactive'" in message


def test_a_second_language_is_data(tmp_path: Path) -> None:
    data = yaml.safe_load((KNOWLEDGE / "labels.yaml").read_text(encoding="utf-8"))
    data["es"] = data["en"] | {
        "headings": {**data["en"]["headings"], "when": {"patient": "Cuándo", "clinician": "Plazo"}}
    }
    (tmp_path / "labels.yaml").write_text(
        yaml.safe_dump(data, allow_unicode=True), encoding="utf-8"
    )
    spanish = read_labels(tmp_path, load(), "es")
    assert spanish.heading("when", "patient") == "Cuándo"
    with pytest.raises(KnowledgeError):
        read_labels(tmp_path, load(), "fr")


IMAGING = HERE / "examples/imaging-ct-and-motion-films.yaml"
EMERGENCY = HERE / "examples/emergency-saddle-numbness.json"


def test_the_patient_open_questions_are_their_own_and_skip_follow_ups_to_no() -> None:
    report = report_of(IMAGING, "patient")
    ask = next(s for s in report.summary if s.key == "ask_doctor")
    open_questions = " ".join(i.text for i in ask.folded)
    assert open_questions  # the case leaves some of the person's own questions open
    # Exam and imaging items are for the clinician; the clicking follow-up was answered "no".
    for clinician_item in ("Strength", "Reflexes", "Infection signs on imaging", "Gait"):
        assert clinician_item not in open_questions
    assert "clicking" not in open_questions.lower()
    clinician = report_of(IMAGING, "clinician")
    # The note lists the most important few (11a's emergency inputs come first); the full list
    # in the detail still names the exam items the clinician can fill in.
    note_questions = next(s for s in clinician.summary if s.key == "open_questions")
    assert note_questions.items
    all_questions = next(s for s in clinician.detail if s.key == "open_questions")
    assert any(i.text.startswith("Strength") for i in all_questions.items)


def test_lower_bands_fold_under_the_one_that_decided() -> None:
    report = report_of(IMAGING, "clinician")
    why = next(s for s in report.summary if s.key == "suspicion")
    assert why.heading == "Nonunion suspicion: High"
    assert 1 <= len(why.items) <= 2
    assert len(why.folded) == 5
    assert why.folded_heading
    assert all("highly suspect" in i.text or "high" in i.text for i in why.items)


def test_the_clinical_note_has_the_soap_parts_and_numbers_each_source_once() -> None:
    report = report_of(IMAGING, "clinician")
    keys = [s.key for s in report.summary]
    assert keys == [
        "patient",
        "surgery",
        "findings",
        "imaging",
        "suspicion",
        "plan",
        "open_questions",
    ]
    imaging = next(s for s in report.summary if s.key == "imaging")
    assert imaging.grid is not None
    assert [r[0] for r in imaging.grid.rows] == ["L4-L5", "L5-S1"]
    assert imaging.grid.rows[0][1] == "nonunion"
    titles = [s.split(". ", 1)[1] for s in report.sources]
    assert len(titles) == len(set(titles))
    numbers = [int(s.split(".", 1)[0]) for s in report.sources]
    assert numbers == list(range(1, len(numbers) + 1))
    cited = {
        n
        for sec in (*report.summary, *report.detail)
        for i in (*sec.items, *sec.folded)
        for n in i.sources
    }
    assert cited == set(numbers)


@pytest.mark.parametrize("audience", ["patient", "clinician"])
def test_after_an_emergency_the_report_stops(audience: str) -> None:
    report = report_of(EMERGENCY, audience)
    assert report.stopped_at_emergency
    assert report.answer.level == "emergency"
    assert report.detail == ()
    keys = {s.key for s in report.summary}
    assert "emergency_stop" in keys
    assert keys <= {"patient", "surgery", "findings", "emergency_stop"}
    stop = next(s for s in report.summary if s.key == "emergency_stop")
    text = markdown.render(report).replace(stop.lead[0], "").lower()
    for later in ("stimulator", "suspicion", "revision", "my answers"):
        assert later not in text, later
    assert report.answer.unanswered == ()  # nothing more is asked: the person goes now


def test_the_answer_comes_first_with_a_time_frame_and_reasons() -> None:
    report = report_of(IMAGING, "patient")
    assert report.answer.title == "See a spine specialist soon"
    assert report.answer.when.startswith("Within the coming days or weeks")
    assert 1 <= len(report.answer.reasons) <= 3
    assert all(not r.title for r in report.answer.reasons)  # the person's words, no rule summary
    assert [s.key for s in report.summary] == ["suspicion", "my_answers", "ask_doctor"]


@pytest.mark.parametrize("audience", ["patient", "clinician"])
def test_unanswered_emergency_questions_are_asked_once_and_first(audience: str) -> None:
    report = report_of(HERE / "examples/pending-emergency-unanswered.json", audience)
    assert report.answer.level != "routine"
    assert len(report.answer.unanswered) == 8
    later = [i.text for s in (*report.summary, *report.detail) for i in (*s.items, *s.folded)]
    for question in report.answer.unanswered:
        assert not any(text.startswith(question) for text in later), question


# ---- what issues 11a and 12 added, shown by the one view (after the issue-13 merge) ------------


def test_not_sure_answers_are_named_apart_in_the_answer_box() -> None:
    """An emergency question answered "not sure": urgent, and the question named as not sure."""
    for audience in ("patient", "clinician"):
        report = report_of(HERE / "tests/cases/v74-not-sure-bladder.yaml", audience)
        assert report.answer.level == "urgent"
        assert report.answer.when  # a time frame from the labels
        assert report.answer.not_sure, audience
        assert report.answer.not_sure_heading
        assert not set(report.answer.not_sure) & set(report.answer.unanswered)


def test_the_stimulator_section_says_when_candidacy_is_not_in_question() -> None:
    """Policy candidacy only with a warning sign or risk factor; else the "not for asymptomatic
    nonunion" note, and the site settings the result used, in words."""
    report = report_of(HERE / "tests/cases/v63-asymptomatic-nonunion-ct.yaml", "clinician")
    stimulator = next(s for s in report.detail if s.key == "stimulator")
    lead = " ".join(stimulator.lead)
    assert "asymptomatic" in lead.lower()
    assert stimulator.grid is None  # no criterion table when candidacy is not in question
    assert "Site settings used:" in lead
    assert "Medicare NCD 150.2" in lead
    assert "ncd_150_2" not in lead


def test_a_sign_the_answer_already_gives_is_not_repeated_in_the_key_findings() -> None:
    """'Improved early, then worse: yes' was followed by '... (answer or scores): yes'."""
    data = {
        "surgery": {"months_since": 14, "region": "lumbar", "levels": ["L4-L5"]},
        "signs": {
            "mechanical_pain": "yes",
            "improved_then_worse": "yes",
            "functional_impact": "yes",
        },
    }
    case = parse_data(data, AS_OF)
    result = assess(case, load(), AS_OF)
    assert "derived.sign_relapse" in {f.fact for c in result.triage.reasons for f in c.because}
    report = for_case(result, case, load_labels("en"), "clinician")
    [findings] = [s for s in report.summary if s.key == "findings"]
    assert findings.lead[0].count("Improved early, then worse") == 1


def test_infection_tests_and_other_problems_are_key_findings() -> None:
    """A raised CRP and ESR, a measured temperature with its unit, and a recent fall are named on
    page 1 (the key findings named none of them)."""
    data = {
        "surgery": {"months_since": 14, "region": "lumbar", "levels": ["L4-L5"]},
        "infection": {
            "crp_mg_l": 28,
            "esr_mm_h": 62,
            "temperature": 101.3,
            "temperature_unit": "F",
        },
        "recovery": {"recent_fall": "yes"},
    }
    case = parse_data(data, AS_OF)
    report = for_case(assess(case, load(), AS_OF), case, load_labels("en"), "clinician")
    [findings] = [s for s in report.summary if s.key == "findings"]
    text = findings.lead[0]
    assert "CRP (mg/L): 28 mg/L" in text
    assert "ESR (mm/h): 62 mm/h" in text
    assert "Temperature: 101.3 °F" in text
    assert "Temperature unit" not in text  # read with its number, not on a line of its own
    assert "Fall in the last few days: yes" in text


def test_a_clinicians_not_sure_is_not_shown_as_the_patients_answer() -> None:
    data = {"surgery": {"months_since": 2, "region": "lumbar", "levels": ["L4-L5"]}}
    data["exam"] = {"cauda_equina": "not_sure"}
    data["emergency"] = {"saddle_numbness": "not_sure"}
    case = parse_data(data, AS_OF)
    result = assess(case, load(), AS_OF)
    assert {m.fact for m in result.triage.not_sure} == {
        "exam.cauda_equina",
        "emergency.saddle_numbness",
    }
    patient = for_case(result, case, load_labels("en"), "patient").answer.not_sure
    clinician = for_case(result, case, load_labels("en"), "clinician").answer.not_sure
    assert len(clinician) == 2
    assert len(patient) == 1
    assert "cauda equina" not in patient[0].lower()


def test_early_recovery_says_what_is_expected_first() -> None:
    """Three weeks after surgery, with nothing pointing to a nonunion, the patient reads first
    that some pain is expected this early (the article's sixth sign), then what is open."""
    data = {
        "surgery": {"months_since": 0.7, "region": "lumbar", "levels": ["L4-L5"]},
        "signs": {"focal_pain": "yes"},
        "pain": {"axial": 4},
    }
    case = parse_data(data, AS_OF)
    result = assess(case, load(), AS_OF)
    assert (result.suspicion.phase, result.suspicion.level) == ("early_recovery", "low")
    [why] = [
        s
        for s in for_case(result, case, load_labels("en"), "patient").summary
        if s.key == "suspicion"
    ]
    assert why.lead[0].startswith("In the first weeks after a fusion, some pain")
    spanish = for_case(result, case, load_labels("es"), "patient").summary
    [porque] = [s for s in spanish if s.key == "suspicion"]
    assert porque.lead[0].startswith("En las primeras semanas")
    clinician = for_case(result, case, load_labels("en"), "clinician").summary
    assert not any("In the first weeks" in line for s in clinician for line in s.lead)
    # Later, or when the band is raised, the sentence is not said.
    later = parse_data({**data, "surgery": {**data["surgery"], "months_since": 7}}, AS_OF)
    summary = for_case(assess(later, load(), AS_OF), later, load_labels("en"), "patient").summary
    assert not any("In the first weeks" in line for s in summary for line in s.lead)


def test_a_count_of_one_reads_in_the_singular() -> None:
    """'Core signs present: 1 signs' and '1 points (0-10)' read wrongly; other units keep theirs."""
    english, spanish = load_labels("en"), load_labels("es")
    assert english.value("derived.core_signs", 1, "clinician") == "1 sign"
    assert english.value("derived.core_signs", 2, "clinician") == "2 signs"
    assert english.value("pain.axial", 1, "patient") == "1 point (0-10)"
    assert english.value("derived.warning_signs", 1, "clinician") == "1 sign (of 9)"
    assert english.value("infection.crp_mg_l", 1, "clinician") == "1 mg/L"
    assert spanish.value("surgery.months_since", 1, "patient") == "1 mes"
    assert spanish.value("surgery.months_since", 1.5, "patient") == "1,5 meses"


def test_the_clinicians_appendix_opens_with_the_band_not_its_folded_reasons() -> None:
    """Page 2 of the clinician PDF began 'Also supported (lower or equal band)' before the
    'Nonunion suspicion' heading that lists every reason; a patient's appendix keeps them."""
    from fusionwatch.report.html import document

    path = HERE / "tests/cases/v62-concordant-nonunion-14-months.yaml"
    clinician = document(report_of(path, "clinician"))
    appendix = clinician[clinician.index('class="appendix"') :]
    assert "Also supported (lower or equal band)" not in appendix
    assert "Nonunion suspicion: High" in appendix
    patient = document(report_of(path, "patient"))
    assert "Other signs pointing the same way" in patient[patient.index('class="appendix"') :]


def test_a_long_label_does_not_cut_the_knowledge_version_off_the_terminal_panel() -> None:
    from rich.console import Console

    from fusionwatch.report import terminal

    data = {
        "label": "ACDF C5-C6 9 months; neck pain, lucent line around the cage",
        "pain": {"axial": 2},
    }
    case = parse_data(data, AS_OF)
    report = for_case(assess(case, load(), AS_OF), case, load_labels("en"), "clinician")
    console = Console(width=80, record=True, color_system=None)
    console.print(terminal.answer(report))
    flat = re.sub(r"[\s│╭╮╰╯─]+", " ", console.export_text())
    assert f"Knowledge version: {load().version}" in flat


def test_the_level_table_names_a_cage_lucency_on_films() -> None:
    """The level read 'static radiographs, 9 months' with the lucency only in the appendix."""
    report = report_of(HERE / "tests/cases/v98-acdf-cage-lucency-on-plain-films.yaml", "clinician")
    [imaging] = [s for s in report.summary if s.key == "imaging"]
    assert imaging.grid is not None
    [row] = [r for r in imaging.grid.rows if r[0] == "C5-C6"]
    assert row[1] == "indeterminate"
    assert row[2].endswith("(lucency around the cage)")


def test_under_a_cap_the_band_reason_comes_first_and_the_lowered_rule_is_named() -> None:
    """'Moderate' was followed first by 'nonunion is highly suspect' (the high rule the solid CT
    lowered); the cap now leads and the high rule reads as what the signs alone would say."""
    path = HERE / "tests/cases/v36-cap-solid-fusion-lowers-high.yaml"
    for audience, limited, before in (
        ("clinician", "Limited by: ", "Before the cap: "),
        ("patient", "Why not higher: ", "What the signs alone would say: "),
    ):
        [why] = [s for s in report_of(path, audience).summary if s.key == "suspicion"]
        assert why.heading.endswith("Moderate")
        assert why.items[0].text.startswith(limited)
        assert why.items[1].text.startswith(before)


def test_a_spanish_question_keeps_its_closing_mark_in_based_on_your_answers() -> None:
    """'Según sus respuestas: ¿Cuántos años tiene: 15 años' opened a question it never closed."""
    data = {
        "surgery": {"months_since": 7},
        "person": {"age": 64},
        "signs": {"mechanical_pain": "yes"},
    }
    case = parse_data(data, AS_OF)
    result = assess(case, load(), AS_OF)
    report = for_case(result, case, load_labels("es"), "patient")
    details = [i.detail for s in (*report.summary, *report.detail) for i in s.items if i.detail]
    asked = [d for d in details if "¿" in d]
    assert asked
    for detail in asked:
        for part in detail.split("; "):
            if "¿" in part:
                assert "?" in part[part.index("¿") :], part
