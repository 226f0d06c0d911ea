"""Reads pixel spacing from DICOM headers with pydicom: the only module that opens DICOM files."""

from dataclasses import dataclass
from pathlib import Path

import pydicom
from pydicom.errors import InvalidDicomError

from fusionwatch.core.errors import CaseError, Problem


@dataclass(frozen=True, slots=True)
class Spacing:
    """Millimetres between pixel centres: (row, column), and where the numbers came from."""

    row_mm: float
    column_mm: float
    source: str

    @property
    def pair(self) -> tuple[float, float]:
        return (self.row_mm, self.column_mm)


def read_spacing(path: Path) -> Spacing | None:
    """Pixel spacing of one image; None when the header gives none (then a calibration is needed).

    Pixel Spacing (0028,0030) is preferred: it is calibrated to the patient. Imager Pixel Spacing
    (0018,1164) is at the detector; projection films magnify the patient, so it is divided by the
    Estimated Radiographic Magnification Factor (0018,1114) when the header gives one.
    """
    try:
        header = pydicom.dcmread(path, stop_before_pixels=True)
    except (InvalidDicomError, OSError) as err:
        raise CaseError([Problem(str(path), f"is not a readable DICOM file ({err})")]) from err
    spacing = _pair(header.get("PixelSpacing"))
    if spacing is not None:
        return Spacing(*spacing, "Pixel Spacing (0028,0030)")
    spacing = _pair(header.get("ImagerPixelSpacing"))
    if spacing is None:
        return None
    factor = _number(header.get("EstimatedRadiographicMagnificationFactor"))
    if factor is not None and factor > 0:
        row, column = spacing
        return Spacing(row / factor, column / factor, "Imager Pixel Spacing / magnification")
    return Spacing(*spacing, "Imager Pixel Spacing (0018,1164), at the detector")


def _pair(value: object) -> tuple[float, float] | None:
    if value is None:
        return None
    try:
        row, column = (float(v) for v in value)  # type: ignore[attr-defined]
    except (TypeError, ValueError):
        return None
    return (row, column) if row > 0 and column > 0 else None


def _number(value: object) -> float | None:
    try:
        return None if value is None else float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
