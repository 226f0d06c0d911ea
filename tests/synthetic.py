"""Synthetic imaging for tests: vertebral bodies with known rotation and shift, and DICOM files.

Geometry (image coordinates, x right, y down, patient facing +x): the lower body is a rectangle
with its posterior-superior corner at the origin; the upper body sits a disc height above it,
turned by ``angle_deg`` (positive opens the segment anteriorly) about its posterior-inferior
corner and moved ``shift`` forward. The expected segment angle is ``angle_deg`` and the expected
translation is ``shift``, by construction.
"""

import math
from pathlib import Path
from typing import Any

from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian

DEPTH, HEIGHT, DISC = 40.0, 28.0, 10.0
DX_STORAGE = "1.2.840.10008.5.1.4.1.1.1.1"  # Digital X-Ray Image Storage, for presentation
UID_ROOT = "1.2.826.0.1.3680043.8.498.77"


def corners(points: dict[str, tuple[float, float]]) -> dict[str, list[float]]:
    return {name: [x, y] for name, (x, y) in points.items()}


def pair_mm(angle_deg: float, shift: float) -> dict[str, dict[str, list[float]]]:
    """One film's two bodies, in millimetres."""
    lower = {
        "posterior_superior": (0.0, 0.0),
        "anterior_superior": (DEPTH, 0.0),
        "posterior_inferior": (0.0, HEIGHT),
        "anterior_inferior": (DEPTH, HEIGHT),
    }
    local = {
        "posterior_inferior": (0.0, 0.0),
        "anterior_inferior": (DEPTH, 0.0),
        "posterior_superior": (0.0, -HEIGHT),
        "anterior_superior": (DEPTH, -HEIGHT),
    }
    theta = math.radians(angle_deg)
    cos, sin = math.cos(theta), math.sin(theta)
    upper = {
        name: (x * cos + y * sin + shift, -x * sin + y * cos - DISC)
        for name, (x, y) in local.items()
    }
    return {"upper": corners(upper), "lower": corners(lower)}


def transform(
    pair: dict[str, dict[str, list[float]]],
    *,
    scale: tuple[float, float] = (1.0, 1.0),
    mirror: bool = False,
    turn_deg: float = 0.0,
    offset: tuple[float, float] = (0.0, 0.0),
) -> dict[str, dict[str, list[float]]]:
    """Move a film's points as a different film would show them: turned, mirrored, in pixels.

    ``scale`` is (row, column) mm per pixel; points are divided by it to give pixel positions.
    """
    theta = math.radians(turn_deg)
    cos, sin = math.cos(theta), math.sin(theta)
    row, column = scale

    def move(p: list[float]) -> list[float]:
        x, y = (-p[0] if mirror else p[0]), p[1]
        x, y = x * cos - y * sin + offset[0], x * sin + y * cos + offset[1]
        return [x / column, y / row]

    return {body: {k: move(v) for k, v in pts.items()} for body, pts in pair.items()}


def write_dicom(path: Path, **header: Any) -> Path:
    """A tiny, valid DX file; ``header`` sets keywords such as PixelSpacing."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = DX_STORAGE
    meta.MediaStorageSOPInstanceUID = f"{UID_ROOT}.{abs(hash(path.name)) % 10**8}"
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = DX_STORAGE
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.Modality = "DX"
    ds.PatientName = "Synthetic^Phantom"
    ds.Rows, ds.Columns = 2, 2
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    ds.PixelData = bytes(4)
    for keyword, value in header.items():
        setattr(ds, keyword, value)
    ds.save_as(path, enforce_file_format=True)
    return path
