"""Bone-stimulator candidacy under each policy file, at the policies' own boundaries.

The policies are data (knowledge/policies/*.yaml); these tests run them through the engine on
whole cases, at each criterion's edge, and show that a new policy file needs no Python change.
"""

import shutil
from pathlib import Path
from typing import Any

import pytest

from fusionwatch.core.compiled import Knowledge
from fusionwatch.core.engine import assess
from fusionwatch.core.errors import CaseError, KnowledgeError
from fusionwatch.core.results import Assessment, Candidacy
from fusionwatch.core.site import Site
from fusionwatch.files.case import parse_data
from fusionwatch.knowledge.loader import ROOT, compile_files
from tests.conftest import AS_OF

NCD, BCBSA, AANS, MP524 = "ncd_150_2", "bcbsa_7_01_85", "aans_cns_2014", "mp_524"
SYMPTOM = {"mechanical_pain": "yes"}


def run(kb: Knowledge, policy: str, **sections: Any) -> Assessment:
    sections.setdefault("signs", SYMPTOM)
    return assess(parse_data(sections, AS_OF), kb, AS_OF, Site(stimulator_policy=policy))


def candidacy(kb: Knowledge, policy: str, **sections: Any) -> Candidacy:
    result = run(kb, policy, **sections).stimulator
    assert result is not None
    assert result.policy == policy
    return result


def surgery(months: float, levels: list[str], **extra: Any) -> dict[str, Any]:
    return {"months_since": months, "levels": levels, "region": "lumbar", **extra}


def ct(months: float, grade: str) -> dict[str, Any]:
    return {
        "modality": "ct",
        "months_since": months,
        "levels": [{"level": "L4-L5", "bridwell": grade}],
    }


@pytest.mark.parametrize(("months", "expected"), [(8.9, False), (9.0, True)])
def test_ncd_failed_fusion_needs_nine_months(kb: Knowledge, months: float, expected: bool) -> None:
    found = candidacy(
        kb,
        NCD,
        surgery=surgery(months, ["L5-S1"], prior_failed_fusion_same_site="no", fusion_planned="no"),
        imaging={"fusion_status": "not_yet_fused"},
    )
    assert found.candidate is expected
    nine = [c for c in found.criteria if "nine months have passed" in c.text]
    assert nine[0].outcome == ("met" if expected else "unmet")
    assert nine[0].reads == ("derived.months_since_surgery",)
    assert nine[0].sources[0].cite == "ncd150_2"


def test_a_seven_month_unhealed_multilevel_fusion_is_not_an_ncd_candidate(kb: Knowledge) -> None:
    """The old invented '< 6 months or not solid' adjunct window made this a candidate."""
    found = candidacy(
        kb,
        NCD,
        surgery=surgery(7, ["L4-S1"], prior_failed_fusion_same_site="no", fusion_planned="no"),
        imaging={"fusion_status": "not_yet_fused"},
    )
    assert found.candidate is False


@pytest.mark.parametrize(("levels", "expected"), [(["L5-S1"], False), (["L4-S1"], True)])
def test_ncd_adjunct_multilevel_means_three_vertebrae(
    kb: Knowledge, levels: list[str], expected: bool
) -> None:
    found = candidacy(
        kb,
        NCD,
        surgery=surgery(14, levels, prior_failed_fusion_same_site="no", fusion_planned="yes"),
        imaging={"fusion_status": "nonunion"},
        person={"age": 50},
    )
    # Nonunion at 14 months also meets the failed-fusion pathway; look at the adjunct alone.
    adjunct = [c for c in found.criteria if c.text.startswith("Adjunct") and "High risk" in c.text]
    assert adjunct[0].outcome == ("met" if expected else "unmet")


def test_ncd_ignores_smoking_and_diabetes(kb: Knowledge) -> None:
    found = candidacy(
        kb,
        NCD,
        surgery=surgery(2, ["L4-L5"], prior_failed_fusion_same_site="no", fusion_planned="yes"),
        risk={"nicotine": "current", "diabetes": "yes"},
        imaging={"fusion_status": "not_yet_fused"},
    )
    assert found.candidate is False


@pytest.mark.parametrize(
    ("risk", "extra", "expected"),
    [
        ({"renal_disease": "yes"}, {}, True),
        ({"alcoholism": "yes"}, {}, True),
        ({}, {"spondylolisthesis_grade": 3}, True),
        ({}, {"spondylolisthesis_grade": 2}, False),
    ],
)
def test_bcbsa_adjunct_criteria_the_old_model_missed(
    kb: Knowledge, risk: dict[str, str], extra: dict[str, Any], expected: bool
) -> None:
    none = {
        "nicotine": "never",
        "diabetes": "no",
        "renal_disease": "no",
        "alcoholism": "no",
        "long_term_steroids": "no",
    }
    found = candidacy(
        kb,
        BCBSA,
        surgery=surgery(
            3,
            ["L4-L5"],
            prior_failed_fusion_same_site="no",
            fusion_planned="yes",
            spondylolisthesis_grade=extra.get("spondylolisthesis_grade", 0),
        ),
        risk={**none, **risk},
    )
    assert found.candidate is expected


