"""Segmental motion between a flexion and an extension film, from vertebral-body corner points.

Method (documented in docs/decisions/0003-imaging-assessment.md):
- Angle: the Cobb-style segmental angle between the upper body's inferior endplate and the lower
  body's superior endplate, each drawn from its posterior to its anterior corner. Positive means
  the segment opens anteriorly (lordosis). Angular motion = |angle in flexion - angle in extension|.
- Translation: the position of the upper body's posterior-inferior corner relative to the lower
  body's posterior-superior corner, measured along the lower body's superior endplate (the
  posterior body line; linear displacement as in Quinnell and Stockdale 1983). Positive means
  anterior. Translation motion = |translation in flexion - translation in extension|.
Both are measured in the lower body's own frame, so they do not depend on how the film is rotated
or mirrored. Points are scaled to millimetres first when the pixel spacing is known, so that
non-square pixels do not distort the angle.
"""

import math
from dataclasses import dataclass

from fusionwatch.core.errors import CaseError, Problem
from fusionwatch.core.imaging import Corners, Landmarks, Pair

Vector = tuple[float, float]


@dataclass(frozen=True, slots=True)
class Film:
    """Angle (degrees) and translation on one film; translation in mm or, without spacing, px."""

    angle_deg: float
    translation: float


@dataclass(frozen=True, slots=True)
class Motion:
    """Motion between flexion and extension at one segment."""

    angle_deg: float
    translation_mm: float | None
    flexion: Film
    extension: Film
    method: str


METHOD = (
    "Cobb-style endplate angle; translation of the upper posterior-inferior corner along the "
    "lower superior endplate; motion = |flexion - extension|"
)


def measure(landmarks: Landmarks, *, need_mm: bool = True) -> Motion:
    """Angular and translational motion; raises CaseError when mm are needed but spacing is not."""
    flex_spacing = landmarks.flexion.mm_per_pixel or landmarks.mm_per_pixel
    ext_spacing = landmarks.extension.mm_per_pixel or landmarks.mm_per_pixel
    known = flex_spacing is not None and ext_spacing is not None
    if not known and need_mm:
        problem = Problem("landmarks.mm_per_pixel", "pixel spacing is unknown; mm cannot be given")
        raise CaseError([problem])
    # Without spacing on both films, both stay in pixels so that the angle is still comparable.
    flexion = film(landmarks.flexion, flex_spacing if known else None)
    extension = film(landmarks.extension, ext_spacing if known else None)
    return Motion(
        angle_deg=round(abs(flexion.angle_deg - extension.angle_deg), 2),
        translation_mm=round(abs(flexion.translation - extension.translation), 2)
        if known
        else None,
        flexion=flexion,
        extension=extension,
        method=METHOD,
    )


def film(pair: Pair, spacing: tuple[float, float] | None) -> Film:
    """Segmental angle and translation on one film."""
    upper, lower = _scaled(pair.upper, spacing), _scaled(pair.lower, spacing)
    forward = _unit(_sub(lower.anterior_superior, lower.posterior_superior))
    up = _toward(_normal(forward), _sub(_mid_superior(lower), _mid_inferior(lower)))
    endplate = _sub(upper.anterior_inferior, upper.posterior_inferior)
    angle = math.degrees(math.atan2(_dot(endplate, up), _dot(endplate, forward)))
    shift = _dot(_sub(upper.posterior_inferior, lower.posterior_superior), forward)
    return Film(round(angle, 4), round(shift, 4))


def _scaled(body: Corners, spacing: tuple[float, float] | None) -> Corners:
    if spacing is None:
        return body
    row, column = spacing

    def scale(p: tuple[float, float]) -> tuple[float, float]:
        return (p[0] * column, p[1] * row)

    return Corners(
        anterior_superior=scale(body.anterior_superior),
        posterior_superior=scale(body.posterior_superior),
        anterior_inferior=scale(body.anterior_inferior),
        posterior_inferior=scale(body.posterior_inferior),
    )


def _sub(a: Vector, b: Vector) -> Vector:
    return (a[0] - b[0], a[1] - b[1])


def _dot(a: Vector, b: Vector) -> float:
    return a[0] * b[0] + a[1] * b[1]


def _unit(v: Vector) -> Vector:
    length = math.hypot(*v)
    if length == 0:
        raise CaseError([Problem("landmarks", "two corners of an endplate are the same point")])
    return (v[0] / length, v[1] / length)


def _normal(v: Vector) -> Vector:
    return (-v[1], v[0])


def _toward(v: Vector, direction: Vector) -> Vector:
    """The normal pointing the same way as ``direction`` (from the lower endplate upward)."""
    return v if _dot(v, direction) >= 0 else (-v[0], -v[1])


def _mid_superior(body: Corners) -> Vector:
    return _mid(body.anterior_superior, body.posterior_superior)


def _mid_inferior(body: Corners) -> Vector:
    return _mid(body.anterior_inferior, body.posterior_inferior)


def _mid(a: Vector, b: Vector) -> Vector:
    return ((a[0] + b[0]) / 2, (a[1] + b[1]) / 2)


def verdict(motion: Motion, angle_cutoff: float, translation_cutoff: float) -> tuple[str, ...]:
    """What the measured motion says, always naming the cut-off that was used."""
    lines = [
        f"angular motion {motion.angle_deg:g}° against a cut-off of < {angle_cutoff:g}° "
        "(a site setting)"
    ]
    if motion.angle_deg < angle_cutoff:
        lines.append(
            "below the cut-off: no motion, which suggests fusion; with screws in place a "
            "fine-cut CT is still needed"
        )
    else:
        lines.append("at or above the cut-off: motion, which by itself does not prove a nonunion")
    if motion.translation_mm is not None and motion.translation_mm > translation_cutoff:
        lines.append(
            f"translation {motion.translation_mm:g} mm is over {translation_cutoff:g} mm: "
            "instability (a setting)"
        )
    return tuple(lines)
