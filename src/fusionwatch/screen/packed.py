"""Worklist texts made of fixed items (rule ids, reasons, open questions), packed as small codes.

Such a text is the items whose test holds, in a fixed order, joined by a separator:
``concat_ws(sep, CASE WHEN test THEN 'item' END, ...)``. Building it row by row over a hundred
items costs more CPU than the rules themselves, and a table or sort that carries the long strings
copies them again. So the screen packs each run of up to ``BITS`` items into one small integer
(an item's bit is set when its test holds: plain arithmetic, the same on every engine), and the
text is built from those codes only where it is read: each code picks the joined text of its
run from a constant array of every combination, and the runs are joined with the same
separator. The result is the same text as the ``concat_ws`` over every item.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from fusionwatch.screen.compiler import literal
from fusionwatch.screen.dialect import Dialect

# Items per code: an array of 2**BITS texts per code (fewer codes, longer SQL as BITS grows).
BITS = 8


@dataclass(frozen=True, slots=True)
class Packed:
    """One text column: ``items`` as (text, SQL test) in output order, joined by ``separator``."""

    name: str
    separator: str
    items: Sequence[tuple[str, str]]
    bits: int = BITS

    def _runs(self) -> list[Sequence[tuple[str, str]]]:
        return [self.items[i : i + self.bits] for i in range(0, len(self.items), self.bits)]

    def code_names(self) -> list[str]:
        return [f"{self.name}__{i}" for i in range(len(self._runs()))]

    def codes(self) -> list[tuple[str, str]]:
        """(column, SQL) of the codes: bit ``k`` of code ``i`` is item ``i * bits + k``."""
        return [
            (
                name,
                "("
                + " + ".join(
                    f"CASE WHEN {test} THEN {1 << k} ELSE 0 END" for k, (_, test) in enumerate(run)
                )
                + ")",
            )
            for name, run in zip(self.code_names(), self._runs(), strict=True)
        ]

    def text(self, dialect: Dialect, prefix: str = "") -> str:
        """SQL of the text from the code columns (``prefix`` qualifies them, e.g. ``t.``)."""
        if not self.items:
            return "''"
        picks = []
        for name, run in zip(self.code_names(), self._runs(), strict=True):
            texts = []
            for combination in range(1 << len(run)):
                chosen = [item for k, (item, _) in enumerate(run) if combination >> k & 1]
                texts.append(literal(self.separator.join(chosen)) if chosen else "NULL")
            picks.append(dialect.pick(texts, f"{prefix}{name} + 1"))
        return f"concat_ws({literal(self.separator)}, {', '.join(picks)})"
