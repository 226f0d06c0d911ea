"""Segmental motion from corner points, checked against hand-computed and constructed answers."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fusionwatch.core.derive.motion import film, measure, verdict
from fusionwatch.core.errors import CaseError
from fusionwatch.core.imaging import Landmarks, Pair
from tests.synthetic import pair_mm, transform


def landmarks(flexion: dict, extension: dict, spacing: tuple[float, float] | None) -> Landmarks:  # type: ignore[type-arg]
    data = {"flexion": flexion, "extension": extension, "mm_per_pixel": spacing}
    return Landmarks.model_validate_json(json.dumps(data))


def as_pair(points: dict) -> Pair:  # type: ignore[type-arg]
    return Pair.model_validate_json(json.dumps(points))


def test_hand_computed_film() -> None:
    # Upper inferior endplate from (0,-10) to (40,-10-40*tan 5°): 5° of lordosis;
    # its posterior-inferior corner sits 3 mm in front of the lower posterior-superior corner.
    rise = 40 * 0.08748866352592401  # tan(5°)
    points = {
        "upper": {
            "posterior_inferior": [3, -10],
            "anterior_inferior": [43, -10 - rise],
            "posterior_superior": [3, -38],
            "anterior_superior": [43, -38 - rise],
        },
        "lower": {
            "posterior_superior": [0, 0],
            "anterior_superior": [40, 0],
            "posterior_inferior": [0, 28],
            "anterior_inferior": [40, 28],
        },
    }
    result = film(as_pair(points), None)
    assert result.angle_deg == pytest.approx(5.0, abs=1e-6)
    assert result.translation == pytest.approx(3.0, abs=1e-6)


def test_flexion_minus_extension() -> None:
    # Flexion -3° and 2 mm forward; extension +4° and 1 mm back: 7° and 3 mm of motion.
    motion = measure(landmarks(pair_mm(-3, 2), pair_mm(4, -1), (1.0, 1.0)))
    assert motion.angle_deg == pytest.approx(7.0)
    assert motion.translation_mm == pytest.approx(3.0)
    assert motion.flexion.angle_deg == pytest.approx(-3.0)
    assert motion.extension.translation == pytest.approx(-1.0)


def test_pixels_become_millimetres_with_non_square_pixels() -> None:
    scale = (0.2, 0.1)  # rows 0.2 mm apart, columns 0.1 mm apart
    flexion = transform(pair_mm(-2, 1.5), scale=scale)
    extension = transform(pair_mm(3, -1.0), scale=scale)
    motion = measure(landmarks(flexion, extension, scale))
    assert motion.angle_deg == pytest.approx(5.0, abs=1e-3)
    assert motion.translation_mm == pytest.approx(2.5, abs=1e-3)


def test_millimetres_without_spacing_are_refused() -> None:
    with pytest.raises(CaseError, match="pixel spacing is unknown"):
        measure(landmarks(pair_mm(0, 0), pair_mm(4, 0), None))


def test_angle_without_spacing_is_still_measured() -> None:
    motion = measure(landmarks(pair_mm(0, 0), pair_mm(4, 0), None), need_mm=False)
    assert motion.angle_deg == pytest.approx(4.0)
    assert motion.translation_mm is None


def test_degenerate_endplate_is_an_input_error() -> None:
    points = pair_mm(0, 0)
    points["lower"]["anterior_superior"] = points["lower"]["posterior_superior"]
    with pytest.raises(CaseError, match="same point"):
        film(as_pair(points), None)


@settings(max_examples=60, deadline=None)
@given(
    angle=st.floats(-15, 15),
    shift=st.floats(-5, 5),
    turn=st.floats(-180, 180),
    mirror=st.booleans(),
    offset=st.tuples(st.floats(-500, 500), st.floats(-500, 500)),
)
def test_film_position_does_not_change_the_result(
    angle: float, shift: float, turn: float, mirror: bool, offset: tuple[float, float]
) -> None:
    moved = transform(pair_mm(angle, shift), mirror=mirror, turn_deg=turn, offset=offset)
    result = film(as_pair(moved), (1.0, 1.0))
    assert result.angle_deg == pytest.approx(angle, abs=1e-3)
    assert result.translation == pytest.approx(shift, abs=1e-3)


def test_verdict_names_the_cutoff_and_does_not_overclaim() -> None:
    moving = measure(landmarks(pair_mm(-3, 2), pair_mm(4, -1), (1.0, 1.0)))
    lines = verdict(moving, 5, 2)
    assert "cut-off of < 5°" in lines[0]
    assert "does not prove a nonunion" in lines[1]
    assert any("instability" in line for line in lines)
    still = measure(landmarks(pair_mm(1, 0), pair_mm(2, 0.5), (1.0, 1.0)))
    assert "suggests fusion" in verdict(still, 5, 2)[1]
    assert "suggests fusion" not in verdict(still, 0.5, 2)[1]
