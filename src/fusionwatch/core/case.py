"""The input case: what is known about one person after spinal fusion, validated strictly.

Every yes/no question is three-valued (yes / no / unknown) and defaults to unknown: an omitted
answer is never read as "no". Numbers carry plausible ranges; a value outside them is an input
error, not a finding. ``as_of`` comes in through the validation context, never from a clock.
"""

import datetime as dt
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from fusionwatch.core.imaging import Study
from fusionwatch.core.scores import FollowUp
from fusionwatch.core.spine import (
    REGION_VERTEBRAE,
    adjacent_segments,
    parse_level,
    sort_segments,
    vertebrae_of,
)
from fusionwatch.core.vocab import (
    Activity,
    Answer,
    Approach,
    CompressionCause,
    ExamFinding,
    FusionStatus,
    Graft,
    Indication,
    Nicotine,
    Onset,
    OperationKind,
    OperationReason,
    PainPattern,
    Region,
    Sex,
    Side,
    TemperatureUnit,
)

U = Answer.UNKNOWN
Score10 = Annotated[int, Field(ge=0, le=10, description="0 (none) to 10 (worst imaginable)")]
Months = Annotated[float, Field(ge=0, le=600, description="months since the index fusion")]


class Section(BaseModel):
    """Base of every case section: strict types, unknown fields rejected, immutable."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


def _expand(value: Any) -> Any:
    """Level names and spans (``L4-S1``, ``T10-pelvis``) as distinct motion segments, in order."""
    if not isinstance(value, list | tuple):
        return value
    segments: list[str] = []
    for item in value:
        if not isinstance(item, str):
            raise ValueError("each level must be text such as 'L4-L5'")
        segments.extend(s for s in parse_level(item) if s not in segments)
    return tuple(segments)


def _not_after(value: dt.date | None, info: ValidationInfo, what: str) -> dt.date | None:
    as_of = (info.context or {}).get("as_of")
    if value is not None and isinstance(as_of, dt.date) and value > as_of:
        raise ValueError(f"{what} date {value} is after the assessment date {as_of}")
    return value


class Operation(Section):
    """A later or staged fusion operation after the index fusion (extension, revision, stage)."""

    kind: OperationKind
    date: dt.date | None = Field(None, description="date of this operation (not after as_of)")
    months_since: Months | None = Field(None, description="months since this operation")
    levels: tuple[str, ...] = Field((), description="segments fused or re-fused, e.g. L3-L4")
    reason: OperationReason | None = Field(None, description="why a revision was done")

    @field_validator("levels", mode="before")
    @classmethod
    def _expand_levels(cls, value: Any) -> Any:
        return _expand(value)

    @field_validator("date")
    @classmethod
    def _not_in_future(cls, value: dt.date | None, info: ValidationInfo) -> dt.date | None:
        return _not_after(value, info, "operation")

    @model_validator(mode="after")
    def _consistent(self) -> "Operation":
        if self.date is not None and self.months_since is not None:
            raise ValueError("give either the operation's date or months_since, not both")
        if self.reason is not None and self.kind is not OperationKind.REVISION:
            raise ValueError("an operation's reason is only given for a revision")
        return self


class Surgery(Section):
    date: dt.date | None = Field(None, description="date of the index fusion (not after as_of)")
    months_since: Months | None = Field(None, description="months since fusion, if no date")
    region: Region | None = None
    levels: tuple[str, ...] = Field((), description="fused segments, e.g. L4-L5, L5-S1 or L4-S1")
    approach: Approach | None = None
    instrumented: Answer = U
    graft: Graft | None = None
    indication: Indication | None = None
    prior_failed_fusion_same_site: Answer = U
    spondylolisthesis_grade: int | None = Field(
        None, ge=0, le=5, description="Meyerding grade, 0 = none, 1-5 = I-V"
    )
    fusion_planned: Answer = U
    operations: tuple[Operation, ...] = Field(
        (),
        description="later or staged operations: extension, revision, staged, unspecified",
        max_length=20,
    )

    @field_validator("levels", mode="before")
    @classmethod
    def _expand_levels(cls, value: Any) -> Any:
        return _expand(value)

    @field_validator("date")
    @classmethod
    def _not_in_future(cls, value: dt.date | None, info: ValidationInfo) -> dt.date | None:
        return _not_after(value, info, "surgery")

    @model_validator(mode="after")
    def _consistent(self) -> "Surgery":
        if self.date is not None and self.months_since is not None:
            raise ValueError("give either surgery.date or surgery.months_since, not both")
        if self.region is not None and self.fused_levels:
            allowed = REGION_VERTEBRAE[self.region]
            stray = [s for s in self.fused_levels if not set(s.split("-")) & allowed]
            if stray:
                raise ValueError(
                    f"levels {', '.join(stray)} do not belong to region {self.region}; "
                    "a fusion across regions is cervicothoracic or thoracolumbar"
                )
        for i, op in enumerate(self.operations):
            if self.date is not None and op.date is not None and op.date < self.date:
                raise ValueError(
                    f"surgery.operations.{i}.date {op.date} is before the index fusion {self.date}"
                )
        return self

    @property
    def fused_levels(self) -> tuple[str, ...]:
        """Every segment fused by the index fusion or a later operation, head to pelvis."""
        return sort_segments({*self.levels, *(s for op in self.operations for s in op.levels)})

    @property
    def adjacent_levels(self) -> dict[str, str]:
        """Segments just above and below the fused span (segment -> above/below/between)."""
        return adjacent_segments(self.fused_levels)

    @property
    def levels_complete(self) -> bool:
        """True when every later operation names its segments; one that does not may have fused
        segments no one recorded."""
        return all(op.levels for op in self.operations)

    @property
    def level_count(self) -> int | None:
        """Fused segments; None when unknown: no levels given, or a later operation without its
        levels (counting only the known ones would understate it, and read as reassurance)."""
        if not self.levels_complete:
            return None
        return len(self.fused_levels) or None

    @property
    def vertebra_count(self) -> int | None:
        """Vertebrae in the fused segments; None when unknown (as ``level_count``)."""
        if not self.levels_complete:
            return None
        return len(vertebrae_of(self.fused_levels)) or None

    @property
    def levels_at_least(self) -> int | None:
        """Segments named as fused so far: the count when every operation names its levels, a
        lower bound when one does not (it can only add segments); None when none is named."""
        return len(self.fused_levels) or None

    @property
    def vertebrae_at_least(self) -> int | None:
        """Vertebrae in the segments named so far (a lower bound, as ``levels_at_least``)."""
        return len(vertebrae_of(self.fused_levels)) or None


class Person(Section):
    age: int | None = Field(None, ge=0, le=120, description="age in years")
    sex: Sex | None = None


class Signs(Section):
    """The article's nine warning signs, with the details it gives."""

    mechanical_pain: Answer = U
    improved_then_worse: Answer = U
    worsening_began_month: Months | None = Field(
        None,
        description="months after the last fusion operation when the pain came back or plateaued",
    )
    instability: Answer = U
    focal_pain: Answer = U
    clicking: Answer = U
    clicking_with_worsening_pain: Answer = U
    no_expected_recovery: Answer = U
    worse_with_cough_sneeze: Answer = U
    hardware_failure: Answer = U
    functional_impact: Answer = U


