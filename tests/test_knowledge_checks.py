"""The load-time checker refuses broken knowledge: each test breaks one thing on purpose."""

from typing import Any

import pytest

from fusionwatch.core.checks import check
from fusionwatch.core.knowledge import Citation, KnowledgeBase, Rule
from fusionwatch.knowledge import load

GOOD = load().data


def with_rule(**changes: Any) -> KnowledgeBase:
    first = GOOD.rules[0]
    rule = Rule.model_validate({**first.model_dump(by_alias=True), **changes})
    return GOOD.model_copy(update={"rules": (rule, *GOOD.rules[1:])})


def test_packaged_knowledge_passes() -> None:
    assert check(GOOD) == []


def test_unknown_fact_is_refused() -> None:
    kb = with_rule(when={"fact": "signs.telepathy", "is": "yes"})
    assert any("unknown fact 'signs.telepathy'" in p for p in check(kb))


def test_unknown_threshold_is_refused() -> None:
    kb = with_rule(when={"fact": "pain.axial", "gte": "pain.made_up"})
    assert any("unknown threshold 'pain.made_up'" in p for p in check(kb))


def test_rule_without_evidence_or_cases_is_refused() -> None:
    problems = check(with_rule(evidence=(), cases=()))
    assert any("no evidence" in p for p in problems)
    assert any("no worked cases" in p for p in problems)


def test_wrong_value_for_a_choice_fact_is_refused() -> None:
    kb = with_rule(when={"fact": "risk.nicotine", "equals": "vaping"})
    assert any("'vaping' is not a value of 'risk.nicotine'" in p for p in check(kb))


def test_unused_citation_is_refused() -> None:
    extra = Citation(id="orphan", title="t", source="s", strength="primary")
    kb = GOOD.model_copy(update={"citations": (*GOOD.citations, extra)})
    assert "citation 'orphan' is never used" in check(kb)


def test_unknown_citation_is_refused() -> None:
    evidence = [{"cite": "nowhere", "locator": "x", "strength": "primary"}]
    assert any("unknown citation 'nowhere'" in p for p in check(with_rule(evidence=evidence)))


def test_overlapping_rows_in_a_first_hit_table_are_refused() -> None:
    table = GOOD.tables[0]
    rows = list(table.rows)
    rows[1] = rows[1].model_copy(update={"gte": None, "gt": None})  # now overlaps row 1
    broken = table.model_copy(update={"rows": tuple(rows)})
    kb = GOOD.model_copy(update={"tables": (broken, *GOOD.tables[1:])})
    assert any("overlap" in p for p in check(kb))


def test_case_field_without_a_dictionary_entry_is_refused() -> None:
    kb = GOOD.model_copy(update={"facts": tuple(f for f in GOOD.facts if f.id != "pain.axial")})
    assert "case field 'pain.axial' has no entry in facts.yaml" in check(kb)


def test_summary_over_140_characters_is_refused_by_the_schema() -> None:
    first = GOOD.rules[0].model_dump(by_alias=True)
    first["then"]["summary"] = "x" * 141
    with pytest.raises(ValueError, match="140"):
        Rule.model_validate(first)


def test_the_default_policy_must_have_a_file() -> None:
    policies = tuple(p for p in GOOD.policies if p.id != "ncd_150_2")
    problems = check(GOOD.model_copy(update={"policies": policies}))
    assert any("default stimulator policy" in p for p in problems)


def test_a_policy_threshold_carries_the_policy_prefix() -> None:
    mp = next(p for p in GOOD.policies if p.id == "mp_524")
    renamed = mp.thresholds[0].model_copy(update={"id": "levels.more_than_one"})
    broken = mp.model_copy(update={"thresholds": (renamed, *mp.thresholds[1:])})
    policies = tuple(broken if p.id == "mp_524" else p for p in GOOD.policies)
    problems = check(GOOD.model_copy(update={"policies": policies}))
    assert any("must start with 'mp_524.'" in p for p in problems)


def test_every_imaging_citation_in_code_exists() -> None:
    # The per-level judgement cites sources by id from Python; each must be in citations.yaml.
    import re
    from pathlib import Path

    from fusionwatch.core.derive import fusion, grading

    cited: set[str] = set()
    for module in (fusion, grading):
        source = Path(module.__file__ or "").read_text(encoding="utf-8")
        cited |= set(re.findall(r'"([a-z0-9_]+)",\s*(?:_?[A-Z]+|f?"[^"]*")\s*,?\s*\)', source))
    known = {c.id for c in GOOD.citations}
    assert len(cited) >= 10, f"too few citation ids found: {cited}"
    assert cited <= known, cited - known


def test_an_emergency_finding_whose_not_sure_is_not_counted_is_refused() -> None:
    """'Not sure' about a finding that alone makes an emergency must be same-day contact
    (FW-URG-001): a clinician's 'not sure' about cauda equina used to give a routine result."""
    fact = next(f for f in GOOD.facts if f.id == "derived.emergency_not_sure")
    fewer = fact.model_copy(
        update={"derived_from": tuple(f for f in fact.derived_from if f != "exam.cauda_equina")}
    )
    facts = tuple(fewer if f.id == fact.id else f for f in GOOD.facts)
    problems = check(GOOD.model_copy(update={"facts": facts}))
    assert problems == [
        "rule FW-EMERG-009: exam.cauda_equina 'yes' makes an emergency, so its 'not sure' must be"
        " counted by derived.emergency_not_sure (derived_from)"
    ]


def test_an_implied_answer_between_facts_that_are_not_answers_is_refused() -> None:
    facts = tuple(
        f.model_copy(update={"implied_no": "risk.nicotine"}) if f.id == "signs.clicking" else f
        for f in GOOD.facts
    )
    assert check(GOOD.model_copy(update={"facts": facts})) == [
        "fact 'signs.clicking': implied_no links two answer facts given in a case"
    ]
