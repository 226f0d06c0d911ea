"""Calendar months between two dates, counted the way clinic letters count them."""

import datetime as dt

# The mean Gregorian month, used only for the days beyond the last whole calendar month.
DAYS_PER_MONTH = 365.2425 / 12


def months_between(start: dt.date, end: dt.date) -> float:
    """Months from ``start`` to ``end`` (negative when ``end`` is earlier), to two decimals.

    Whole calendar months are counted first, so an anniversary (1 March to 1 June, or exactly
    one year) lands on the whole number and never just below a 3-, 6- or 12-month line.
    """
    if end < start:
        return -months_between(end, start)
    whole = (end.year - start.year) * 12 + end.month - start.month
    if end.day < start.day:
        whole -= 1
    anchor = add_months(start, whole)
    return round(whole + (end - anchor).days / DAYS_PER_MONTH, 2)


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` calendar months later (the last day when the month is shorter)."""
    year, month = divmod(day.month - 1 + months, 12)
    target_year, target_month = day.year + year, month + 1
    # A 31st with no match in a shorter month falls on that month's last day.
    for candidate in (day.day, 30, 29, 28):
        try:
            return dt.date(target_year, target_month, min(day.day, candidate))
        except ValueError:
            continue
    raise ValueError(f"cannot add {months} months to {day}")
