"""Writes the synthetic sample for `fusionwatch imaging measure`: two DICOM films and landmarks.

Nothing here comes from a person: the films are tiny blank DX images whose headers give a pixel
spacing of 0.2 mm (rows) by 0.1 mm (columns), and the landmarks are the corners of two vertebral
bodies built by geometry (tests/synthetic.py): flexion turns the segment -3 degrees and moves it
2 mm forward, extension +4 degrees and 1 mm back, drawn mirrored as a film taken facing the
other way. The expected motion is therefore 7 degrees and 3 mm. Run from the repository root:
`.venv/bin/python examples/imaging-motion/generate.py` (the output is the same every time).
"""

import json
import sys
from pathlib import Path

from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))
from tests.synthetic import DX_STORAGE, UID_ROOT, pair_mm, transform  # noqa: E402

SPACING = (0.2, 0.1)


def film(name: str, number: int) -> None:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = DX_STORAGE
    meta.MediaStorageSOPInstanceUID = f"{UID_ROOT}.900.{number}"
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = DX_STORAGE
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID = f"{UID_ROOT}.900"
    ds.SeriesInstanceUID = f"{UID_ROOT}.900.0"
    ds.Modality = "DX"
    ds.PatientName = "Synthetic^Phantom"
    ds.PatientID = "SYNTHETIC-0001"
    ds.SeriesDescription = f"synthetic lateral {name} film (fusionwatch example)"
    ds.PixelSpacing = list(SPACING)
    ds.Rows, ds.Columns = 8, 8
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    ds.PixelData = bytes(64)
    ds.save_as(HERE / f"{name}.dcm", enforce_file_format=True)


def landmarks() -> None:
    flexion = transform(pair_mm(-3, 2), scale=SPACING)
    extension = transform(pair_mm(4, -1), scale=SPACING, mirror=True)
    points = {
        name: {
            "L4": {k: [round(v, 3) for v in p] for k, p in pair["upper"].items()},
            "L5": {k: [round(v, 3) for v in p] for k, p in pair["lower"].items()},
        }
        for name, pair in (("flexion", flexion), ("extension", extension))
    }
    (HERE / "points.json").write_text(json.dumps(points, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    film("flexion", 1)
    film("extension", 2)
    landmarks()