class Clues(Section):
    """Clues to pain generators other than a nonunion (article: not all pain is pseudarthrosis)."""

    sacroiliac: Answer = U
    facet: Answer = U
    nerve_irritation: Answer = U
    scar_tissue: Answer = U
    neuropathic: Answer = U


class Pain(Section):
    axial: Score10 | None = Field(None, description="back or neck pain, 0-10")
    limb: Score10 | None = Field(None, description="leg or arm pain, 0-10")
    pattern: PainPattern | None = None
    new_radiating: Answer = U
    clues: Clues = Clues()


class Emergency(Section):
    """The article's emergency signs. Any yes means emergency care now."""

    new_weakness: Answer = U
    bladder_bowel_loss: Answer = U
    saddle_numbness: Answer = U
    fever_chills_worse_pain: Answer = U
    draining_wound: Answer = U
    unbearable_pain_neuro: Answer = U
    breathing_difficulty: Answer = U
    one_leg_swelling: Answer = U


class Exam(Section):
    """The neurological examination, and the emergencies a clinician finds (decision 0009)."""

    strength: ExamFinding = ExamFinding.NOT_EXAMINED
    strength_onset: Onset | None = None
    sensation: ExamFinding = ExamFinding.NOT_EXAMINED
    sensation_onset: Onset | None = None
    reflexes: ExamFinding = ExamFinding.NOT_EXAMINED
    reflexes_onset: Onset | None = None
    gait: ExamFinding = ExamFinding.NOT_EXAMINED
    gait_onset: Onset | None = None
    deficit_side: Side | None = None
    deficit_level: tuple[Annotated[str, Field(max_length=20)], ...] = Field(
        (), max_length=10, description="root or cord levels of the deficit, e.g. L5 or C6"
    )
    cauda_equina: Answer = U
    hyperreflexia: Answer = U
    clonus: Answer = U
    hoffmann: Answer = U
    gait_ataxia: Answer = U
    myelopathy_onset: Onset | None = None

    @field_validator("deficit_level", mode="before")
    @classmethod
    def _levels_as_tuple(cls, value: Any) -> Any:
        return tuple(value) if isinstance(value, list) else value


_TEMPERATURE_RANGE = {
    TemperatureUnit.CELSIUS: (30.0, 45.0),
    TemperatureUnit.FAHRENHEIT: (86.0, 113.0),
}


