"""The fused levels and the operation history of an episode, judged by the case model itself.

How many segments and vertebrae are fused (index fusion and later operations together), and
whether the history shows a revision for nonunion at earlier fused levels, are worked out once
per distinct history (levels, region, and each operation's kind, reason and levels, in order)
with the case model's validation and ``core.derive.timing``, then joined to every row. Real
registries hold few distinct histories, so this is a small table, not a loop over people.
"""

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from pydantic import ValidationError

from fusionwatch.core.case import Surgery
from fusionwatch.core.derive.timing import prior_failed_fusion

# One operation in a history key: kind|reason|levels; operations joined in order by '#'.
FIELD_SEP, OP_SEP, LEVEL_SEP = "|", "#", ";"


@dataclass(frozen=True, slots=True)
class History:
    """What the rules read from the levels and the operation history."""

    level_count: float | None
    vertebra_count: float | None
    levels_at_least: float | None
    vertebrae_at_least: float | None
    failed_fusion: bool

    @property
    def counts(self) -> tuple[float | None, ...]:
        """The level facts, in the order of ``schema.LEVEL_FACTS``."""
        return (
            self.level_count,
            self.vertebra_count,
            self.levels_at_least,
            self.vertebrae_at_least,
        )


def operation_key(kind: str, reason: str | None, levels: str | None) -> str:
    return FIELD_SEP.join((kind, reason or "", levels or ""))


def history_key(operations: Iterable[tuple[str, str | None, str | None]]) -> str:
    """The operations (kind, reason, levels) of one episode, in order, as one text key."""
    return OP_SEP.join(operation_key(*op) for op in operations)


def split_levels(levels: str | None) -> list[str]:
    return [p.strip() for p in (levels or "").replace(",", LEVEL_SEP).split(LEVEL_SEP) if p.strip()]


def surgery_of(levels: str | None, region: str | None, operations: str | None) -> Surgery:
    """The case model's surgery from a history key's parts; ``ValueError`` (the case model's
    message) when it is not valid."""
    ops = []
    for op in (operations or "").split(OP_SEP) if operations else ():
        kind, reason, op_levels = op.split(FIELD_SEP)
        entry: dict[str, object] = {"kind": kind, "levels": split_levels(op_levels)}
        if reason:
            entry["reason"] = reason
        ops.append(entry)
    data: dict[str, object] = {"levels": split_levels(levels), "operations": ops}
    if region:
        data["region"] = region
    return Surgery.model_validate_json(json.dumps(data))


@lru_cache(maxsize=65536)
def judge(levels: str | None, region: str | None, operations: str | None) -> History:
    """The history facts; ``ValueError`` (the case model's message) when it is not valid."""
    return history_of(surgery_of(levels, region, operations))


def history_of(surgery: Surgery) -> History:
    """The history facts of a validated surgery (``core.case`` and ``core.derive.timing``)."""
    return History(
        count_as_float(surgery.level_count),
        count_as_float(surgery.vertebra_count),
        count_as_float(surgery.levels_at_least),
        count_as_float(surgery.vertebrae_at_least),
        prior_failed_fusion(surgery),
    )


def segments(levels: str | None, region: str | None) -> tuple[str, ...]:
    """The index fusion's levels as distinct segments (spans expanded), as the case model reads them."""
    return surgery_of(levels, region, None).levels


def message(err: ValueError) -> str:
    """The case model's own sentence for a refused history."""
    if isinstance(err, ValidationError) and err.errors():
        return str(err.errors()[0]["msg"]).removeprefix("Value error, ")
    return str(err)


def judged(rows: Sequence[tuple[str | None, str | None, str | None]]) -> list[History]:
    """``judge`` for each (levels, region, operations key)."""
    return [judge(*row) for row in rows]


def count_as_float(count: int | None) -> float | None:
    return None if count is None else float(count)
