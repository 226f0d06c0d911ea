"""The few SQL constructs that differ between DuckDB and Spark SQL; everything else is shared."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True, slots=True)
class Dialect:
    """How one engine spells date arithmetic and array lookup (the compiler emits plain ANSI SQL
    otherwise)."""

    name: Literal["duckdb", "spark"]

    def add_months(self, day: str, months: str) -> str:
        # Both clamp to the month's last day (31 January + 1 month = 28/29 February), like
        # core.months.add_months; Spark 3+ no longer moves a month-end date to the next month-end.
        if self.name == "duckdb":
            return f"CAST(({day}) + TO_MONTHS(CAST({months} AS INTEGER)) AS DATE)"
        return f"add_months({day}, CAST({months} AS INT))"

    def days_between(self, start: str, end: str) -> str:
        if self.name == "duckdb":
            return f"DATEDIFF('day', {start}, {end})"
        return f"datediff({end}, {start})"

    def date_literal(self, iso: str) -> str:
        return f"DATE '{iso}'"

    def pick(self, items: Sequence[str], index: str) -> str:
        """Item ``index`` (from 1) of a constant array of SQL values."""
        if self.name == "duckdb":
            return f"[{', '.join(items)}][{index}]"
        return f"element_at(array({', '.join(items)}), {index})"


DUCKDB = Dialect("duckdb")
SPARK = Dialect("spark")
