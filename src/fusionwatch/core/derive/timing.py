"""Time since the index fusion, from its date and the assessment date (never from a clock)."""

import datetime as dt

from fusionwatch.core.case import Surgery

# The mean Gregorian month, used only for the days beyond the last whole calendar month.
DAYS_PER_MONTH = 365.2425 / 12


def months_since_surgery(surgery: Surgery, as_of: dt.date) -> float | None:
    """Months from the fusion to ``as_of``; None when neither a date nor a count was given.

    Whole calendar months are counted first, so an anniversary (1 March to 1 June, or exactly
    one year) lands on the whole number and never just below a 3-, 6- or 12-month line.
    """
    if surgery.date is None:
        return surgery.months_since
    return months_between(surgery.date, as_of)


def months_between(start: dt.date, end: dt.date) -> float:
    """Months from ``start`` to ``end``, whole calendar months first (see above)."""
    whole = (end.year - start.year) * 12 + end.month - start.month
    if end.day < start.day:
        whole -= 1
    anchor = _add_months(start, whole)
    return round(whole + (end - anchor).days / DAYS_PER_MONTH, 2)


def _add_months(day: dt.date, months: int) -> dt.date:
    year, month = divmod(day.month - 1 + months, 12)
    target_year, target_month = day.year + year, month + 1
    # A 31st with no match in a shorter month falls on that month's last day.
    for candidate in (day.day, 30, 29, 28):
        try:
            return dt.date(target_year, target_month, min(day.day, candidate))
        except ValueError:
            continue
    raise ValueError(f"cannot add {months} months to {day}")
