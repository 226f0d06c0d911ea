"""Calendar months between two dates in SQL, counted exactly as ``core.months.months_between``."""

from fusionwatch.core.months import DAYS_PER_MONTH
from fusionwatch.screen.dialect import Dialect


def months_sql(dialect: Dialect, start: str, end: str) -> str:
    """Whole calendar months, then the remaining days over the mean month, to two decimals."""
    whole = (
        f"((YEAR({end}) - YEAR({start})) * 12 + MONTH({end}) - MONTH({start})"
        f" - CASE WHEN DAY({end}) < DAY({start}) THEN 1 ELSE 0 END)"
    )
    anchor = dialect.add_months(start, whole)
    return f"ROUND({whole} + {dialect.days_between(anchor, end)} / {DAYS_PER_MONTH!r}, 2)"


def signed_months_sql(dialect: Dialect, start: str, end: str) -> str:
    """Negative when ``end`` is before ``start``, as the engine counts a pre-operative visit."""
    return (
        f"(CASE WHEN {end} < {start} THEN -{months_sql(dialect, end, start)}"
        f" ELSE {months_sql(dialect, start, end)} END)"
    )
