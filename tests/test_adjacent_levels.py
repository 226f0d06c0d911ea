"""Adjacent levels are their own thing: findings next to the fusion never judge the fusion."""

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fusionwatch.core.compiled import Knowledge
from fusionwatch.core.engine import assess
from fusionwatch.core.errors import CaseError
from fusionwatch.core.results import Assessment
from fusionwatch.core.site import Site
from fusionwatch.files.case import parse_data
from fusionwatch.knowledge import load
from tests.conftest import AS_OF, SCREEN_CLEAR


def _solid_l4_l5_with(adjacent: dict[str, Any], modality: str = "flexion_extension") -> Any:
    """A solid L4-L5 fusion on CT at 14 months, plus one study graded at L3-L4 (above)."""
    return {
        "surgery": {
            "months_since": 14,
            "region": "lumbar",
            "levels": ["L4-L5"],
            "instrumented": "yes",
        },
        "emergency": SCREEN_CLEAR,
        "signs": {"mechanical_pain": "yes", "focal_pain": "no"},
        "imaging": {
            "studies": [
                {
                    "modality": "ct",
                    "months_since": 13,
                    "levels": [{"level": "L4-L5", "interbody_bridging": "yes", "bridwell": "I"}],
                },
                {
                    "modality": modality,
                    "months_since": 13,
                    "levels": [{"level": "L3-L4", **adjacent}],
                },
            ]
        },
    }


def _run(data: dict[str, Any], kb: Knowledge) -> Assessment:
    return assess(parse_data(data, AS_OF), kb, AS_OF, Site())


def _fired(result: Assessment) -> set[str]:
    return {t.rule for t in result.provenance.rules if t.outcome == "fires"}


@pytest.mark.parametrize(
    ("adjacent", "modality", "change"),
    [
        ({"angle_deg": 9.0, "translation_mm": 3.5}, "flexion_extension", True),
        ({"interbody_bridging": "no", "bridwell": "IV"}, "ct", False),
        ({"screw_broken": "yes"}, "static_xray", True),
    ],
)
def test_adjacent_findings_leave_a_solid_fusion_solid(
    kb: Knowledge, adjacent: dict[str, Any], modality: str, change: bool
) -> None:
    result = _run(_solid_l4_l5_with(adjacent, modality), kb)
    fired = _fired(result)
    summary = {s.fact: s.used for s in result.imaging.summary} if result.imaging else {}
    assert summary["imaging.fusion_status"] == "fused"
    assert summary["imaging.hardware_failure"] is not True
    assert summary["imaging.instability_on_motion_films"] is not True
    assert result.suspicion.level != "high"
    assert not [r for r in fired if r.startswith("FW-REV-")]
    assert result.stimulator is not None
    assert result.stimulator.candidate is not True
    assert result.imaging is not None
    assert [lv.level for lv in result.imaging.levels] == ["L4-L5"]
    assert [lv.level for lv in result.imaging.adjacent] == ["L3-L4"]
    # Instability or hardware next to the fusion is its own finding; a grade there is not.
    assert ("FW-ADJ-001" in fired) is change


def test_adjacent_level_has_its_own_conclusion(kb: Knowledge) -> None:
    result = _run(_solid_l4_l5_with({"angle_deg": 9.0, "translation_mm": 3.5}), kb)
    assert result.imaging is not None
    (adjacent,) = result.imaging.adjacent
    assert adjacent.position == "above"
    assert adjacent.instability is True
    reasons = " | ".join(r.text for r in adjacent.reasons)
    assert "translation 3.5 mm" in reasons
    assert any(s.cite == "nass2014" for r in adjacent.reasons for s in r.sources)


def test_a_level_neither_fused_nor_adjacent_is_refused(kb: Knowledge) -> None:
    data = _solid_l4_l5_with({"angle_deg": 2.0})
    data["imaging"]["studies"][1]["levels"][0]["level"] = "L1-L2"
    with pytest.raises(CaseError) as caught:
        parse_data(data, AS_OF)
    (problem,) = caught.value.problems
    assert problem.field == "imaging.studies.1.levels.0.level"
    message = problem.message
    assert message.startswith("L1-L2 is neither fused nor adjacent to the fusion")
    for allowed in ("L3-L4 (adjacent, above)", "L4-L5 (fused)", "L5-S1 (adjacent, below)"):
        assert allowed in message


def test_without_fused_levels_every_level_still_counts_as_fused(kb: Knowledge) -> None:
    """Old cases that give no levels keep their meaning (the level may be the fused one)."""
    data = _solid_l4_l5_with({"angle_deg": 9.0})
    data["surgery"] = {"months_since": 14, "instrumented": "yes"}
    result = _run(data, kb)
    assert result.imaging is not None
    assert {lv.level for lv in result.imaging.levels} == {"L4-L5", "L3-L4"}
    assert result.imaging.adjacent == ()


_ADJACENT = st.fixed_dictionaries(
    {},
    optional={
        "bridwell": st.sampled_from(["I", "II", "III", "IV"]),
        "interbody_bridging": st.sampled_from(["yes", "no"]),
        "cage_lucency": st.sampled_from(["yes", "no"]),
        "angle_deg": st.floats(0, 20),
        "translation_mm": st.floats(0, 8),
        "screw_broken": st.sampled_from(["yes", "no"]),
        "rod_broken": st.sampled_from(["yes", "no"]),
        "periscrew_lucency_mm": st.floats(0, 3),
    },
)


@settings(max_examples=200, deadline=None)
@given(
    adjacent=_ADJACENT,
    fused=_ADJACENT,
    modality=st.sampled_from(["ct", "flexion_extension", "static_xray"]),
    where=st.sampled_from(["L3-L4", "L5-S1"]),
    signs=st.sampled_from(["yes", "no", "unknown"]),
)
def test_adjacent_findings_never_change_the_fusion_verdicts(
    adjacent: dict[str, Any], fused: dict[str, Any], modality: str, where: str, signs: str
) -> None:
    """Whatever is seen next to the fusion, the fusion's own verdicts stay as they were."""
    kb = load()
    base = {
        "surgery": {"months_since": 20, "levels": ["L4-L5"], "instrumented": "yes"},
        "signs": {"mechanical_pain": signs, "focal_pain": signs},
        "imaging": {
            "studies": [
                {"modality": "ct", "months_since": 14, "levels": [{"level": "L4-L5", **fused}]}
            ]
        },
    }
    extra = {"modality": modality, "months_since": 15, "levels": [{"level": where, **adjacent}]}
    with_adjacent = {**base, "imaging": {"studies": [*base["imaging"]["studies"], extra]}}
    before, after = _run(base, kb), _run(with_adjacent, kb)
    assert before.imaging is not None
    assert after.imaging is not None
    assert after.imaging.summary == before.imaging.summary
    assert after.suspicion.level == before.suspicion.level
    assert after.stimulator == before.stimulator
    kinds = ("FW-REV-", "FW-SUSP-", "FW-STIM-", "FW-CONC-", "FW-CAP-")
    assert {r for r in _fired(after) if r.startswith(kinds)} == {
        r for r in _fired(before) if r.startswith(kinds)
    }
