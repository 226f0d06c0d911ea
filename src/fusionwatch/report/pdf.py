"""Turns a rendered HTML report into PDF bytes with WeasyPrint (no network: local files only)."""

from weasyprint import HTML
from weasyprint.urls import URLFetcher

from fusionwatch.report import html as report_html
from fusionwatch.report.view import Report

# A report must never reach out to the network, whatever a template links to.
LOCAL_ONLY = {"file", "data"}


def render_pdf(html: str, base_url: str) -> bytes:
    """A PDF of the page; the base URL resolves the report's stylesheet from the static folder."""
    fetcher = URLFetcher(allowed_protocols=LOCAL_ONLY, fail_on_errors=True)
    pdf: bytes = HTML(string=html, base_url=base_url, url_fetcher=fetcher).write_pdf()
    return pdf


def report_pdf(report: Report, *, appendix: bool = True, subtitle: str = "") -> bytes:
    """The report view on paper: summary (or clinical note) first, the appendix after it."""
    html = report_html.document(report, appendix=appendix, subtitle=subtitle)
    return render_pdf(html, report_html.STATIC_ROOT)
