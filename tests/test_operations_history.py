"""Fusions across regions and to the pelvis; several operations, timing from the right one."""

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml

from fusionwatch.core.case import Case
from fusionwatch.core.compiled import Knowledge
from fusionwatch.core.derive.timing import prior_failed_fusion
from fusionwatch.core.engine import assess
from fusionwatch.core.errors import CaseError, KnowledgeError
from fusionwatch.core.results import Assessment, TimedFrom
from fusionwatch.core.serialize import from_data, to_data
from fusionwatch.files.case import parse_data, read_case
from fusionwatch.knowledge import load, load_labels
from fusionwatch.knowledge.loader import ROOT as KNOWLEDGE
from fusionwatch.knowledge.loader import read_labels
from fusionwatch.report.view import _Builder, build, for_case
from fusionwatch.report.words import Words
from tests.conftest import AS_OF


def _run(data: dict[str, Any], kb: Knowledge) -> Assessment:
    return assess(parse_data(data, AS_OF), kb, AS_OF)


@pytest.mark.parametrize(
    ("region", "levels", "segments", "vertebrae"),
    [
        ("thoracolumbar", ["T10-pelvis"], 9, 9),
        ("thoracolumbar", ["T5-L3"], 10, 11),
        ("cervicothoracic", ["C5-T2"], 4, 5),
        ("lumbosacral", ["L4-ilium"], 3, 3),
    ],
)
def test_fusions_across_regions_are_accepted(
    kb: Knowledge, region: str, levels: list[str], segments: int, vertebrae: int
) -> None:
    result = _run({"surgery": {"months_since": 8, "region": region, "levels": levels}}, kb)
    assert result.derived["derived.level_count"] == segments
    # The pelvis joins the construct but is not a vertebra (NCD 150.2 counts vertebrae).
    assert result.derived["derived.vertebra_count"] == vertebrae


def test_a_span_outside_its_region_is_refused() -> None:
    with pytest.raises(CaseError, match="do not belong to region cervical"):
        parse_data({"surgery": {"region": "cervical", "levels": ["T5-L3"]}}, AS_OF)


def test_fusion_to_the_pelvis_has_no_segment_below(kb: Knowledge) -> None:
    case = parse_data({"surgery": {"levels": ["T10-pelvis"]}}, AS_OF)
    assert case.surgery.adjacent_levels == {"T9-T10": "above"}
    case = parse_data({"surgery": {"levels": ["C5-T2"]}}, AS_OF)
    assert case.surgery.adjacent_levels == {"C4-C5": "above", "T2-T3": "below"}


def _history(**extension: Any) -> dict[str, Any]:
    return {
        "surgery": {
            "date": "2023-05-10",
            "region": "lumbar",
            "levels": ["L4-L5"],
            "operations": [{"kind": "extension", "levels": ["L3-L4"], **extension}],
        }
    }


def test_timing_counts_from_the_last_operation_and_says_so(kb: Knowledge) -> None:
    result = _run(_history(date="2026-08-23"), kb)
    assert result.suspicion.months_since_surgery == 3
    assert result.suspicion.phase == "healing"
    assert result.suspicion.timed_from is not None
    assert "extension at L3-L4 (2026-08-23)" in result.suspicion.timed_from
    # The extension adds its levels to the fused span.
    assert result.derived["derived.level_count"] == 2


def test_an_operation_without_timing_leaves_the_timing_unknown(kb: Knowledge) -> None:
    """The undated operation may be the latest: months since surgery cannot be claimed."""
    result = _run(_history(), kb)
    assert result.suspicion.months_since_surgery is None
    assert result.suspicion.timed_from is not None
    assert "no date or month count for the extension" in result.suspicion.timed_from


def _lines(result: Assessment, language: str, audience: str) -> str:
    report = build(result, load_labels(language), audience)  # type: ignore[arg-type]
    return " ".join(" ".join(s.lead) for s in (*report.summary, *report.detail))


