"""Reports on paper: the patient summary fits two pages, the clinician's note is page one."""

import datetime as dt
import io
from pathlib import Path

import pytest
from pypdf import PdfReader

from fusionwatch.core.engine import assess
from fusionwatch.files.case import read_case
from fusionwatch.knowledge import load, load_labels
from fusionwatch.report.pdf import report_pdf
from fusionwatch.report.view import Report, for_case
from tests.report.test_view import VIGNETTES, report_of

HERE = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((HERE / "examples").glob("*.*[ln]"))
AS_OF = dt.date(2026, 11, 30)
# The vignettes with the most answers make the longest summaries.
LONGEST = sorted(VIGNETTES, key=lambda p: -len(p.read_text(encoding="utf-8")))[:4]


def pages(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def example(name: str, audience: str, who: str | None = None) -> Report:
    path = HERE / "examples" / name
    case = read_case(path, AS_OF)
    return for_case(assess(case, load(), AS_OF), case, load_labels(), audience, who)  # type: ignore[arg-type]


@pytest.mark.parametrize("path", EXAMPLES + LONGEST, ids=lambda p: p.stem)
def test_the_patient_summary_fits_two_pages(path: Path) -> None:
    report = report_of(path, "patient")
    summary = pages(report_pdf(report, appendix=False))
    assert 1 <= len(summary) <= 2, f"{path.name}: {len(summary)} pages"
    first = summary[0]
    assert report.answer.title in first
    assert report.answer.when_label in first


def test_education_is_an_appendix_after_the_summary() -> None:
    report = example("imaging-ct-and-motion-films.yaml", "patient")
    summary = pages(report_pdf(report, appendix=False))
    full = pages(report_pdf(report))
    assert len(full) > len(summary)
    appendix = full[len(summary)]
    assert appendix.lstrip().startswith(report.detail_heading), appendix[:80]
    assert "Questions for my doctor" in "".join(summary)
    assert "My answers in short" in "".join(summary)
    assert not any(report.detail_heading in p for p in summary)


def test_the_clinician_pdf_opens_with_the_note_naming_the_patient() -> None:
    report = example("imaging-ct-and-motion-films.yaml", "clinician", who="Ada Example (MRN-7)")
    text = pages(report_pdf(report))
    first = text[0]
    for part in (
        "Clinical note: Ada Example (MRN-7)",
        "Prompt referral",
        "Surgery",
        "Key findings",
    ):
        assert part in first, part
    for part in ("Imaging by level", "L4-L5", "Plan", "Open questions"):
        assert part in first, part
    assert "Full assessment" not in first
    assert text[1].lstrip().startswith("Full assessment") or "Full assessment" in text[1]
    assert len(text) >= 2


def test_an_emergency_pdf_stops_at_the_emergency() -> None:
    report = example("emergency-saddle-numbness.json", "clinician")
    text = "".join(pages(report_pdf(report)))
    assert "Emergency" in text
    assert "Bone-stimulator" not in text
    assert "Full assessment" not in text
