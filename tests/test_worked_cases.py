"""Every rule's worked cases, run against the compiled rule exactly as the engine runs it."""

import pytest

from fusionwatch.core.compiled import Knowledge
from fusionwatch.knowledge import load

RULES = load().data.rules
CASES = [(rule.id, case) for rule in RULES for case in rule.cases]
OUTCOME = {True: "fires", False: "quiet", None: "unknown"}


@pytest.mark.parametrize(("rule_id", "case"), CASES, ids=[f"{r}:{c.name}" for r, c in CASES])
def test_worked_case(kb: Knowledge, rule_id: str, case) -> None:  # type: ignore[no-untyped-def]
    compiled = next(c for kind in kb.rules.values() for c in kind if c.rule.id == rule_id)
    outcome = OUTCOME[compiled.when.run(dict(case.given))]
    assert outcome == case.expect.value, f"{rule_id} {case.name!r}: got {outcome}"


def test_every_rule_has_a_firing_and_a_non_firing_case() -> None:
    for rule in RULES:
        expected = {c.expect.value for c in rule.cases}
        assert "fires" in expected, f"{rule.id} never shows itself firing"
        if rule.kind.value not in {"management"}:
            assert expected - {"fires"}, f"{rule.id} never shows itself staying quiet or unknown"