def test_the_timing_keeps_the_operation_it_counts_from(kb: Knowledge) -> None:
    dated = _run(_history(date="2026-08-23"), kb).suspicion.timed_from_operation
    assert dated == TimedFrom("extension", ("L3-L4",), dt.date(2026, 8, 23), 3, undated=False)
    undated = _run(_history(), kb).suspicion.timed_from_operation
    assert undated == TimedFrom("extension", ("L3-L4",), None, None, undated=True)
    counted = _run(_history(months_since=14), kb).suspicion.timed_from_operation
    assert counted is not None
    assert counted.months_ago == 14
    assert counted.date is None


def test_a_patient_reads_which_operation_in_their_own_words(kb: Knowledge) -> None:
    """The patient's sentence comes from the patient wording and the labels, in their language;
    the clinician keeps the engine's sentence."""
    dated = _run(_history(date="2025-10-01"), kb)
    english = _lines(dated, "en", "patient")
    assert (
        "counted from your most recent operation on the fused levels: "
        "extension of the fusion at L3-L4 (2025-10-01)" in english
    )
    assert "ampliación de la fusión en L3-L4 (1 de octubre de 2025)" in _lines(
        dated, "es", "patient"
    )
    clinician = _lines(dated, "es", "clinician")
    assert "counted from the last operation at the fused levels: extension at L3-L4" in clinician
    counted = _lines(_run(_history(months_since=14.5), kb), "es", "patient")
    assert "ampliación de la fusión en L3-L4 (hace 14,5 meses)" in counted


def test_an_undated_operation_is_named_to_the_patient_in_their_language(kb: Knowledge) -> None:
    result = _run(_history(), kb)
    message = load_labels("es").kb.data.messages["timing.operation_undated"].patient
    view = _Patient(result)
    assert view.sentence("es") == message.format(
        operation="ampliación de la fusión en L3-L4 (sin fecha ni tiempo indicados)"
    )
    assert "extension of the fusion at L3-L4 (timing not given)" in view.sentence("en")


class _Patient:
    """The sentence a patient's report builds from a result's operation (the private helper)."""

    def __init__(self, result: Assessment) -> None:
        self.result = result

    def sentence(self, language: str) -> str:
        words = Words(load_labels(language), "patient", {})
        text = _Builder(self.result, words, {}, None)._timed_from(self.result.suspicion)
        assert text is not None
        return text


def test_a_stored_result_without_the_operation_shows_the_stored_sentence(kb: Knowledge) -> None:
    result = _run(_history(date="2025-10-01"), kb)
    data = to_data(result)
    del data["suspicion"]["timed_from_operation"]
    old = from_data(data)
    assert old.suspicion.timed_from_operation is None
    assert old.suspicion.timed_from is not None
    assert _Patient(old).sentence("en") == old.suspicion.timed_from


