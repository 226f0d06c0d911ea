"""Outcome scores over time: one visit per time point, checked against the surgery they follow.

Only numbers are accepted, never questionnaire wording (each instrument's origin is cited in the
``glossary-outcome-scores`` education item). A visit is pre-operative (``baseline``), dated, or
placed by months since the fusion. Plausible ranges are the instruments' own scales.
"""

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, model_validator

from fusionwatch.core.months import months_between
from fusionwatch.core.vocab import Region


class Instrument(StrEnum):
    """The scores fusionwatch reads; each value is also the case-file and CSV column name."""

    NRS_AXIAL = "nrs_axial"
    NRS_LIMB = "nrs_limb"
    ODI = "odi"
    NDI = "ndi"
    PROMIS_PF = "promis_pf"
    EQ5D_INDEX = "eq5d_index"
    WALKING_MINUTES = "walking_minutes"


class Analgesics(StrEnum):
    """Pain medicine in use at the visit (recorded and shown; not scored)."""

    NONE = "none"
    OCCASIONAL = "occasional"
    DAILY = "daily"
    OPIOID = "opioid"


# Plain names for reports and charts, with the direction that means "better".
INSTRUMENT_LABEL: dict[Instrument, str] = {
    Instrument.NRS_AXIAL: "Back or neck pain (0-10)",
    Instrument.NRS_LIMB: "Leg or arm pain (0-10)",
    Instrument.ODI: "Disability, ODI (0-100)",
    Instrument.NDI: "Neck disability, NDI (0-100)",
    Instrument.PROMIS_PF: "Physical function, PROMIS T-score",
    Instrument.EQ5D_INDEX: "Quality of life, EQ-5D index",
    Instrument.WALKING_MINUTES: "Walking without a stop (minutes)",
}
# Function, quality of life and walking: higher is better. Pain and disability: lower is better.
HIGHER_IS_BETTER = frozenset(
    {Instrument.PROMIS_PF, Instrument.EQ5D_INDEX, Instrument.WALKING_MINUTES}
)
# The disability index must fit the fused region: ODI was built for low back, NDI for the neck.
_REFUSED_IN: dict[Instrument, frozenset[Region]] = {
    Instrument.ODI: frozenset({Region.CERVICAL}),
    Instrument.NDI: frozenset({Region.THORACIC, Region.LUMBAR, Region.LUMBOSACRAL}),
}


