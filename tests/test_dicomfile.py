"""Pixel spacing read back from synthetic DICOM files written with pydicom."""

from pathlib import Path

import pytest

from fusionwatch.core.errors import CaseError
from fusionwatch.files.dicom import read_spacing
from tests.synthetic import write_dicom


def test_pixel_spacing_round_trip(tmp_path: Path) -> None:
    path = write_dicom(tmp_path / "a.dcm", PixelSpacing=[0.2, 0.1])
    spacing = read_spacing(path)
    assert spacing is not None
    assert spacing.pair == pytest.approx((0.2, 0.1))
    assert "0028,0030" in spacing.source


def test_pixel_spacing_wins_over_imager_spacing(tmp_path: Path) -> None:
    path = write_dicom(tmp_path / "b.dcm", PixelSpacing=[0.15, 0.15], ImagerPixelSpacing=[0.2, 0.2])
    spacing = read_spacing(path)
    assert spacing is not None
    assert spacing.pair == pytest.approx((0.15, 0.15))


def test_imager_spacing_corrected_for_magnification(tmp_path: Path) -> None:
    path = write_dicom(
        tmp_path / "c.dcm",
        ImagerPixelSpacing=[0.2, 0.2],
        EstimatedRadiographicMagnificationFactor=1.25,
    )
    spacing = read_spacing(path)
    assert spacing is not None
    assert spacing.pair == pytest.approx((0.16, 0.16))
    assert "magnification" in spacing.source


def test_imager_spacing_alone_is_at_the_detector(tmp_path: Path) -> None:
    spacing = read_spacing(write_dicom(tmp_path / "d.dcm", ImagerPixelSpacing=[0.14, 0.14]))
    assert spacing is not None
    assert "detector" in spacing.source


def test_no_spacing_gives_none(tmp_path: Path) -> None:
    assert read_spacing(write_dicom(tmp_path / "e.dcm")) is None


def test_not_dicom_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "f.dcm"
    path.write_text("not an image", encoding="utf-8")
    with pytest.raises(CaseError, match="not a readable DICOM file"):
        read_spacing(path)
