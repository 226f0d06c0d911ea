"""Time since the index fusion, from its date and the assessment date (never from a clock)."""

import datetime as dt

from fusionwatch.core.case import Surgery

# The mean Gregorian month, so that 12 "months" is one year of days.
DAYS_PER_MONTH = 365.2425 / 12


def months_since_surgery(surgery: Surgery, as_of: dt.date) -> float | None:
    """Months from the fusion to ``as_of``; None when neither a date nor a count was given."""
    if surgery.date is not None:
        return round((as_of - surgery.date).days / DAYS_PER_MONTH, 2)
    return surgery.months_since