def test_a_labels_catalogue_missing_an_operation_kind_is_refused(tmp_path: Any) -> None:
    data = yaml.safe_load((KNOWLEDGE / "labels.yaml").read_text(encoding="utf-8"))
    del data["en"]["operations"]["staged"]
    (tmp_path / "labels.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(KnowledgeError, match="operations: no label for 'staged'"):
        read_labels(tmp_path, load())


def test_a_revision_for_nonunion_is_a_prior_failed_fusion(kb: Knowledge) -> None:
    data = {
        "surgery": {
            "months_since": 30,
            "levels": ["L5-S1"],
            "operations": [
                {"kind": "revision", "months_since": 4, "levels": ["L5-S1"], "reason": "nonunion"}
            ],
        }
    }
    result = _run(data, kb)
    fired = {t.rule for t in result.provenance.rules if t.outcome == "fires"}
    assert "FW-RISK-014" in fired
    assert result.suspicion.months_since_surgery == 4
    other = {
        **data["surgery"],
        "operations": [{**data["surgery"]["operations"][0], "reason": "hardware"}],
    }
    quiet = _run({"surgery": other}, kb)
    assert "FW-RISK-014" not in {t.rule for t in quiet.provenance.rules if t.outcome == "fires"}


@pytest.mark.parametrize("kind", ["extension", "revision", "staged", "unspecified"])
def test_a_later_operation_without_its_levels_leaves_the_count_unknown(
    kb: Knowledge, kind: str
) -> None:
    # One fused level, then an operation whose levels no one recorded: it may have fused more.
    # Counting only the known level would read "not multilevel", a reassurance from nothing.
    data = {
        "surgery": {
            "months_since": 30,
            "levels": ["L4-L5"],
            "operations": [{"kind": kind, "months_since": 12}],
        }
    }
    case = parse_data(data, AS_OF)
    assert (case.surgery.level_count, case.surgery.vertebra_count) == (None, None)
    outcomes = {t.rule: t.outcome for t in _run(data, kb).provenance.rules}
    assert outcomes["FW-RISK-013"] == "unknown"
    # With the levels named, the count is known again and the same rule is decided.
    named = {
        **data["surgery"],
        "operations": [{"kind": kind, "months_since": 12, "levels": ["L3-L4"]}],
    }
    assert parse_data({"surgery": named}, AS_OF).surgery.level_count == 2
    decided = {t.rule: t.outcome for t in _run({"surgery": named}, kb).provenance.rules}
    assert decided["FW-RISK-013"] == "fires"


@pytest.mark.parametrize("kind", ["extension", "revision", "unspecified"])
def test_levels_already_named_are_a_floor_when_an_operation_does_not_name_its_own(
    kb: Knowledge, kind: str
) -> None:
    # L3-S1 (three segments, four vertebrae), then an operation at unrecorded levels: the count
    # stays unknown, but the fusion spans at least three levels, so "multilevel" is known, and
    # the explanation shows the floor it rests on.
    data = {
        "surgery": {
            "months_since": 30,
            "levels": ["L3-S1"],
            "operations": [{"kind": kind, "months_since": 12}],
        }
    }
    result = _run(data, kb)
    assert result.derived["derived.level_count"] is None
    assert result.derived["derived.levels_at_least"] == 3
    assert result.derived["derived.vertebrae_at_least"] == 4
    traced = {t.rule: t for t in result.provenance.rules}
    assert traced["FW-RISK-013"].outcome == "fires"
    shown = {f.fact: f.value for f in traced["FW-RISK-013"].values}
    # The age is shown too: unknown, so the adult-only gate stays open (decision 0021).
    assert shown == {
        "derived.level_count": None,
        "derived.levels_at_least": 3,
        "person.age": None,
    }
    # One level named: "at least one" does not decide "two or more"; still unknown.
    data["surgery"]["levels"] = ["L4-L5"]
    outcomes = {t.rule: t.outcome for t in _run(data, kb).provenance.rules}
    assert outcomes["FW-RISK-013"] == "unknown"


def test_dated_studies_count_from_the_last_operation_at_their_level(kb: Knowledge) -> None:
    """A CT after a revision at L4-L5 is timed from the revision, not from the index fusion."""
    data = {
        "surgery": {
            "date": "2023-01-10",
            "levels": ["L4-L5"],
            "operations": [
                {
                    "kind": "revision",
                    "date": "2026-04-10",
                    "levels": ["L4-L5"],
                    "reason": "nonunion",
                }
            ],
        },
        "imaging": {
            "studies": [
                {
                    "modality": "ct",
                    "date": "2026-10-10",
                    "levels": [{"level": "L4-L5", "interbody_bridging": "no"}],
                }
            ]
        },
    }
    result = _run(data, kb)
    assert result.imaging is not None
    (level,) = result.imaging.levels
    assert level.months_after_fusion == 6
    assert level.status == "not_yet_fused"


def _revised_with_ct(*ct_dates: str, revision: dict[str, Any] | None = None) -> dict[str, Any]:
    """A surgeon's review case: L4-L5 revised for nonunion, CTs at L4-L5 on the given dates."""
    done = {"kind": "revision", "date": "2025-10-01", "levels": ["L4-L5"], "reason": "nonunion"}
    return {
        "label": "revision for nonunion; CT on file",
        "surgery": {
            "date": "2024-09-10",
            "region": "lumbar",
            "levels": ["L4-L5"],
            "approach": "TLIF",
            "instrumented": "yes",
            "operations": [revision if revision is not None else done],
        },
        "signs": {
            "mechanical_pain": "yes",
            "improved_then_worse": "yes",
            "worsening_began_month": 6,
            "focal_pain": "yes",
            "functional_impact": "yes",
        },
        "pain": {"axial": 7, "limb": 1, "pattern": "mechanical"},
        "imaging": {
            "studies": [
                {
                    "modality": "ct",
                    "date": day,
                    "levels": [{"level": "L4-L5", "interbody_bridging": "no", "bridwell": "IV"}],
                }
                for day in ct_dates
            ]
        },
    }


def _texts(result: Assessment) -> str:
    return " ".join(f"{c.summary} {c.clinician}" for c in result.recommendations)


def _fired(result: Assessment) -> set[str]:
    return {t.rule for t in result.provenance.rules if t.outcome == "fires"}


def test_a_study_before_a_later_operation_at_its_level_is_set_aside(kb: Knowledge) -> None:
    """The only CT predates the revision for nonunion: it showed the fusion that was redone, so
    it neither judges L4-L5 nor counts as the CT on record (it read 'not yet fused, month 10.7'
    and the plan compared with, or repeated, 'the CT of month 10.7')."""
    result = _run(_revised_with_ct("2025-08-01"), kb)
    assert result.imaging is not None
    assert result.imaging.levels == ()
    assert result.imaging.not_imaged == ("L4-L5",)
    assert result.derived["derived.ct_on_record"] is False
    assert result.derived["derived.last_ct_month"] is None
    assert result.derived["derived.ct_solid_fusion"] is None
    derived = {f.fact: f.derived for f in result.imaging.summary}
    assert derived["imaging.fusion_status"] is None
    assert not {"FW-NEXT-008", "FW-NEXT-009"} & _fired(result)
    assert "10.7" not in _texts(result)
    [note] = result.imaging.set_aside
    assert note.startswith("CT of 2025-08-01 at L4-L5 predates the revision at L4-L5 (2025-10-01)")
    # The clinician note's imaging section says so, though no level is left to judge.
    report = build(result, load_labels("en"), "clinician")
    [imaging] = [s for s in report.summary if s.key == "imaging"]
    assert note in imaging.lead
    assert imaging.grid is None
    # A stored result reads back with it.
    assert from_data(to_data(result)).imaging == result.imaging


def test_a_study_after_the_later_operation_counts_from_it(kb: Knowledge) -> None:
    """The CT after the revision judges L4-L5, timed from the revision; the earlier one does not."""
    result = _run(_revised_with_ct("2025-08-01", "2026-05-01"), kb)
    assert result.imaging is not None
    (level,) = result.imaging.levels
    assert level.months_after_fusion == 7
    assert level.status == "not_yet_fused"
    assert result.derived["derived.ct_on_record"] is True
    assert result.derived["derived.last_ct_month"] == 7
    assert len(result.imaging.set_aside) == 1
    # The month the CT is compared with is the one after the revision.
    assert "FW-NEXT-009" in _fired(result)
    assert "the CT of month 7" in _texts(result)


@pytest.mark.parametrize(
    "revision",
    [
        # No timing: the order is unknown, so nothing is set aside (as before).
        {"kind": "revision", "levels": ["L4-L5"], "reason": "nonunion"},
        # Another level: the reading at L4-L5 still describes the fusion there.
        {"kind": "extension", "date": "2025-10-01", "levels": ["L3-L4"]},
    ],
    ids=["undated", "other-level"],
)
def test_a_later_operation_of_unknown_order_or_elsewhere_sets_nothing_aside(
    kb: Knowledge, revision: dict[str, Any]
) -> None:
    result = _run(_revised_with_ct("2025-08-01", revision=revision), kb)
    assert result.imaging is not None
    assert result.imaging.set_aside == ()
    (level,) = result.imaging.levels
    assert level.months_after_fusion == 10.72
    assert result.derived["derived.ct_on_record"] is True
    assert result.derived["derived.last_ct_month"] == 10.72


def test_a_study_timed_in_months_is_after_the_last_operation_at_its_level(kb: Knowledge) -> None:
    data = _revised_with_ct()
    data["imaging"]["studies"] = [
        {"modality": "ct", "months_since": 4, "levels": [{"level": "L4-L5", "bridwell": "IV"}]}
    ]
    result = _run(data, kb)
    assert result.imaging is not None
    assert result.imaging.set_aside == ()
    assert result.derived["derived.last_ct_month"] == 4


def test_an_operation_before_the_index_fusion_is_refused() -> None:
    with pytest.raises(CaseError, match="before the index fusion"):
        parse_data(_history(date="2022-01-01"), AS_OF)


def test_a_reason_is_only_for_a_revision() -> None:
    with pytest.raises(CaseError, match="only given for a revision"):
        parse_data(_history(date="2026-01-01", reason="nonunion"), AS_OF)


def test_old_case_files_keep_their_timing(kb: Knowledge) -> None:
    result = _run({"surgery": {"date": "2026-05-23", "levels": ["L4-L5"]}}, kb)
    assert result.suspicion.months_since_surgery == 6
    assert result.suspicion.timed_from is None
    assert dt.date.fromisoformat(result.as_of) == AS_OF


def test_the_json_schema_describes_operations_and_new_regions() -> None:
    schema = Case.model_json_schema()
    operation = schema["$defs"]["Operation"]
    assert set(operation["properties"]) == {"kind", "date", "months_since", "levels", "reason"}
    assert operation["additionalProperties"] is False
    assert {"cervicothoracic", "thoracolumbar"} <= set(schema["$defs"]["Region"]["enum"])
    assert "operations" in schema["$defs"]["Surgery"]["properties"]


def _scored_revision() -> dict[str, Any]:
    """Index fusion 30 months ago, revised for nonunion 10 months ago; ODI before and after."""
    return {
        "surgery": {
            "months_since": 30,
            "region": "lumbar",
            "levels": ["L4-L5"],
            "operations": [
                {"kind": "revision", "months_since": 10, "levels": ["L4-L5"], "reason": "nonunion"}
            ],
        },
        "follow_up": [
            {"baseline": True, "odi": 60},
            {"month": 6, "odi": 30},
            {"month": 12, "odi": 10},
            {"month": 18, "odi": 56},  # the failed fusion, two months before the revision
            {"month": 24, "odi": 40},  # four months after the revision
            {"month": 28, "odi": 30},  # eight months after it
        ],
    }


def test_scores_count_from_a_later_operation_like_the_timing_rules(kb: Knowledge) -> None:
    result = _run(_scored_revision(), kb)
    follow_up = result.follow_up
    assert follow_up is not None
    assert follow_up.counted_from is not None
    assert follow_up.counted_from.startswith("revision at L4-L5")
    (odi,) = follow_up.trajectories
    # The latest score before the revision is the start; the months are months since the revision.
    assert odi.reference is not None
    assert (odi.reference.month, odi.reference.value, odi.reference.baseline) == (-2, 56, True)
    assert [(p.month, p.value) for p in odi.points if not p.baseline] == [(4, 40), (8, 30)]
    # Judged from the index fusion, the same scores read as improved-then-worse (sign 2): the
    # relapse before the revision must not count against the revised fusion.
    assert odi.pattern != "improved_then_worsened"
    assert result.derived["derived.scores_relapse"] is not True
    assert "before the revision" in follow_up.summaries[0]


def test_scores_without_a_later_operation_count_from_the_fusion(kb: Knowledge) -> None:
    data = _scored_revision()
    del data["surgery"]["operations"]
    data["surgery"]["months_since"] = 30
    follow_up = _run(data, kb).follow_up
    assert follow_up is not None
    assert follow_up.counted_from is None
    (odi,) = follow_up.trajectories
    assert odi.reference is not None
    assert odi.reference.value == 60
    assert "before surgery" in follow_up.summaries[0]
    # Best 10 at month 12, 30 at month 28: worse again by more than the detectable change.
    assert odi.pattern == "improved_then_worsened"


def test_an_operation_of_unspecified_kind_times_the_clock_and_is_no_failed_fusion(
    kb: Knowledge,
) -> None:
    """A later fusion whose kind the source does not say (OMOP): the clock restarts at it, and
    it is never read as a revision for nonunion; the answer stays as given."""
    data = _history(date="2026-08-23")
    data["surgery"]["operations"] = [{"kind": "unspecified", "date": "2026-08-23"}]
    result = _run(data, kb)
    assert result.suspicion.months_since_surgery == 3
    assert result.suspicion.timed_from is not None
    assert "later fusion operation (2026-08-23)" in result.suspicion.timed_from
    assert result.derived["derived.level_count"] is None  # its levels, so the count, unknown
    assert prior_failed_fusion(parse_data(data, AS_OF).surgery) is False
    data["surgery"]["operations"][0] |= {"kind": "revision", "reason": "nonunion"}
    assert prior_failed_fusion(parse_data(data, AS_OF).surgery) is True
    with pytest.raises(CaseError, match="reason is only given for a revision"):
        parse_data(
            {"surgery": {"operations": [{"kind": "unspecified", "reason": "nonunion"}]}}, AS_OF
        )


def test_months_written_into_a_text_read_to_a_tenth(kb: Knowledge) -> None:
    # The CT dated 66.53 months after the index fusion is "66.5 months" in both languages.
    path = Path(__file__).parents[1] / "examples" / "history-extension-adjacent.yaml"
    result = assess(read_case(path, AS_OF), kb, AS_OF)
    assert result.derived["derived.last_ct_month"] == 66.53
    texts = " ".join(c.patient for c in result.recommendations)
    assert "66.5 months" in texts
    assert "66.53" not in texts
    # And in the clinician's table of levels ("Decided by: CT, 66.5 months").
    grid = Words(load_labels("en"), "clinician", {}).level_grid(result.imaging)  # type: ignore[arg-type]
    assert ("L4-L5", "fused", "CT, 66.5 months") in grid.rows


def test_the_clinician_note_lists_every_operation_and_the_levels_fused_in_all(
    kb: Knowledge,
) -> None:
    """A note that said 'Fused levels: L4-L5' after an extension to T10 understated the fusion
    and left the revision for nonunion out."""
    data = _history(date="2025-10-01", levels=["T10-L4"])
    data["surgery"]["region"] = "thoracolumbar"
    data["surgery"]["operations"].insert(
        0, {"kind": "revision", "date": "2024-03-15", "levels": ["L4-L5"], "reason": "nonunion"}
    )
    case = parse_data(data, AS_OF)
    note = _surgery_lead(assess(case, kb, AS_OF), case, kb)
    assert note[1] == (
        "Operations: index fusion at L4-L5 (2023-05-10); revision for nonunion at L4-L5"
        " (2024-03-15); extension at T10-L4 (2025-10-01) · levels fused in all: T10-L5"
    )
    assert "Fused levels" not in note[0]
    # Without later operations the note keeps its one line, the index levels in it.
    data["surgery"]["operations"] = []
    case = parse_data(data, AS_OF)
    [line] = _surgery_lead(assess(case, kb, AS_OF), case, kb)
    assert "Fused levels: L4-L5;" in line
    # A later operation that does not name its levels makes the span a lower bound.
    unnamed = parse_data(_history(date="2025-10-01", levels=[]), AS_OF)
    assert _surgery_lead(assess(unnamed, kb, AS_OF), unnamed, kb)[1].endswith(
        "levels fused in all (at least; a later operation does not name its levels): L4-L5"
    )


def _surgery_lead(result: Assessment, case: Case, kb: Knowledge) -> tuple[str, ...]:
    report = for_case(result, case, load_labels("en"), "clinician")
    [surgery] = [s for s in report.summary if s.key == "surgery"]
    return surgery.lead


def test_the_engines_modality_names_are_the_catalogues() -> None:
    """core cannot read labels.yaml, so the set-aside sentence keeps a copy of the names."""
    from fusionwatch.core.derive.studies import _MODALITY

    words = load_labels("en").words.modalities
    assert {m.value: name for m, name in _MODALITY.items()} == {
        key: wording.clinician for key, wording in words.items()
    }
