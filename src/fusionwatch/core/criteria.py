"""Plain descriptions of a rule's criteria, each with its outcome (met / unmet / unknown)."""

from collections.abc import Mapping

from fusionwatch.core.knowledge import (
    AllOf,
    AnyOf,
    AtLeast,
    Compare,
    Condition,
    Equals,
    Is,
    Known,
    NoneOf,
    OneOf,
)
from fusionwatch.core.logic import parts

_OPS = {"gt": ">", "gte": "≥", "lt": "<", "lte": "≤"}
OUTCOME = {True: "met", False: "unmet", None: "unknown"}
_GROUPS: dict[type, str] = {AllOf: "all of", AnyOf: "any of", NoneOf: "none of"}


def top_parts(cond: Condition) -> tuple[Condition, ...]:
    """The criteria of a rule: the parts of a top-level 'all', else the condition itself."""
    return cond.all if isinstance(cond, AllOf) else (cond,)


def describe(cond: Condition, labels: Mapping[str, str], values: Mapping[str, float]) -> str:
    """A condition in words, with threshold values written out."""
    inner = parts(cond)
    if not inner:
        return _leaf(cond, labels, values)
    words = "; ".join(describe(p, labels, values) for p in inner)
    if isinstance(cond, AtLeast):
        return f"at least {cond.at_least} of ({words})"
    return f"{_GROUPS[type(cond)]} ({words})"


def _leaf(cond: Condition, labels: Mapping[str, str], values: Mapping[str, float]) -> str:
    if isinstance(cond, Is):
        return f"{labels[cond.fact]}: {cond.is_}"
    if isinstance(cond, Equals | OneOf):
        allowed = (cond.equals,) if isinstance(cond, Equals) else cond.in_
        # Criteria are read by people: a choice such as not_yet_fused reads "not yet fused".
        return f"{labels[cond.fact]} is {' or '.join(v.replace('_', ' ') for v in allowed)}"
    if isinstance(cond, Compare):
        bounds = " and ".join(f"{_OPS[op]} {values[ref]:g}" for op, ref in cond.bounds())
        return f"{labels[cond.fact]} {bounds}"
    return f"{labels[cond.known]} is known" if isinstance(cond, Known) else str(cond)
