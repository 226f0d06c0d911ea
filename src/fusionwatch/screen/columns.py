"""How each episode column is read from a source cell and checked, as SQL over the raw text.

Every check is vectorised: one aggregate query finds whether any row breaks a rule, and only
then is the first such row looked up to name it. Codes and bounds come from the case model, so
the registry accepts exactly what a case file accepts.
"""

import types
import typing
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import annotated_types
from pydantic import BaseModel

from fusionwatch.core.case import Case
from fusionwatch.core.knowledge import Fact, FactType
from fusionwatch.screen.compiler import literal, number


@dataclass(frozen=True, slots=True)
class Check:
    """A condition that marks a bad cell, and what to say about it."""

    column: str
    bad: str
    message: str
    # A cheaper condition that holds on every row where ``bad`` holds (for example "not one of
    # the codes as written"): the file is scanned with it first, and ``bad`` is evaluated only
    # for the columns where it found something.
    quick: str | None = None


@dataclass(frozen=True, slots=True)
class Reading:
    """The SQL that turns a raw cell into the typed value, and the checks it must pass."""

    value: str
    checks: tuple[Check, ...]


def field_spec(path: str, model: type[BaseModel] = Case) -> tuple[Any, float | None, float | None]:
    """The Python type and the bounds of a model field named by its dotted path."""
    parts = path.split(".")
    for part in parts[:-1]:
        model = model.model_fields[part].annotation  # type: ignore[assignment]
    info = model.model_fields[parts[-1]]
    low, high = _bounds(info.metadata, None, None)
    annotation: Any = info.annotation
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        annotation = next(a for a in typing.get_args(annotation) if a is not type(None))
    if typing.get_origin(annotation) is typing.Annotated:
        inner, *extra = typing.get_args(annotation)
        for meta in extra:
            low, high = _bounds(getattr(meta, "metadata", [meta]), low, high)
        annotation = inner
    return annotation, low, high


def _bounds(
    metadata: Any, low: float | None, high: float | None
) -> tuple[float | None, float | None]:
    for meta in metadata:
        if isinstance(meta, annotated_types.Ge):
            low = float(meta.ge)  # type: ignore[arg-type]
        if isinstance(meta, annotated_types.Le):
            high = float(meta.le)  # type: ignore[arg-type]
    return low, high


def text(cell: str) -> str:
    return f"NULLIF(TRIM(CAST({cell} AS VARCHAR)), '')"


_NUMERIC = ("DOUBLE", "FLOAT", "BIGINT", "INTEGER", "SMALLINT", "TINYINT", "HUGEINT", "DECIMAL")


# "Not sure" (asked, could not say) is unknown to the rules but is recorded apart (decision 0009).
NOT_SURE_CODES = ("not_sure", "not sure")


def answer(cell: str, name: str, raw: str = "VARCHAR") -> Reading:
    if raw == "BOOLEAN":
        return Reading(cell, ())
    v = f"LOWER({text(cell)})"
    codes = ", ".join(
        literal(c) for c in ("yes", "no", "unknown", "true", "false", *NOT_SURE_CODES)
    )
    bad = f"{v} IS NOT NULL AND {v} NOT IN ({codes})"
    value = (
        f"(CASE WHEN {v} IN ('yes', 'true') THEN TRUE WHEN {v} IN ('no', 'false') THEN FALSE END)"
    )
    if raw == "VARCHAR":  # the codes as written: no trimming or case folding for them
        value = _fast(cell, "('yes')", "TRUE", "('no')", "FALSE", value)
        bad = f"(CASE WHEN {cell} IS NULL OR {cell} IN ('yes', 'no') THEN FALSE ELSE {bad} END)"
        written = " AND ".join(f"{cell} <> {literal(c)}" for c in ("yes", "no", NOT_SURE_CODES[0]))
        message = "must be yes, no, not_sure or unknown (or empty)"
        return Reading(value, (Check(name, bad, message, quick=written),))
    return Reading(value, (Check(name, bad, "must be yes, no, not_sure or unknown (or empty)"),))