class Infection(Section):
    """Signs of a surgical-site infection, early or late, each recorded on its own."""

    temperature: float | None = Field(None, ge=30, le=113, description="highest temperature")
    temperature_unit: TemperatureUnit | None = None
    fever: Answer = U
    chills: Answer = U
    wound_drainage: Answer = U
    wound_opening: Answer = U
    spreading_redness: Answer = U
    prior_ssi: Answer = U
    hardware_removed: Answer = U
    crp_mg_l: float | None = Field(None, ge=0, le=1000, description="C-reactive protein, mg/L")
    esr_mm_h: float | None = Field(None, ge=0, le=200, description="ESR, mm/h")
    wbc_10e9_l: float | None = Field(None, ge=0, le=200, description="white cells, 10^9/L")

    @model_validator(mode="after")
    def _temperature_has_unit(self) -> "Infection":
        if self.temperature is None:
            return self
        if self.temperature_unit is None:
            raise ValueError("infection.temperature needs infection.temperature_unit (C or F)")
        low, high = _TEMPERATURE_RANGE[self.temperature_unit]
        if not low <= self.temperature <= high:
            unit = self.temperature_unit.value
            raise ValueError(f"infection.temperature must be {low:g}-{high:g} °{unit}")
        return self

    @property
    def temperature_c(self) -> float | None:
        if self.temperature is None or self.temperature_unit is None:
            return None
        if self.temperature_unit is TemperatureUnit.FAHRENHEIT:
            return round((self.temperature - 32) * 5 / 9, 2)
        return self.temperature


class Recovery(Section):
    """Other problems after the operation that need a call to the surgical team within a day."""

    swallowing_trouble: Answer = U
    recent_fall: Answer = U


class Risk(Section):
    nicotine: Nicotine | None = None
    nicotine_quit_date: dt.date | None = Field(None, description="only with nicotine 'former'")
    diabetes: Answer = U
    hba1c_percent: float | None = Field(None, ge=3, le=20, description="HbA1c, %")
    dxa_t_score: float | None = Field(None, ge=-7, le=5, description="lowest DXA T-score")
    ct_hu_l1: float | None = Field(None, ge=-100, le=600, description="L1 trabecular CT, HU")
    osteoporosis_known: Answer = U
    vitamin_d_ng_ml: float | None = Field(None, ge=0, le=250, description="25-OH vitamin D, ng/mL")
    albumin_g_dl: float | None = Field(None, ge=0.5, le=7, description="serum albumin, g/dL")
    low_protein_intake: Answer = U
    bmi: float | None = Field(None, ge=10, le=100, description="body-mass index, kg/m²")
    long_term_steroids: Answer = U
    renal_disease: Answer = U
    end_stage_renal_disease: Answer = U
    alcoholism: Answer = U
    activity: Activity | None = None

    @model_validator(mode="after")
    def _quit_date_needs_former(self) -> "Risk":
        if self.nicotine_quit_date is not None and self.nicotine is not Nicotine.FORMER:
            raise ValueError("risk.nicotine_quit_date is only allowed with nicotine 'former'")
        return self


class Care(Section):
    rehab_weeks: float | None = Field(None, ge=0, le=520, description="weeks of structured rehab")
    multimodal_pain_care: Answer = U
    bone_stimulator: Answer = U


class Imaging(Section):
    """A summary of imaging so far, and the studies behind it graded level by level."""

    fusion_status: FusionStatus | None = None
    hardware_failure: Answer = U
    deformity_progressing: Answer = U
    instability_on_motion_films: Answer = U
    nerve_compression: Answer = U
    infection_signs: Answer = U
    acute_compression: Answer = U
    compression_cause: CompressionCause | None = None
    cord_signal_change: Answer = U
    studies: tuple[Study, ...] = Field((), description="studies with per-level findings")


class Case(Section):
    """Everything known about one person after spinal fusion."""

    label: str | None = Field(None, max_length=80, description="a non-identifying tag")
    surgery: Surgery = Surgery()
    person: Person = Person()
    signs: Signs = Signs()
    pain: Pain = Pain()
    emergency: Emergency = Emergency()
    exam: Exam = Exam()
    infection: Infection = Infection()
    recovery: Recovery = Recovery()
    risk: Risk = Risk()
    care: Care = Care()
    imaging: Imaging = Imaging()
    follow_up: FollowUp = ()

    @model_validator(mode="after")
    def _imaged_levels_fused_or_adjacent(self) -> "Case":
        """A study level must be fused or next to the fusion, once the fused levels are known."""
        fused = self.surgery.fused_levels
        if not fused:
            return self
        adjacent = self.surgery.adjacent_levels
        for i, study in enumerate(self.imaging.studies):
            for j, finding in enumerate(study.levels):
                if finding.level not in fused and finding.level not in adjacent:
                    raise ValueError(
                        f"imaging.studies.{i}.levels.{j}.level: {finding.level} is neither "
                        "fused nor adjacent to the fusion; allowed levels are "
                        + _allowed(fused, adjacent)
                    )
        return self


def _allowed(fused: tuple[str, ...], adjacent: dict[str, str]) -> str:
    named = {**dict.fromkeys(fused, "fused"), **{s: f"adjacent, {p}" for s, p in adjacent.items()}}
    return ", ".join(f"{s} ({named[s]})" for s in sort_segments(tuple(named)))
