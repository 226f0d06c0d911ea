"""What the templates use: the report view of a stored result, and names from the labels."""

import datetime as dt
from typing import Any, Literal

from fusionwatch.core.errors import CaseError
from fusionwatch.core.serialize import from_data
from fusionwatch.files.case import parse_data
from fusionwatch.knowledge import load_labels
from fusionwatch.report.html import markdown
from fusionwatch.report.view import Report, build, known_values


def shown(value: Any) -> str:
    if value is None:
        return "unknown"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value).replace("_", " ")


def report_of(
    result: dict[str, Any],
    case_data: dict[str, Any] | None,
    as_of: dt.date,
    audience: Literal["patient", "clinician"],
    who: str | None = None,
) -> Report:
    """The report view of a result as stored (JSON), with the answers it was made from."""
    catalogue = load_labels()
    known: dict[str, Any] = {}
    if case_data is not None:
        try:
            known = known_values(parse_data(case_data, as_of), catalogue.kb)
        except CaseError:
            known = {}  # an answer the case model no longer accepts: the report shows no answers
    return build(from_data(result), catalogue, audience, known=known, who=who)


def disposition(level: str) -> str:
    """A triage level's clinician name from the labels catalogue (any level it names)."""
    return load_labels().disposition(level).clinician


def band(level: str) -> str:
    return load_labels().band(level, "clinician")


def template_names() -> dict[str, Any]:
    """Names every template may use, whether rendered as a page or as a PDF (Jinja globals)."""
    return {
        "disposition": disposition,
        "band": band,
        "shown": shown,
        "markdown": markdown,
    }
