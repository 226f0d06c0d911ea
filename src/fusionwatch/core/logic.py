"""Three-valued (Kleene) logic: conditions compile to functions returning True, False or None.

None is UNKNOWN. ``all`` is False if any part is False, else unknown if any part is unknown;
``any`` is True if any part is True, else unknown if any part is unknown. Missing data therefore
never silently becomes "no" (CQL and SQL null logic work the same way).
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from operator import ge, gt, le, lt
from typing import cast

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

Tri = bool | None
Env = Mapping[str, object]
Predicate = Callable[[Env], Tri]
_OPS = {"gt": gt, "gte": ge, "lt": lt, "lte": le}


@dataclass(frozen=True, slots=True)
class Compiled:
    """A condition ready to run, with the facts it reads (for explanations and missing data)."""

    run: Predicate
    facts: tuple[str, ...]


def facts_of(cond: Condition) -> tuple[str, ...]:
    """Every fact a condition reads, in first-seen order."""
    if isinstance(cond, Is | Equals | OneOf | Compare):
        return (cond.fact,)
    if isinstance(cond, Known):
        return (cond.known,)
    seen: dict[str, None] = {}
    for part in parts(cond):
        seen.update(dict.fromkeys(facts_of(part)))
    return tuple(seen)


def thresholds_of(cond: Condition) -> tuple[str, ...]:
    """Every threshold id a condition names."""
    if isinstance(cond, Compare):
        return tuple(ref for _, ref in cond.bounds())
    if isinstance(cond, Is | Equals | OneOf | Known):
        return ()
    return tuple(t for part in parts(cond) for t in thresholds_of(part))


def leaves(cond: Condition) -> tuple[Condition, ...]:
    """Every leaf test (is / equals / in / compare / known) inside a condition."""
    inner = parts(cond)
    return tuple(leaf for part in inner for leaf in leaves(part)) if inner else (cond,)


def compile_condition(cond: Condition, thresholds: Mapping[str, float]) -> Compiled:
    return Compiled(_compile(cond, thresholds), facts_of(cond))


def parts(cond: Condition) -> tuple[Condition, ...]:
    """The sub-conditions of a group (all / any / none / at least); empty for a leaf."""
    if isinstance(cond, AllOf):
        return cond.all
    if isinstance(cond, AnyOf):
        return cond.any
    if isinstance(cond, NoneOf):
        return cond.none
    if isinstance(cond, AtLeast):
        return cond.of
    return ()


def _compile(cond: Condition, thresholds: Mapping[str, float]) -> Predicate:  # noqa: PLR0911
    if isinstance(cond, Is):
        return _is(cond.fact, cond.is_ == "yes")
    if isinstance(cond, Equals):
        return _one_of(cond.fact, frozenset({cond.equals}))
    if isinstance(cond, OneOf):
        return _one_of(cond.fact, frozenset(cond.in_))
    if isinstance(cond, Known):
        fact = cond.known
        return lambda env: env.get(fact) is not None
    if isinstance(cond, Compare):
        checks = tuple((_OPS[op], thresholds[ref]) for op, ref in cond.bounds())
        return _compare(cond.fact, checks)
    inner = tuple(_compile(p, thresholds) for p in parts(cond))
    if isinstance(cond, AllOf):
        return _all(inner)
    if isinstance(cond, AnyOf):
        return _any(inner)
    if isinstance(cond, NoneOf):
        return _negate(_any(inner))
    return _at_least(cond.at_least, inner)


def _is(fact: str, wanted: bool) -> Predicate:
    def run(env: Env) -> Tri:
        value = env.get(fact)
        return None if value is None else value is wanted

    return run


def _one_of(fact: str, allowed: frozenset[str]) -> Predicate:
    def run(env: Env) -> Tri:
        value = env.get(fact)
        return None if value is None else value in allowed

    return run


def _compare(
    fact: str, checks: tuple[tuple[Callable[[float, float], bool], float], ...]
) -> Predicate:
    def run(env: Env) -> Tri:
        value = env.get(fact)
        if value is None:
            return None
        number = cast(float, value)
        return all(op(number, limit) for op, limit in checks)

    return run


def _all(parts: tuple[Predicate, ...]) -> Predicate:
    def run(env: Env) -> Tri:
        result: Tri = True
        for part in parts:
            value = part(env)
            if value is False:
                return False
            if value is None:
                result = None
        return result

    return run


def _any(parts: tuple[Predicate, ...]) -> Predicate:
    def run(env: Env) -> Tri:
        result: Tri = False
        for part in parts:
            value = part(env)
            if value is True:
                return True
            if value is None:
                result = None
        return result

    return run


def _negate(inner: Predicate) -> Predicate:
    def run(env: Env) -> Tri:
        value = inner(env)
        return None if value is None else not value

    return run


def _at_least(needed: int, parts: tuple[Predicate, ...]) -> Predicate:
    def run(env: Env) -> Tri:
        true = unknown = 0
        for part in parts:
            value = part(env)
            if value is True:
                true += 1
            elif value is None:
                unknown += 1
        if true >= needed:
            return True
        return None if true + unknown >= needed else False

    return run