def test_bcbsa_cervical_is_investigational(kb: Knowledge) -> None:
    cervical = {
        "months_since": 1,
        "levels": ["C5-C6"],
        "region": "cervical",
        "fusion_planned": "yes",
    }
    found = candidacy(kb, BCBSA, surgery=cervical, risk={"nicotine": "current"}, person={"age": 40})
    assert found.candidate is False


@pytest.mark.parametrize(("second", "expected"), [(8.9, False), (9, True)])
def test_bcbsa_failed_fusion_needs_three_months_of_serial_films(
    kb: Knowledge, second: float, expected: bool
) -> None:
    found = candidacy(
        kb,
        BCBSA,
        surgery=surgery(10, ["L4-L5"], prior_failed_fusion_same_site="no", fusion_planned="no"),
        risk={"nicotine": "never", "diabetes": "no", "long_term_steroids": "no"},
        imaging={"studies": [ct(6, "III"), ct(second, "III")]},
    )
    assert found.candidate is expected


@pytest.mark.parametrize(("months", "expected"), [(5.9, False), (6.0, True)])
def test_bcbsa_failed_fusion_needs_six_months(kb: Knowledge, months: float, expected: bool) -> None:
    found = candidacy(
        kb,
        BCBSA,
        surgery=surgery(months, ["L4-L5"], fusion_planned="no"),
        imaging={"studies": [ct(0.5, "III"), ct(months, "III")]},
    )
    # 5.9 - 0.5 = 5.4 months of serial films: only the six-month edge decides.
    assert found.candidate is expected


@pytest.mark.parametrize(("age", "expected"), [(59, True), (60, False)])
def test_aans_direct_current_under_sixty(kb: Knowledge, age: int, expected: bool) -> None:
    found = candidacy(
        kb, AANS, surgery=surgery(14, ["L4-L5"], fusion_planned="yes"), person={"age": age}
    )
    assert found.candidate is expected


def test_mp524_narrows_renal_disease_to_end_stage(kb: Knowledge) -> None:
    base = {
        "surgery": surgery(
            3,
            ["L4-L5"],
            fusion_planned="yes",
            prior_failed_fusion_same_site="no",
            spondylolisthesis_grade=0,
        )
    }
    quiet = {
        "nicotine": "never",
        "diabetes": "no",
        "alcoholism": "no",
        "long_term_steroids": "no",
        "dxa_t_score": -1.5,
    }
    renal = candidacy(
        kb, MP524, risk={**quiet, "renal_disease": "yes", "end_stage_renal_disease": "no"}, **base
    )
    failing = candidacy(
        kb, MP524, risk={**quiet, "renal_disease": "yes", "end_stage_renal_disease": "yes"}, **base
    )
    bcbsa = candidacy(kb, BCBSA, risk={**quiet, "renal_disease": "yes"}, **base)
    assert (renal.candidate, failing.candidate, bcbsa.candidate) == (False, True, True)


def test_mp524_counts_osteoporosis_on_imaging(kb: Knowledge) -> None:
    base = {"surgery": surgery(3, ["L4-L5"], fusion_planned="yes")}
    assert candidacy(kb, MP524, risk={"dxa_t_score": -2.5}, **base).candidate is True


@pytest.mark.parametrize("policy", [NCD, BCBSA, AANS, MP524])
def test_solid_fusion_is_never_a_candidate_without_an_operation(kb: Knowledge, policy: str) -> None:
    result = run(
        kb,
        policy,
        surgery=surgery(14, ["L3-S1"], prior_failed_fusion_same_site="yes", fusion_planned="no"),
        person={"age": 45},
        risk={"nicotine": "current"},
        imaging={"fusion_status": "fused"},
    )
    assert result.stimulator is not None
    assert result.stimulator.candidate is False
    assert "FW-MGMT-005" not in {c.rule for c in result.recommendations}


