"""Bone-stimulator candidacy under each named policy, at the policies' own boundaries."""

from typing import Any

import pytest

from fusionwatch.core.compiled import Knowledge
from fusionwatch.core.engine import assess
from fusionwatch.core.results import Assessment, Candidacy
from fusionwatch.core.site import Site, StimulatorPolicy
from fusionwatch.files.case import parse_data
from tests.conftest import AS_OF

NCD, BCBSA, AANS = (
    StimulatorPolicy.NCD_150_2,
    StimulatorPolicy.BCBSA_7_01_85,
    StimulatorPolicy.AANS_CNS_2014,
)


def run(kb: Knowledge, policy: StimulatorPolicy, **sections: Any) -> Assessment:
    return assess(parse_data(sections, AS_OF), kb, AS_OF, Site(stimulator_policy=policy))


def candidacy(kb: Knowledge, policy: StimulatorPolicy, **sections: Any) -> Candidacy:
    result = run(kb, policy, **sections).stimulator
    assert result is not None
    assert result.policy == policy.value
    return result


def surgery(months: float, levels: list[str], **extra: Any) -> dict[str, Any]:
    return {"months_since": months, "levels": levels, "region": "lumbar", **extra}


@pytest.mark.parametrize(("months", "expected"), [(8, False), (9, True)])
def test_ncd_failed_fusion_needs_nine_months(kb: Knowledge, months: int, expected: bool) -> None:
    found = candidacy(
        kb,
        NCD,
        surgery=surgery(months, ["L5-S1"], prior_failed_fusion_same_site="no"),
        imaging={"fusion_status": "not_yet_fused"},
    )
    assert found.candidate is expected
    failed = [c for c in found.criteria if "Months since fusion ≥ 9" in c.text]
    assert failed[0].outcome == ("met" if expected else "unmet")


@pytest.mark.parametrize(("levels", "expected"), [(["L5-S1"], False), (["L4-S1"], True)])
def test_ncd_multilevel_means_three_vertebrae(
    kb: Knowledge, levels: list[str], expected: bool
) -> None:
    found = candidacy(kb, NCD, surgery=surgery(1, levels, prior_failed_fusion_same_site="no"))
    assert found.candidate is expected


def test_ncd_ignores_smoking_and_diabetes(kb: Knowledge) -> None:
    found = candidacy(
        kb,
        NCD,
        surgery=surgery(1, ["L4-L5"], prior_failed_fusion_same_site="no"),
        risk={"nicotine": "current", "diabetes": "yes"},
    )
    assert found.candidate is False


def test_bcbsa_counts_a_risk_factor_for_lumbar_adjunct(kb: Knowledge) -> None:
    sections = {"surgery": surgery(1, ["L4-L5"]), "risk": {"nicotine": "current"}}
    assert candidacy(kb, BCBSA, **sections).candidate is True


def test_bcbsa_cervical_is_investigational(kb: Knowledge) -> None:
    cervical = {"months_since": 1, "levels": ["C5-C6"], "region": "cervical"}
    found = candidacy(kb, BCBSA, surgery=cervical, risk={"nicotine": "current"}, person={"age": 40})
    assert found.candidate is False


def ct(months: float, grade: str) -> dict[str, Any]:
    return {
        "modality": "ct",
        "months_since": months,
        "levels": [{"level": "L4-L5", "bridwell": grade}],
    }


@pytest.mark.parametrize(("second", "expected"), [(9, True), (8, False)])
def test_bcbsa_failed_fusion_needs_three_months_of_serial_films(
    kb: Knowledge, second: float, expected: bool
) -> None:
    # 6 months since surgery with an unhealed level, seen at 6 and again at `second` months.
    found = candidacy(
        kb,
        BCBSA,
        surgery=surgery(10, ["L4-L5"], prior_failed_fusion_same_site="no"),
        risk={"nicotine": "never", "diabetes": "no", "long_term_steroids": "no"},
        imaging={"studies": [ct(6, "III"), ct(second, "III")]},
    )
    assert found.candidate is expected


def test_aans_direct_current_under_sixty(kb: Knowledge) -> None:
    young = candidacy(kb, AANS, surgery=surgery(1, ["L4-L5"]), person={"age": 59})
    old = candidacy(kb, AANS, surgery=surgery(1, ["L4-L5"]), person={"age": 60})
    assert (young.candidate, old.candidate) == (True, False)


@pytest.mark.parametrize("policy", list(StimulatorPolicy))
def test_solid_fusion_is_never_a_candidate(kb: Knowledge, policy: StimulatorPolicy) -> None:
    result = run(
        kb,
        policy,
        surgery=surgery(14, ["L3-S1"], prior_failed_fusion_same_site="yes"),
        person={"age": 45},
        risk={"nicotine": "current"},
        imaging={"fusion_status": "fused"},
    )
    assert result.stimulator is not None
    assert result.stimulator.candidate is False
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
    result = assess(parse_data({}, AS_OF), kb, AS_OF)
    assert result.stimulator is not None
    assert result.stimulator.policy == "ncd_150_2"
    assert "NCD 150.2" in result.stimulator.title
    assert all(c.sources[0].cite == "ncd150_2" for c in result.stimulator.criteria)
