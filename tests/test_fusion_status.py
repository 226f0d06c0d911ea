"""Per-level fusion status: each status, the evidence points that decide it, and the summary."""

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fusionwatch.core.compiled import Knowledge
from fusionwatch.core.derive.fusion import SEVERITY
from fusionwatch.core.engine import assess
from fusionwatch.core.errors import CaseError
from fusionwatch.core.results import Assessment, LevelResult
from fusionwatch.core.site import Site
from fusionwatch.core.vocab import FusionStatus
from fusionwatch.files.case import parse_data
from fusionwatch.knowledge import load
from tests.conftest import AS_OF


def run(
    studies: list[dict[str, Any]], kb: Knowledge, site: Site | None = None, **sections: Any
) -> Assessment:
    surgery = sections.pop(
        "surgery", {"months_since": 14, "levels": ["L4-L5"], "instrumented": "yes"}
    )
    data = {"surgery": surgery, "imaging": {"studies": studies, **sections.pop("imaging", {})}}
    case = parse_data({**data, **sections}, AS_OF)
    return assess(case, kb, AS_OF, site or Site())


def level(result: Assessment, name: str = "L4-L5") -> LevelResult:
    assert result.imaging is not None
    return next(lv for lv in result.imaging.levels if lv.level == name)


def ct(months: float, **findings: Any) -> dict[str, Any]:
    return {"modality": "ct", "months_since": months, "levels": [{"level": "L4-L5", **findings}]}


def fe(months: float, **findings: Any) -> dict[str, Any]:
    return {
        "modality": "flexion_extension",
        "months_since": months,
        "levels": [{"level": "L4-L5", **findings}],
    }


def texts(lv: LevelResult) -> str:
    return " | ".join(r.text for r in lv.reasons)


def test_bridging_on_ct_is_fused(kb: Knowledge) -> None:
    result = run([ct(13, interbody_bridging="yes", bridwell="I"), fe(13, angle_deg=1.5)], kb)
    assert level(result).status == "fused"
    assert result.imaging is not None
    assert "< 5°" in result.imaging.cutoff_note


def test_incomplete_before_12_months_is_not_yet_fused(kb: Knowledge) -> None:
    result = run([ct(7, bridwell="III")], kb)
    assert level(result).status == "not_yet_fused"
    assert "before the usual 12-month mark" in texts(level(result))


def test_incomplete_with_failed_hardware_early_is_nonunion(kb: Knowledge) -> None:
    result = run([ct(7, bridwell="III", rod_broken="yes")], kb)
    assert level(result).status == "nonunion"
    assert level(result).hardware_failure is True


def test_incomplete_after_12_months_is_nonunion(kb: Knowledge) -> None:
    assert level(run([ct(13, mayfield="IV")], kb)).status == "nonunion"


def test_still_progressing_after_12_months_is_indeterminate(kb: Knowledge) -> None:
    result = run([ct(9, bridwell="IV"), ct(13, bridwell="III")], kb)
    assert level(result).status == "indeterminate"
    assert level(result).progress is True


def test_no_progress_over_serial_studies_is_recorded(kb: Knowledge) -> None:
    result = run([ct(13, bridwell="III"), ct(16, bridwell="III")], kb)
    assert level(result).progress is False
    assert result.derived["derived.months_without_progress"] == 3


def test_static_films_alone_do_not_establish_fusion(kb: Knowledge) -> None:
    result = run(
        [{"modality": "static_xray", "months_since": 13, "levels": [{"level": "L4-L5"}]}], kb
    )
    assert level(result).status == "indeterminate"
    assert "static films" in texts(level(result))


def test_no_motion_without_instrumentation_suggests_fusion(kb: Knowledge) -> None:
    surgery = {"months_since": 14, "levels": ["L4-L5"], "instrumented": "no"}
    assert level(run([fe(13, angle_deg=2)], kb, surgery=surgery)).status == "fused"
    instrumented = run([fe(13, angle_deg=2)], kb)
    assert level(instrumented).status == "indeterminate"


