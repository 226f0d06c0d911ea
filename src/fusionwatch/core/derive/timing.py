"""Time since the index fusion, from its date and the assessment date (never from a clock)."""

import datetime as dt

from fusionwatch.core.case import Surgery
from fusionwatch.core.months import months_between


def months_since_surgery(surgery: Surgery, as_of: dt.date) -> float | None:
    """Months from the fusion to ``as_of``; None when neither a date nor a count was given."""
    if surgery.date is None:
        return surgery.months_since
    return months_between(surgery.date, as_of)
