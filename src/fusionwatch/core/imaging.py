"""Imaging studies in a case: modality, timing and per-level findings (CT, motion, hardware, MRI).

Grades are offered only on scales whose grade text is in the evidence brief (shared/evidence.md
section 6): Bridwell I-IV, the modified Brantigan-Steffee categories and the Mayfield CT scale.
Lenke and Christensen grades are not offered because their text was not found.
"""

import datetime as dt
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from fusionwatch.core.spine import parse_level
from fusionwatch.core.vocab import Answer

U = Answer.UNKNOWN
Point = tuple[float, float]
Millimetres = Annotated[float, Field(ge=0, le=50)]


class _Part(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class Modality(StrEnum):
    STATIC_XRAY = "static_xray"
    FLEXION_EXTENSION = "flexion_extension"
    CT = "ct"
    MRI = "mri"


class Bridwell(StrEnum):
    """Bridwell interbody grades (evidence 6.1)."""

    I = "I"  # noqa: E741 - the scale's own numeral
    II = "II"
    III = "III"
    IV = "IV"


class Brantigan(StrEnum):
    """Modified Brantigan-Steffee categories, best to worst (evidence 6.2; numbering unverified)."""

    BRIDGED_AT_SURGICAL_DENSITY = "bridged_at_surgical_density"
    BRIDGED_AT_LEAST_HALF = "bridged_at_least_half"
    BRIDGED_LESS_THAN_HALF = "bridged_less_than_half"
    LOCKED_NONUNION = "locked_nonunion"
    RESORPTION_OR_PERIPHERAL_LUCENCY = "resorption_or_peripheral_lucency"
    PSEUDARTHROSIS = "pseudarthrosis"


class Mayfield(StrEnum):
    """Mayfield Clinic CT scale (evidence 6.4)."""

    I = "I"  # noqa: E741 - the scale's own numeral
    II = "II"
    III = "III"
    IV = "IV"
    V = "V"


class Corners(_Part):
    """The four corners of one vertebral body on a lateral film, in pixels (x right, y down)."""

    anterior_superior: Point
    posterior_superior: Point
    anterior_inferior: Point
    posterior_inferior: Point


class Pair(_Part):
    """The two vertebral bodies of one motion segment on one film."""

    upper: Corners
    lower: Corners
    mm_per_pixel: tuple[float, float] | None = Field(
        None, description="(row, column) spacing of this film in mm, if it differs"
    )

    @field_validator("mm_per_pixel")
    @classmethod
    def _positive(cls, value: tuple[float, float] | None) -> tuple[float, float] | None:
        return _spacing(value)


class Landmarks(_Part):
    """Corner points on a flexion and an extension film, for computing motion."""

    flexion: Pair
    extension: Pair
    mm_per_pixel: tuple[float, float] | None = Field(
        None, description="(row, column) spacing in mm, from DICOM or a calibration"
    )

    @field_validator("mm_per_pixel")
    @classmethod
    def _positive(cls, value: tuple[float, float] | None) -> tuple[float, float] | None:
        return _spacing(value)


def _spacing(value: tuple[float, float] | None) -> tuple[float, float] | None:
    if value is not None and not all(0 < v <= 5 for v in value):
        raise ValueError("mm_per_pixel values must be above 0 and at most 5 mm")
    return value


class LevelFindings(_Part):
    """What one study shows at one fused motion segment."""

    level: str = Field(description="one motion segment, e.g. L4-L5")
    interbody_bridging: Answer = U
    posterolateral_bridging: Answer = U
    facet_bridging: Answer = U
    bridwell: Bridwell | None = None
    brantigan: Brantigan | None = None
    mayfield: Mayfield | None = None
    cage_lucency: Answer = U
    angle_deg: float | None = Field(None, ge=0, le=45, description="angular motion, degrees")
    translation_mm: Millimetres | None = Field(None, description="translation on F/E films, mm")
    interspinous_mm: Millimetres | None = Field(None, description="interspinous motion, mm")
    landmarks: Landmarks | None = None
    periscrew_lucency_mm: float | None = Field(None, ge=0, le=10, description="halo width, mm")
    screw_broken: Answer = U
    rod_broken: Answer = U
    cage_subsidence_mm: Millimetres | None = Field(None, description="disc-height loss, mm")
    cage_migration: Answer = U
    set_screw_loose: Answer = U

    @field_validator("level")
    @classmethod
    def _one_segment(cls, value: str) -> str:
        segments = parse_level(value)
        if len(segments) != 1:
            raise ValueError(f"give one motion segment per entry, not the span {value!r}")
        return segments[0]

    @model_validator(mode="after")
    def _one_source_of_motion(self) -> "LevelFindings":
        if self.landmarks is not None and (self.angle_deg, self.translation_mm) != (None, None):
            raise ValueError("give motion either as angle_deg/translation_mm or as landmarks")
        return self


class Study(_Part):
    """One imaging study after the index fusion."""

    modality: Modality
    date: dt.date | None = Field(None, description="date of the study (not after as_of)")
    months_since: float | None = Field(
        None, ge=0, le=600, description="months after the last operation at its levels"
    )
    levels: tuple[LevelFindings, ...] = ()
    nerve_compression: Answer = U
    infection_signs: Answer = U
    collection: Answer = U

    @field_validator("date")
    @classmethod
    def _not_in_future(cls, value: dt.date | None, info: ValidationInfo) -> dt.date | None:
        as_of = (info.context or {}).get("as_of")
        if value is not None and isinstance(as_of, dt.date) and value > as_of:
            raise ValueError(f"study date {value} is after the assessment date {as_of}")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> "Study":
        if self.date is not None and self.months_since is not None:
            raise ValueError("give either the study date or months_since, not both")
        seen = [f.level for f in self.levels]
        if len(seen) != len(set(seen)):
            raise ValueError("each level may appear once per study")
        return self