def test_motion_alone_does_not_prove_nonunion(kb: Knowledge) -> None:
    result = run([fe(13, angle_deg=9)], kb)
    assert level(result).status == "indeterminate"
    assert "does not prove a nonunion" in texts(level(result))


def test_motion_cutoff_is_a_site_setting(kb: Knowledge) -> None:
    studies = [ct(13, interbody_bridging="yes"), fe(13, angle_deg=3)]
    assert level(run(studies, kb)).status == "fused"
    strict = run(studies, kb, Site(motion_cutoff_deg=2))
    assert level(strict).status == "indeterminate"
    assert strict.imaging is not None
    assert strict.imaging.motion_cutoff_deg == 2


def test_halo_over_one_mm_is_loosening_but_a_thin_halo_excludes_nothing(kb: Knowledge) -> None:
    loose = run([ct(13, interbody_bridging="no", periscrew_lucency_mm=1.5)], kb)
    assert level(loose).hardware_failure is True
    thin = run([ct(13, periscrew_lucency_mm=1.0)], kb)
    assert level(thin).hardware_failure is None
    assert "does not exclude loosening" in texts(level(thin))


def test_subsidence_over_two_mm_is_hardware_failure(kb: Knowledge) -> None:
    assert level(run([ct(13, cage_subsidence_mm=2.5)], kb)).hardware_failure is True
    intact = {"screw_broken": "no", "rod_broken": "no", "cage_migration": "no"}
    at_limit = run([ct(13, cage_subsidence_mm=2.0, set_screw_loose="no", **intact)], kb)
    assert level(at_limit).hardware_failure is False
    assert level(run([ct(13, cage_subsidence_mm=2.0)], kb)).hardware_failure is None


def test_facet_fusion_weighs_more_than_posterolateral_bone(kb: Knowledge) -> None:
    no_facet = run([ct(13, posterolateral_bridging="yes", facet_bridging="no")], kb)
    assert level(no_facet).status == "nonunion"
    facet_only = run([ct(13, posterolateral_bridging="no", facet_bridging="yes")], kb)
    assert level(facet_only).status == "fused"


def test_cervical_interspinous_motion(kb: Knowledge) -> None:
    surgery = {"months_since": 14, "levels": ["C5-C6"], "instrumented": "yes"}
    study = {
        "modality": "flexion_extension",
        "months_since": 13,
        "levels": [{"level": "C5-C6", "interspinous_mm": 2.5}],
    }
    assert level(run([study], kb, surgery=surgery), "C5-C6").status == "nonunion"


def test_fused_levels_without_a_study_are_listed(kb: Knowledge) -> None:
    surgery = {"months_since": 14, "levels": ["L4-S1"], "instrumented": "yes"}
    result = run([ct(13, bridwell="I")], kb, surgery=surgery)
    assert result.imaging is not None
    assert result.imaging.not_imaged == ("L5-S1",)


def test_a_level_next_to_the_fusion_is_reported_apart(kb: Knowledge) -> None:
    study = {"modality": "ct", "months_since": 13, "levels": [{"level": "L3-L4", "bridwell": "I"}]}
    result = run([study], kb)
    assert result.imaging is not None
    assert result.imaging.levels == ()
    (adjacent,) = result.imaging.adjacent
    assert (adjacent.level, adjacent.position) == ("L3-L4", "above")
    assert "not read as fusion status" in " | ".join(r.text for r in adjacent.reasons)


def test_study_dates_give_months_after_fusion(kb: Knowledge) -> None:
    surgery = {"date": "2025-01-10", "levels": ["L4-L5"], "instrumented": "yes"}
    study = {
        "modality": "ct",
        "date": "2025-08-10",
        "levels": [{"level": "L4-L5", "bridwell": "III"}],
    }
    result = run([study], kb, surgery=surgery)
    assert level(result).months_after_fusion == 7
    assert level(result).status == "not_yet_fused"