class Visit(BaseModel):
    """The scores recorded at one time point."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    baseline: bool = Field(False, description="true for the pre-operative measurement")
    date: dt.date | None = Field(None, description="date of the visit")
    month: float | None = Field(None, ge=0, le=600, description="months after the fusion")
    nrs_axial: float | None = Field(None, ge=0, le=10, description="back or neck pain, NRS 0-10")
    nrs_limb: float | None = Field(None, ge=0, le=10, description="leg or arm pain, NRS 0-10")
    odi: float | None = Field(None, ge=0, le=100, description="Oswestry Disability Index, 0-100")
    ndi: float | None = Field(None, ge=0, le=100, description="Neck Disability Index, 0-100 %")
    promis_pf: float | None = Field(
        None, ge=10, le=90, description="PROMIS Physical Function T-score"
    )
    eq5d_index: float | None = Field(None, ge=-1, le=1, description="EQ-5D index value")
    walking_minutes: float | None = Field(
        None, ge=0, le=1440, description="minutes the person can walk without stopping"
    )
    analgesics: Analgesics | None = None

    @model_validator(mode="after")
    def _placed_once(self) -> "Visit":
        if self.baseline and self.month is not None:
            raise ValueError("a baseline (pre-operative) visit takes no month; leave month empty")
        if not self.baseline and (self.date is None) == (self.month is None):
            raise ValueError("give either date or month for a follow-up visit, not both or neither")
        if not self.scores() and self.analgesics is None:
            raise ValueError("a visit needs at least one score")
        return self

    def scores(self) -> dict[Instrument, float]:
        """The scores recorded at this visit, by instrument."""
        found = {i: getattr(self, i.value) for i in Instrument}
        return {i: v for i, v in found.items() if v is not None}

    def key(self) -> str:
        """How the visit is named in messages: baseline, its date, or its month."""
        if self.baseline:
            return "baseline"
        return self.date.isoformat() if self.date is not None else f"month {self.month:g}"


@dataclass(frozen=True, slots=True)
class VisitProblem:
    """A problem with one visit of a series (``index`` counts from 0 in the given order)."""

    index: int
    field: str
    message: str


def visit_month(visit: Visit, surgery_date: dt.date | None) -> float | None:
    """Months after the fusion (negative before it); None when it cannot be placed."""
    if visit.month is not None:
        return visit.month
    if visit.date is not None and surgery_date is not None:
        return months_between(surgery_date, visit.date)
    return None


def visit_problems(
    visits: tuple[Visit, ...], surgery: Any, as_of: dt.date | None
) -> list[VisitProblem]:
    """Everything wrong with a series given the surgery (region, date) and the assessment date."""
    region = getattr(surgery, "region", None)
    surgery_date = getattr(surgery, "date", None)
    problems = _region_problems(visits, region)
    seen: dict[float | str, int] = {}
    for index, visit in enumerate(visits):
        problems += _date_problems(index, visit, surgery_date, as_of)
        month = visit_month(visit, surgery_date)
        slot: float | str = "baseline" if visit.baseline else month if month is not None else ""
        if slot in seen:
            where = f"the same time point as visit {seen[slot] + 1}"
            problems.append(VisitProblem(index, "when", f"{visit.key()} is {where}"))
        seen.setdefault(slot, index)
    return problems


def _region_problems(visits: tuple[Visit, ...], region: Region | None) -> list[VisitProblem]:
    problems = []
    used = {i for v in visits for i in v.scores()}
    for index, visit in enumerate(visits):
        for instrument in visit.scores():
            if region is not None and region in _REFUSED_IN.get(instrument, ()):
                other = "ndi" if instrument is Instrument.ODI else "odi"
                message = f"does not fit a {region} fusion; use {other} for this region"
                problems.append(VisitProblem(index, instrument.value, message))
    if region is None and {Instrument.ODI, Instrument.NDI} <= used:
        message = "odi and ndi in one series: give surgery.region or keep the one that fits"
        problems.append(VisitProblem(0, "odi", message))
    return problems


def _date_problems(
    index: int, visit: Visit, surgery_date: dt.date | None, as_of: dt.date | None
) -> list[VisitProblem]:
    if visit.date is None:
        return []
    found = []
    if as_of is not None and visit.date > as_of:
        found.append(f"{visit.date} is after the assessment date {as_of}")
    if surgery_date is None and not visit.baseline:
        found.append("a dated visit needs surgery.date; give month instead, or the surgery date")
    elif surgery_date is not None and visit.baseline and visit.date > surgery_date:
        found.append(f"a baseline must not be after the surgery ({surgery_date})")
    elif surgery_date is not None and not visit.baseline and visit.date < surgery_date:
        found.append(f"{visit.date} is before the surgery; mark it baseline if pre-operative")
    return [VisitProblem(index, "date", message) for message in found]


def _check_series(visits: tuple[Visit, ...], info: ValidationInfo) -> tuple[Visit, ...]:
    as_of = (info.context or {}).get("as_of")
    problems = visit_problems(visits, info.data.get("surgery"), as_of)
    if problems:
        raise ValueError(
            "; ".join(f"visit {p.index + 1} ({p.field}): {p.message}" for p in problems)
        )
    return visits


FollowUp = Annotated[
    tuple[Visit, ...],
    AfterValidator(_check_series),
    Field(description="outcome scores over time (baseline, then follow-up visits)"),
]
