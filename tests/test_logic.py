"""Kleene three-valued logic: unknown never silently becomes no."""

import pytest

from fusionwatch.core.knowledge import AllOf, AnyOf, AtLeast, Compare, Is, Known, NoneOf
from fusionwatch.core.logic import compile_condition

A = Is(fact="a", **{"is": "yes"})
B = Is(fact="b", **{"is": "yes"})
VALUES = [True, False, None]


def run(cond, env):  # type: ignore[no-untyped-def]
    return compile_condition(cond, {"t": 5.0}).run(env)


@pytest.mark.parametrize("a", VALUES)
@pytest.mark.parametrize("b", VALUES)
def test_all_any_none_follow_kleene(a: bool | None, b: bool | None) -> None:
    env = {"a": a, "b": b}
    expected_all = False if False in (a, b) else (None if None in (a, b) else True)
    expected_any = True if True in (a, b) else (None if None in (a, b) else False)
    assert run(AllOf(all=(A, B)), env) is expected_all
    assert run(AnyOf(any=(A, B)), env) is expected_any
    expected_none = None if expected_any is None else not expected_any
    assert run(NoneOf(none=(A, B)), env) is expected_none


def test_is_no_on_unknown_stays_unknown() -> None:
    assert run(Is(fact="a", **{"is": "no"}), {"a": None}) is None
    assert run(Is(fact="a", **{"is": "no"}), {"a": False}) is True


def test_comparison_with_threshold_and_unknown() -> None:
    cond = Compare(fact="x", gte="t")
    assert run(cond, {"x": 5}) is True
    assert run(cond, {"x": 4.99}) is False
    assert run(cond, {}) is None


def test_at_least_counts_unknowns_as_possible() -> None:
    cond = AtLeast(at_least=2, of=(A, B, Is(fact="c", **{"is": "yes"})))
    assert run(cond, {"a": True, "b": True}) is True
    assert run(cond, {"a": True, "b": None, "c": False}) is None
    assert run(cond, {"a": True, "b": False, "c": False}) is False


def test_known_is_never_unknown() -> None:
    assert run(Known(known="x"), {"x": 0}) is True
    assert run(Known(known="x"), {}) is False