def test_landmarks_in_a_case_give_the_angle(kb: Knowledge) -> None:
    from tests.synthetic import pair_mm

    landmarks = {"flexion": pair_mm(-3, 1), "extension": pair_mm(4, 0), "mm_per_pixel": [1.0, 1.0]}
    result = run([fe(13, landmarks=landmarks)], kb)
    assert level(result).angle_deg == pytest.approx(7.0)
    assert level(result).translation_mm == pytest.approx(1.0)


def test_derived_summary_feeds_the_rules(kb: Knowledge) -> None:
    result = run([ct(13, mayfield="V", screw_broken="yes")], kb)
    fired = {t.rule for t in result.provenance.rules if t.outcome == "fires"}
    assert {"FW-SUSP-001", "FW-SUSP-002", "FW-REV-003", "FW-CONC-005"} <= fired
    assert result.suspicion.level == "high"


def test_given_summary_is_never_overwritten(kb: Knowledge) -> None:
    result = run([ct(13, bridwell="I")], kb, imaging={"fusion_status": "nonunion"})
    assert result.imaging is not None
    status = next(f for f in result.imaging.summary if f.fact == "imaging.fusion_status")
    assert (status.given, status.derived, status.used, status.conflict) == (
        "nonunion",
        "fused",
        "nonunion",
        True,
    )
    assert any(c.rule == "FW-SUSP-002" for c in result.suspicion.reasons)


def test_mri_findings_feed_the_summary(kb: Knowledge) -> None:
    mri = {"modality": "mri", "months_since": 13, "nerve_compression": "yes", "collection": "yes"}
    result = run([mri], kb)
    assert result.imaging is not None
    used = {f.fact: f.used for f in result.imaging.summary}
    assert used["imaging.nerve_compression"] is True
    assert used["imaging.infection_signs"] is True


def test_no_studies_adds_no_imaging_section(kb: Knowledge) -> None:
    case = parse_data({"imaging": {"fusion_status": "fused"}}, AS_OF)
    assert assess(case, kb, AS_OF).imaging is None


@pytest.mark.parametrize(
    ("finding", "field", "words"),
    [
        ({"level": "L4-L5", "angle_deg": 60}, "angle_deg", "must be 45 or less"),
        ({"level": "L4-L5", "periscrew_lucency_mm": -1}, "periscrew_lucency_mm", "or more"),
        ({"level": "L4-L5", "cage_subsidence_mm": 80}, "cage_subsidence_mm", "or less"),
        ({"level": "L4-S1"}, "level", "one motion segment"),
        ({"level": "L4-L5", "bridwell": "V"}, "bridwell", "one of: I, II, III or IV"),
        ({"level": "L4-L5", "lenke": "A"}, "lenke", "not a known field"),
    ],
)
def test_out_of_range_values_name_the_field(
    finding: dict[str, Any], field: str, words: str
) -> None:
    data = {"imaging": {"studies": [{"modality": "ct", "levels": [finding]}]}}
    with pytest.raises(CaseError) as caught:
        parse_data(data, AS_OF)
    found = {p.field: p.message for p in caught.value.problems}
    key = f"imaging.studies.0.levels.0.{field}"
    assert key in found, found
    assert words in found[key]


def test_study_after_the_assessment_date_is_refused() -> None:
    data = {"imaging": {"studies": [{"modality": "ct", "date": "2030-01-01"}]}}
    with pytest.raises(CaseError, match="after the assessment date"):
        parse_data(data, AS_OF)


FINDINGS = st.fixed_dictionaries(
    {},
    optional={
        "bridwell": st.sampled_from(["I", "II", "III", "IV"]),
        "mayfield": st.sampled_from(["I", "II", "III", "IV", "V"]),
        "interbody_bridging": st.sampled_from(["yes", "no"]),
        "facet_bridging": st.sampled_from(["yes", "no"]),
        "posterolateral_bridging": st.sampled_from(["yes", "no"]),
        "cage_lucency": st.sampled_from(["yes", "no"]),
        "angle_deg": st.floats(0, 20),
        "interspinous_mm": st.floats(0, 5),
    },
)