def test_asymptomatic_nonunion_is_not_offered_a_stimulator(kb: Knowledge) -> None:
    signs = "mechanical_pain improved_then_worse instability focal_pain clicking"
    signs += " no_expected_recovery worse_with_cough_sneeze hardware_failure functional_impact"
    quiet = dict.fromkeys(signs.split(), "no")
    result = run(
        kb,
        NCD,
        signs=quiet,
        surgery=surgery(14, ["L4-L5"], prior_failed_fusion_same_site="no"),
        risk={
            "nicotine": "never",
            "diabetes": "no",
            "long_term_steroids": "no",
            "osteoporosis_known": "no",
        },
        imaging={"fusion_status": "nonunion"},
    )
    assert result.stimulator is not None
    assert result.stimulator.in_question is False
    assert result.stimulator.criteria == ()
    assert "Not for asymptomatic nonunion" in result.stimulator.note
    assert "FW-MGMT-005" not in {c.rule for c in result.recommendations}


def test_candidacy_drives_the_management_suggestion(kb: Knowledge) -> None:
    result = run(
        kb,
        NCD,
        surgery=surgery(10, ["L4-L5"], prior_failed_fusion_same_site="no"),
        imaging={"fusion_status": "nonunion"},
    )
    assert "FW-MGMT-005" in {c.rule for c in result.recommendations}


def test_default_policy_is_named(kb: Knowledge) -> None:
    result = assess(parse_data({"signs": SYMPTOM}, AS_OF), kb, AS_OF)
    assert result.stimulator is not None
    assert result.stimulator.policy == "ncd_150_2"
    assert "NCD 150.2" in result.stimulator.title
    assert all(c.sources[0].cite == "ncd150_2" for c in result.stimulator.criteria)
    assert result.provenance.settings["stimulator_policy"] == "ncd_150_2"


def test_an_unknown_policy_is_refused(kb: Knowledge) -> None:
    with pytest.raises(CaseError, match="stimulator_policy"):
        assess(parse_data({}, AS_OF), kb, AS_OF, Site(stimulator_policy="no_such_policy"))


NEW_POLICY = """
id: test_plan
title: "Test plan: adjunct for smokers over two vertebrae"
publisher: a made-up plan for the test
cite: ncd150_2
version_seen: test
verification: test
scope: test only
thresholds:
  - {id: test_plan.vertebrae, value: 2, unit: vertebrae, meaning: two or more, kind: evidence,
     cite: ncd150_2, locator: test}
pathways:
  - id: smokers
    title: Smokers with a planned fusion
    summary: "Test plan: smoker with a planned fusion."
    patient: A test pathway.
    clinician: A test pathway.
    criteria:
      - {id: smoking, says: Current smoker, locator: test, reads: [risk.nicotine],
         when: {fact: risk.nicotine, equals: current}}
      - {id: span, says: Two or more vertebrae, locator: test, reads: [derived.vertebra_count],
         when: {fact: derived.vertebra_count, gte: test_plan.vertebrae}}
cases:
  - {name: smoker, given: {risk.nicotine: current, derived.vertebra_count: 2}, expect: candidate}
  - name: non-smoker
    given: {risk.nicotine: never, derived.vertebra_count: 2}
    expect: not_candidate
"""


def knowledge_copy(tmp_path: Path) -> Path:
    target = tmp_path / "knowledge"
    shutil.copytree(str(ROOT), target, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return target


def test_a_new_policy_file_loads_and_evaluates_without_python_changes(tmp_path: Path) -> None:
    root = knowledge_copy(tmp_path)
    (root / "policies" / "test_plan.yaml").write_text(NEW_POLICY, encoding="utf-8")
    kb = compile_files(root)
    sections = {"surgery": surgery(2, ["L5-S1"]), "risk": {"nicotine": "current"}, "signs": SYMPTOM}
    result = assess(parse_data(sections, AS_OF), kb, AS_OF, Site(stimulator_policy="test_plan"))
    assert result.stimulator is not None
    assert (result.stimulator.policy, result.stimulator.candidate) == ("test_plan", True)
    assert result.stimulator.pathways[0].rule == "test_plan:smokers"


def test_a_policy_whose_worked_case_fails_is_refused_at_load(tmp_path: Path) -> None:
    root = knowledge_copy(tmp_path)
    broken = NEW_POLICY.replace("expect: not_candidate", "expect: candidate")
    (root / "policies" / "test_plan.yaml").write_text(broken, encoding="utf-8")
    with pytest.raises(KnowledgeError, match="non-smoker"):
        compile_files(root)


def test_a_criterion_must_say_what_it_reads(tmp_path: Path) -> None:
    root = knowledge_copy(tmp_path)
    broken = NEW_POLICY.replace("reads: [risk.nicotine]", "reads: [risk.diabetes]")
    (root / "policies" / "test_plan.yaml").write_text(broken, encoding="utf-8")
    with pytest.raises(KnowledgeError, match="'reads' lists"):
        compile_files(root)
