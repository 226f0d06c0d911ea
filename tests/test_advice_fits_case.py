"""Issue 12 probes: advice that fits what the case already holds.

Each test reproduces a probe from the issue on a small synthetic case: tests already on record are
not recommended again by routine, a solid CT lowers suspicion and turns the plan to other pain
generators, a nonunion on CT raises it, stimulator timing follows the policy's own words, and the
missing-information list names only what would change the result.
"""

from typing import Any

from fusionwatch.core.compiled import Knowledge
from fusionwatch.core.engine import assess
from fusionwatch.core.results import Assessment
from fusionwatch.core.site import Site
from fusionwatch.files.case import parse_data
from fusionwatch.knowledge import load_labels
from fusionwatch.report.view import build
from tests.conftest import AS_OF, SCREEN_CLEAR

NO = "no"
SCREENED = SCREEN_CLEAR
SYMPTOMS = {"mechanical_pain": "yes", "improved_then_worse": "yes", "focal_pain": "yes"}


def run(kb: Knowledge, site: Site | None = None, **sections: Any) -> Assessment:
    sections.setdefault("emergency", SCREENED)
    return assess(parse_data(sections, AS_OF), kb, AS_OF, site or Site())


def surgery(months: float, levels: tuple[str, ...] = ("L4-L5",), **extra: Any) -> dict[str, Any]:
    base = {"months_since": months, "region": "lumbar", "levels": list(levels)}
    return {**base, "instrumented": "yes", "prior_failed_fusion_same_site": NO, **extra}


def ct(months: float, grade: str, level: str = "L4-L5") -> dict[str, Any]:
    return {
        "modality": "ct",
        "months_since": months,
        "levels": [{"level": level, "bridwell": grade}],
    }


def flexion(months: float, angle: float) -> dict[str, Any]:
    levels = [{"level": "L4-L5", "angle_deg": angle}]
    return {"modality": "flexion_extension", "months_since": months, "levels": levels}


def summaries(result: Assessment) -> list[str]:
    return [c.summary for c in result.recommendations]


def rules(result: Assessment) -> set[str]:
    return {c.rule for c in result.recommendations}


# ---- probe 1: tests already done are not recommended again --------------------------------------


def test_tests_on_record_are_not_ordered_again(kb: Knowledge) -> None:
    studies = [ct(7, "III"), ct(12, "III"), flexion(12, 3)]
    result = run(kb, surgery=surgery(13), signs=SYMPTOMS, imaging={"studies": studies})
    assert result.suspicion.level == "high"
    texts = " ".join(summaries(result))
    assert "Fine-cut CT with reconstructions" not in texts
    assert "Flexion-extension X-rays to look" not in texts
    # The CT on record is named with its month, and the repeat has a stated condition.
    assert "CT of month 12" in texts
    on_record = [c for c in result.recommendations if "month 12" in c.summary]
    assert any("24 months" in c.clinician for c in on_record)


def test_a_ct_before_twelve_months_may_be_repeated_with_its_reason(kb: Knowledge) -> None:
    result = run(kb, surgery=surgery(14), signs=SYMPTOMS, imaging={"studies": [ct(7, "III")]})
    repeat = [c for c in result.recommendations if c.rule == "FW-NEXT-009"]
    assert repeat, summaries(result)
    assert "month 7" in repeat[0].summary
    assert {s.cite for s in repeat[0].sources} >= {"ct_review2025"}
    # The plan said both "repeat" and "no repeat CT by routine" (FW-NEXT-008) for this case.
    assert "FW-NEXT-008" not in rules(result)


def test_without_imaging_the_usual_tests_are_recommended(kb: Knowledge) -> None:
    result = run(kb, surgery=surgery(13), signs=SYMPTOMS)
    assert {"FW-NEXT-003", "FW-NEXT-004", "FW-NEXT-005"} <= rules(result)


# ---- probe 2: imaging results feed the suspicion band -------------------------------------------


def test_solid_ct_lowers_suspicion_and_turns_to_other_generators(kb: Knowledge) -> None:
    result = run(kb, surgery=surgery(14), signs=SYMPTOMS, imaging={"studies": [ct(13, "I")]})
    assert result.suspicion.level == "moderate"
    assert "FW-CAP-002" in {c.rule for c in result.suspicion.limited_by}
    assert result.suspicion.limited_by[0].sources
    assert "FW-NEXT-005" not in rules(result)
    assert "FW-GEN-008" in {c.rule for c in result.pain_generators}
    # The note's plan (page 1) turns to the other generators first; they were in the detail only.
    report = build(result, load_labels("en"), "clinician")
    [plan] = [s for s in report.summary if s.key == "plan"]
    assert plan.items[0].text.startswith("Solid fusion on CT with symptoms: look for other pain")


def test_solid_ct_at_another_level_does_not_lower_suspicion(kb: Knowledge) -> None:
    studies = [
        {
            "modality": "ct",
            "months_since": 13,
            "levels": [{"level": "L4-L5", "bridwell": "I"}, {"level": "L5-S1", "bridwell": "III"}],
        }
    ]
    result = run(kb, surgery=surgery(14, ("L4-S1",)), signs=SYMPTOMS, imaging={"studies": studies})
    assert result.suspicion.level == "high"
    assert not result.suspicion.limited_by


def test_nonunion_on_ct_raises_suspicion(kb: Knowledge) -> None:
    quiet = {"mechanical_pain": NO, "improved_then_worse": NO, "focal_pain": NO}
    without = run(kb, surgery=surgery(14), signs=quiet)
    with_ct = run(kb, surgery=surgery(14), signs=quiet, imaging={"studies": [ct(13, "III")]})
    assert (without.suspicion.level, with_ct.suspicion.level) == ("low", "high")
    assert "FW-SUSP-002" in {c.rule for c in with_ct.suspicion.reasons}


# ---- smaller defects ----------------------------------------------------------------------


def test_the_month_worsening_began_is_used(kb: Knowledge) -> None:
    """signs.worsening_began_month was collected and never read (article: months 3 to 12)."""
    relapse = {"improved_then_worse": "yes", "worsening_began_month": 5}
    inside = run(kb, surgery=surgery(9), signs=relapse)
    reasons = {c.rule: c for c in inside.suspicion.reasons}
    assert "FW-SUSP-008" in reasons
    assert "month 5" in reasons["FW-SUSP-008"].summary
    early = run(kb, surgery=surgery(9), signs={**relapse, "worsening_began_month": 2})
    assert "FW-SUSP-008" not in {c.rule for c in early.suspicion.reasons}


def test_a_graded_adjacent_level_does_not_set_the_fusion_status(kb: Knowledge) -> None:
    studies = [
        {
            "modality": "ct",
            "months_since": 13,
            "levels": [{"level": "L4-L5", "bridwell": "I"}, {"level": "L3-L4", "bridwell": "IV"}],
        }
    ]
    result = run(kb, surgery=surgery(14), signs=SYMPTOMS, imaging={"studies": studies})
    used = {s.fact: s.used for s in result.imaging.summary} if result.imaging else {}
    assert used["imaging.fusion_status"] == "fused"
    assert "FW-SUSP-002" not in {c.rule for c in result.suspicion.reasons}


def test_a_score_relapse_below_the_sdc_feeds_sign_2_not_sign_6(kb: Knowledge) -> None:
    visits = [
        {"baseline": True, "odi": 50},
        {"month": 3, "odi": 30},
        {"month": 9, "odi": 45},
    ]
    result = run(kb, surgery=surgery(10), follow_up=visits)
    assert result.derived["derived.sign_relapse"] is True
    assert result.derived["derived.sign_no_recovery"] is not True