@settings(max_examples=300, deadline=None)
@given(
    findings=FINDINGS,
    modality=st.sampled_from(["ct", "flexion_extension", "static_xray"]),
    months=st.floats(1, 30),
    region=st.sampled_from(["L4-L5", "C5-C6"]),
    instrumented=st.sampled_from(["yes", "no"]),
)
def test_failed_hardware_never_makes_a_level_look_better(
    findings: dict[str, Any], modality: str, months: float, region: str, instrumented: str
) -> None:
    kb = load()
    surgery = {"months_since": 30, "levels": [region], "instrumented": instrumented}

    def status(extra: dict[str, Any]) -> str:
        finding = {"level": region, **findings, **extra}
        study = {"modality": modality, "months_since": months, "levels": [finding]}
        return level(run([study], kb, surgery=surgery), region).status

    before, after = status({}), status({"rod_broken": "yes"})
    assert SEVERITY[FusionStatus(after)] >= SEVERITY[FusionStatus(before)], (before, after)


def static(months: float, **findings: Any) -> dict[str, Any]:
    return {
        "modality": "static_xray",
        "months_since": months,
        "levels": [{"level": "L4-L5", **findings}],
    }


def test_cage_lucency_on_static_films_is_named_and_on_record(kb: Knowledge) -> None:
    # Evidence 3 (Duits 2024): radiolucency around the cage is a consistently used fusion criterion.
    result = run([static(9, cage_lucency="yes")], kb)
    lv = level(result)
    assert lv.status == "indeterminate"
    assert "lucency around the cage on static radiographs at 9 months" in texts(lv)
    assert "fine-cut CT should confirm" in texts(lv)
    assert result.derived["derived.cage_lucency_on_record"] is True


def test_cage_lucency_on_films_keeps_a_still_level_from_fused(kb: Knowledge) -> None:
    surgery = {"months_since": 14, "levels": ["L4-L5"], "instrumented": "no"}
    still = [fe(14, angle_deg=1.0), static(14, cage_lucency="yes")]
    assert level(run(still, kb, surgery=surgery)).status == "indeterminate"
    without = [fe(14, angle_deg=1.0), static(14, cage_lucency="no")]
    assert level(run(without, kb, surgery=surgery)).status == "fused"


def test_cage_lucency_on_films_disagrees_with_ct_bridging(kb: Knowledge) -> None:
    result = run(
        [ct(13, interbody_bridging="yes", bridwell="I"), static(14, cage_lucency="yes")], kb
    )
    lv = level(result)
    assert lv.status == "indeterminate"
    assert "CT bridging but lucency around the cage on films: the two disagree" in texts(lv)


def test_ct_without_bridging_decides_over_film_lucency(kb: Knowledge) -> None:
    result = run([static(13, cage_lucency="yes"), ct(14, interbody_bridging="no")], kb)
    assert level(result).status == "nonunion"
    # The film came before the CT: the CT decides, and the film's lucency is set aside.
    assert result.derived["derived.cage_lucency_on_record"] is False


def test_a_film_lucency_before_a_bridging_ct_does_not_hold_the_level_back(kb: Knowledge) -> None:
    """X-ray lucency at 6 months, then a CT at 12 months with bridging: fused by the CT (it read
    'indeterminate ... CT, 12 months (lucency around the cage)')."""
    result = run(
        [static(6, cage_lucency="yes"), ct(12, interbody_bridging="yes", bridwell="I")], kb
    )
    lv = level(result)
    assert lv.status == "fused"
    assert lv.cage_lucency is False
    film = "lucency around the cage on static radiographs at 6 months"
    assert f"{film}, before the latest CT: the CT decides" in texts(lv)
    later = run(
        [ct(12, interbody_bridging="yes", bridwell="I"), static(18, cage_lucency="yes")], kb
    )
    assert level(later).status == "indeterminate"
    assert level(later).cage_lucency is True


def test_no_lucency_on_record_without_studies_or_lucency(kb: Knowledge) -> None:
    assert (
        run([static(9, cage_lucency="no")], kb).derived["derived.cage_lucency_on_record"] is False
    )
    assert run([], kb).derived["derived.cage_lucency_on_record"] is False
