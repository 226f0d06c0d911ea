"""Answers that cannot all be true at once in time: refused as input errors, never assessed.

Each range check lives on its own field in the case model; these checks compare two answers, or an
answer with the assessment date. They are logic, not clinical thresholds: a quit date cannot lie
in the future, and no one can have done more weeks of rehab since the fusion than weeks have passed.
"""

import datetime as dt

from fusionwatch.core.case import Case
from fusionwatch.core.derive.timing import months_since_surgery
from fusionwatch.core.errors import Problem

WEEKS_PER_MONTH = 365.2425 / 7 / 12
# Whole-number answers ("about 9 months", "12 weeks") are rounded by people: allow one unit.
SLACK_WEEKS, SLACK_MONTHS = 1.0, 1.0


def timeline_problems(case: Case, as_of: dt.date) -> list[Problem]:
    """Every pair of answers that contradict each other in time, each named with a reason."""
    problems: list[Problem] = []
    quit_date = case.risk.nicotine_quit_date
    if quit_date is not None and quit_date > as_of:
        problems.append(
            Problem(
                "risk.nicotine_quit_date",
                f"the quit date {quit_date} is after today ({as_of}); give a date in the past",
            )
        )
    months = months_since_surgery(case.surgery, as_of)
    if months is None:
        return problems
    weeks = months * WEEKS_PER_MONTH
    rehab = case.care.rehab_weeks
    if rehab is not None and rehab > weeks + SLACK_WEEKS:
        problems.append(
            Problem(
                "care.rehab_weeks",
                f"{rehab:g} weeks of rehab is longer than the time since surgery "
                f"(about {weeks:.0f} weeks); give the weeks done since the fusion",
            )
        )
    began = case.signs.worsening_began_month
    if began is not None and began > months + SLACK_MONTHS:
        problems.append(
            Problem(
                "signs.worsening_began_month",
                f"month {began:g} is later than the time since surgery (about {months:.0f} "
                "months); give the month after the last fusion operation when the pain came back",
            )
        )
    return problems
