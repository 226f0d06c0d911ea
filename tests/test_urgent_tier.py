"""Issue 11: four dispositions, 'not sure' vs 'not asked', clinician-found emergencies, infection.

Each new finding alone reaches its tier in the engine and on the command line; old stored
assessments (written before the urgent tier) still read back.
"""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fusionwatch.cli.main import app
from fusionwatch.core.compiled import Knowledge
from fusionwatch.core.engine import assess
from fusionwatch.core.serialize import from_data, to_data
from fusionwatch.core.site import Site
from fusionwatch.files.case import parse_data
from fusionwatch.knowledge.loader import load_in
from fusionwatch.settings import Settings
from tests.conftest import AS_OF, SCREEN_CLEAR
from tests.findings import FINDINGS, Finding

IDS = [f.name for f in FINDINGS]


@pytest.mark.parametrize("finding", FINDINGS, ids=IDS)
def test_each_finding_alone_reaches_its_tier(kb: Knowledge, finding: Finding) -> None:
    result = assess(parse_data(finding.case, AS_OF), kb, AS_OF)
    assert result.triage.level == finding.tier
    assert finding.rule in {c.rule for c in result.triage.reasons}


@pytest.mark.parametrize("finding", FINDINGS, ids=IDS)
def test_each_finding_alone_reaches_its_tier_on_the_command_line(
    tmp_path: Path, finding: Finding
) -> None:
    path = tmp_path / "case.json"
    path.write_text(json.dumps(finding.case), encoding="utf-8")
    result = CliRunner().invoke(app, ["assess", "--json", "--as-of", "2026-11-23", str(path)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["triage"]["level"] == finding.tier
    assert finding.rule in {c["rule"] for c in data["triage"]["reasons"]}


def test_not_sure_is_kept_apart_from_not_asked(kb: Knowledge) -> None:
    no = {q: a for q, a in SCREEN_CLEAR.items() if q != "bladder_bowel_loss"}
    unsure = assess(
        parse_data({"emergency": no | {"bladder_bowel_loss": "not_sure"}}, AS_OF), kb, AS_OF
    )
    unasked = assess(parse_data({"emergency": no}, AS_OF), kb, AS_OF)
    assert unsure.triage.level == "urgent"
    assert [m.fact for m in unsure.triage.not_sure] == ["emergency.bladder_bowel_loss"]
    assert not unsure.triage.unanswered_emergency
    assert unasked.triage.level == "prompt_referral"
    assert unasked.triage.headline.startswith("Answer these first")
    assert [m.fact for m in unasked.triage.unanswered_emergency] == ["emergency.bladder_bowel_loss"]
    assert not unasked.triage.not_sure


def test_emergency_not_sure_answers_are_listed_first(kb: Knowledge) -> None:
    """A person unsure of everything reads the emergency questions first, not the ninth sign."""
    data = {
        "surgery": {"instrumented": "not_sure"},
        "signs": {"mechanical_pain": "not_sure", "functional_impact": "not_sure"},
        "infection": {"wound_drainage": "not_sure", "fever": "not_sure"},
        "emergency": {"saddle_numbness": "not_sure"},
        "exam": {"cauda_equina": "not_sure"},
        "recovery": {"recent_fall": "not_sure"},
    }
    order = [m.fact for m in assess(parse_data(data, AS_OF), kb, AS_OF).triage.not_sure]
    first = set(kb.emergency_unsure)
    assert (
        set(order[:3])
        == {
            "emergency.saddle_numbness",
            "exam.cauda_equina",
            "infection.wound_drainage",
        }
        <= first
    )
    # Then the questions of the urgent rules (a call within 24 hours), by importance: fever (92)
    # before a fall (88), both before the signs whatever their importance.
    assert order[3:5] == ["infection.fever", "recovery.recent_fall"]
    assert set(order[5:]) == {
        "surgery.instrumented",
        "signs.mechanical_pain",
        "signs.functional_impact",
    }


def test_temperature_needs_its_unit() -> None:
    with pytest.raises(Exception, match="temperature_unit"):
        parse_data({"infection": {"temperature": 38.5}}, AS_OF)
    with pytest.raises(Exception, match="86-113"):
        parse_data({"infection": {"temperature": 38.5, "temperature_unit": "F"}}, AS_OF)


def test_fever_below_the_threshold_is_not_urgent(kb: Knowledge) -> None:
    case = parse_data({"infection": {"temperature": 99.0, "temperature_unit": "F"}}, AS_OF)
    result = assess(case, kb, AS_OF)
    assert "FW-URG-002" not in {c.rule for c in result.triage.reasons}
    assert result.derived["derived.temperature_c"] == pytest.approx(37.22, abs=0.01)


def test_six_signs_without_a_surgery_date_cannot_tell_and_say_so(kb: Knowledge) -> None:
    """The issue's own example: strong signs and no date must not read as low / reassuring."""
    no = SCREEN_CLEAR
    signs = dict.fromkeys(
        [
            "mechanical_pain",
            "improved_then_worse",
            "instability",
            "focal_pain",
            "clicking",
            "functional_impact",
        ],
        "yes",
    )
    result = assess(parse_data({"emergency": no, "signs": signs}, AS_OF), kb, AS_OF)
    assert result.suspicion.level == "cannot_tell"
    assert "When was your fusion surgery" in result.suspicion.patient_explanation
    assert result.triage.level == "routine"
    assert "depends on questions that are still open" in result.triage.headline
    assert "Nothing here needs urgent action" not in result.triage.headline
    assert "derived.months_since_surgery" in {m.fact for m in result.triage.depends_on}


def test_all_signs_unknown_cannot_tell(kb: Knowledge) -> None:
    result = assess(parse_data({"surgery": {"months_since": 9}}, AS_OF), kb, AS_OF)
    assert result.suspicion.level == "cannot_tell"


def test_a_stored_assessment_from_before_the_urgent_tier_still_reads_back(kb: Knowledge) -> None:
    """Stored results are immutable JSON; one written by knowledge 2026.11.5 lacks the new keys."""
    result = assess(parse_data({"surgery": {"months_since": 8}}, AS_OF), kb, AS_OF)
    old = to_data(result)
    del old["triage"]["not_sure"], old["triage"]["depends_on"]
    old["provenance"]["knowledge_version"] = "2026.11.5"
    back = from_data(old)
    assert back.triage.not_sure == ()
    assert back.triage.depends_on == ()
    assert back.triage.level == result.triage.level


def test_a_risk_factor_that_would_make_a_low_band_cannot_tell_is_named(kb: Knowledge) -> None:
    """Found by the 10,000-case property: with no surgery date, a warning sign and every risk
    factor unanswered, the band reads "low" because a count leaves unanswered risk factors out;
    one risk factor answered yes leaves a suspicion rule unknown, which makes the band "cannot
    tell". Those risk-factor questions are open inputs the low band depends on."""
    no = dict.fromkeys(
        [
            "mechanical_pain",
            "improved_then_worse",
            "instability",
            "focal_pain",
            "clicking_with_worsening_pain",
            "no_expected_recovery",
            "hardware_failure",
            "functional_impact",
        ],
        "no",
    )
    signs = no | {"clicking": "yes"}
    imaging = {"hardware_failure": "no", "fusion_status": "not_done"}
    data = {"emergency": SCREEN_CLEAR, "signs": signs, "imaging": imaging}
    result = assess(parse_data(data, AS_OF), kb, AS_OF)
    assert result.suspicion.level == "low"
    smoker = assess(parse_data(data | {"risk": {"nicotine": "current"}}, AS_OF), kb, AS_OF)
    assert smoker.suspicion.level == "cannot_tell"
    named = {m.fact for m in result.triage.depends_on}
    assert {"risk.nicotine", "surgery.levels"} <= named
    assert "depends on questions that are still open" in result.suspicion.patient_explanation


def _not_sure_texts(kb: Knowledge, site: Site) -> str:
    no = {q: a for q, a in SCREEN_CLEAR.items() if q != "bladder_bowel_loss"}
    case = parse_data({"emergency": no | {"bladder_bowel_loss": "not_sure"}}, AS_OF)
    result = assess(case, kb, AS_OF, site)
    assert result.triage.level == "urgent"
    [reason] = [c for c in result.triage.reasons if c.rule == "FW-URG-001"]
    return f"{result.triage.headline}\n{reason.patient}"


def test_the_urgent_advice_line_is_the_sites_or_a_neutral_wording(kb: Knowledge) -> None:
    """No patient text names a country's line: a site names its own (FUSIONWATCH_URGENT_LINE),
    otherwise the texts say 'your local urgent advice line', in the reader's language."""
    plain = _not_sure_texts(kb, Site())
    assert plain.count("your local urgent advice line") == 2
    assert "call your doctor's out-of-hours service or your local urgent advice line." in plain
    assert "NHS" not in plain
    assert "{" not in plain
    named = _not_sure_texts(kb, Site(urgent_line="NHS 111"))
    assert "or call NHS 111 if you cannot reach them" in named
    assert "out-of-hours service or NHS 111." in named
    spanish = _not_sure_texts(load_in("es"), Site())
    assert spanish.count("a la línea de consejo médico urgente de su zona") == 2
    assert "NHS" not in spanish
    assert "{" not in spanish
    assert "o a Salud Responde si no puede" in _not_sure_texts(
        load_in("es"), Site(urgent_line="Salud Responde")
    )


def test_the_urgent_line_is_a_named_site_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FUSIONWATCH_URGENT_LINE", " ")
    assert Settings().site().urgent_line is None  # blank: the neutral wording
    monkeypatch.setenv("FUSIONWATCH_URGENT_LINE", "NHS 111")
    assert Settings().site().urgent_line == "NHS 111"
    result = CliRunner().invoke(app, ["settings"], env={"COLUMNS": "200"})
    assert "FUSIONWATCH_URGENT_LINE" in result.stdout
    assert "NHS 111" in result.stdout