def _fast(  # noqa: PLR0917
    cell: str, first: str, first_value: str, second: str, second_value: str, slow: str
) -> str:
    """A CASE that settles the common exact codes before the slower normalised reading."""
    return (
        f"(CASE WHEN {cell} IS NULL THEN NULL WHEN {cell} IN {first} THEN {first_value}"
        f" WHEN {cell} IN {second} THEN {second_value} ELSE {slow} END)"
    )


def unsure(cell: str, fact: str, raw: str = "VARCHAR") -> str | None:
    """SQL giving the fact id when the answer cell says "not sure" (None for typed booleans)."""
    if raw == "BOOLEAN":
        return None
    codes = ", ".join(literal(c) for c in NOT_SURE_CODES)
    # The code as written first, then other spellings only for cells that are not yes or no (a
    # NULL cell fails both tests): about half the cost of one CASE with a NULL branch.
    return (
        f"CASE WHEN {cell} = {literal(NOT_SURE_CODES[0])} THEN {literal(fact)}"
        f" WHEN {cell} <> 'yes' AND {cell} <> 'no' AND LOWER({text(cell)}) IN ({codes})"
        f" THEN {literal(fact)} END"
    )


def choice(cell: str, name: str, fact: Fact, raw: str = "VARCHAR") -> Reading:
    kind = field_spec(fact.id)[0]
    allowed = (
        [m.value for m in kind]
        if isinstance(kind, type) and issubclass(kind, StrEnum)
        else list(fact.values)
    )
    v = text(cell)
    codes = ", ".join(literal(a) for a in allowed)
    bad = f"{v} IS NOT NULL AND {v} NOT IN ({codes})"
    # A code the model knows but the rules do not read as a value (not examined) is unknown.
    used = ", ".join(literal(a) for a in fact.values) or "''"
    value = f"(CASE WHEN {v} IN ({used}) THEN {v} END)"
    message = f"unknown code; expected one of: {', '.join(allowed)}"
    if raw == "VARCHAR":  # the codes as written: no trimming for them
        value = f"(CASE WHEN {cell} IS NULL THEN NULL WHEN {cell} IN ({used}) THEN {cell} ELSE {value} END)"
        bad = f"(CASE WHEN {cell} IS NULL OR {cell} IN ({codes}) THEN FALSE ELSE {bad} END)"
        return Reading(value, (Check(name, bad, message, quick=f"{cell} NOT IN ({codes})"),))
    return Reading(value, (Check(name, bad, message),))


def numeric(
    cell: str, name: str, path: str, model: type[BaseModel] = Case, raw: str = "VARCHAR"
) -> Reading:
    kind, low, high = field_spec(path, model)
    checks: list[Check] = []
    if raw.startswith(_NUMERIC):
        value = f"CAST({cell} AS DOUBLE)"  # typed Parquet: no text round trip
    else:
        v = text(cell)
        value = f"TRY_CAST({v} AS DOUBLE)"
        checks.append(Check(name, f"{v} IS NOT NULL AND {value} IS NULL", "must be a number"))
    if low is not None:
        checks.append(Check(name, f"{value} < {number(low)}", f"must be at least {low:g}"))
    if high is not None:
        checks.append(Check(name, f"{value} > {number(high)}", f"must be at most {high:g}"))
    if kind is int:
        checks.append(Check(name, f"{value} <> ROUND({value})", "must be a whole number"))
    return Reading(value, tuple(checks))


def date(cell: str, name: str, raw: str = "VARCHAR") -> Reading:
    if raw == "DATE":
        return Reading(cell, ())
    v = text(cell)
    value = f"TRY_CAST({v} AS DATE)"
    return Reading(
        value, (Check(name, f"{v} IS NOT NULL AND {value} IS NULL", "must be a date (YYYY-MM-DD)"),)
    )


def reading(cell: str, name: str, fact: Fact, raw: str = "VARCHAR") -> Reading:
    """How to read one fact's column, given the column's type in the source (text for CSV)."""
    if fact.type is FactType.ANSWER:
        return answer(cell, name, raw)
    if fact.type is FactType.CHOICE:
        return choice(cell, name, fact, raw)
    if fact.type is FactType.NUMBER:
        return numeric(cell, name, fact.id, raw=raw)
    if fact.type is FactType.DATE:
        return date(cell, name, raw)
    return Reading(text(cell), ())
