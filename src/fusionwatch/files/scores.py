"""Reads outcome-score CSV files into follow-up visits, naming the row and column of each problem.

One row per time point, as registries export them. Columns: ``when`` (``baseline``, an ISO date,
or months after the fusion such as ``6`` or ``1.5``), then any of the score columns
(``fusionwatch.core.scores.Instrument``) and ``analgesics``. An empty cell means "not measured".
"""

import csv
import datetime as dt
import io
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from fusionwatch.core.errors import CaseError, Problem
from fusionwatch.core.scores import Analgesics, Instrument, Visit, visit_problems
from fusionwatch.files.case import plain_message

WHEN = "when"
COLUMNS = (WHEN, *(i.value for i in Instrument), "analgesics")
_BASELINE = {"baseline", "pre-op", "preop"}


Rows = list[tuple[int, dict[str, Any]]]


def read_scores(path: Path) -> Rows:
    """The visits of a score CSV as (row number, case-file data), in file order."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as err:
        raise CaseError([Problem(str(path), f"cannot be read ({err.strerror})")]) from err
    return parse_scores(text)


def parse_scores(text: str) -> Rows:
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in reader.fieldnames or []]
    _check_header(header)
    visits, problems = [], []
    for number, row in enumerate(reader, start=2):
        cells = {k.strip(): (v or "").strip() for k, v in row.items() if k is not None}
        if not any(cells.values()):
            continue
        visit, found = _visit(number, cells)
        problems += found
        if visit is not None:
            visits.append((number, visit))
    if problems:
        raise CaseError(problems)
    if not visits:
        raise CaseError([Problem("(file)", "holds no score rows")])
    return [(number, _data(v)) for number, v in visits]


def check_against(rows: Rows, surgery: Any, as_of: dt.date) -> None:
    """Series checks (region fit, duplicates, dates) with problems named by CSV row."""
    models = tuple(Visit.model_validate(_typed(v)) for _, v in rows)
    found = visit_problems(models, surgery, as_of)
    if found:
        raise CaseError([Problem(f"row {rows[p.index][0]}, {p.field}", p.message) for p in found])


def merge(existing: list[dict[str, Any]], new: list[dict[str, Any]]) -> tuple[list[Any], int]:
    """Existing visits plus the new ones; a new visit replaces one at the same time point."""
    keys = {_key(v) for v in new}
    kept = [v for v in existing if _key(v) not in keys]
    return [*kept, *new], len(existing) - len(kept)


def _check_header(header: list[str]) -> None:
    if WHEN not in header:
        raise CaseError(
            [Problem("header", f"needs a '{WHEN}' column; allowed: {', '.join(COLUMNS)}")]
        )
    unknown = [h for h in header if h not in COLUMNS]
    if unknown:
        allowed = ", ".join(COLUMNS)
        raise CaseError(
            [Problem("header", f"unknown column {', '.join(unknown)}; allowed: {allowed}")]
        )
    twice = sorted({h for h in header if header.count(h) > 1})
    if twice:
        raise CaseError([Problem("header", f"column {', '.join(twice)} appears twice")])


def _visit(number: int, cells: dict[str, str]) -> tuple[Visit | None, list[Problem]]:
    data: dict[str, Any] = {}
    problems = []
    for column, raw in cells.items():
        if not raw:
            continue
        try:
            data.update(_cell(column, raw))
        except ValueError as err:
            problems.append(Problem(f"row {number}, column {column}", str(err)))
    if WHEN not in cells or not cells[WHEN]:
        problems.append(
            Problem(f"row {number}, column {WHEN}", "is empty; give baseline, a date or a month")
        )
    if problems:
        return None, problems
    try:
        return Visit.model_validate(data), []
    except ValidationError as err:
        return None, [_problem(number, e) for e in err.errors(include_url=False)]


def _cell(column: str, raw: str) -> dict[str, Any]:
    if column == WHEN:
        return _when(raw)
    if column == "analgesics":
        allowed = [a.value for a in Analgesics]
        if raw not in allowed:
            raise ValueError(f"{raw!r} is not one of {', '.join(allowed)}")
        return {"analgesics": Analgesics(raw)}
    try:
        return {column: float(raw)}
    except ValueError:
        raise ValueError(f"{raw!r} is not a number") from None


def _when(raw: str) -> dict[str, Any]:
    if raw.lower() in _BASELINE:
        return {"baseline": True}
    try:
        return {"date": dt.date.fromisoformat(raw)}
    except ValueError:
        pass
    try:
        return {"month": float(raw)}
    except ValueError:
        raise ValueError(
            f"{raw!r} is not 'baseline', a date (YYYY-MM-DD) or months after surgery"
        ) from None


def _problem(number: int, error: Any) -> Problem:
    field = ".".join(str(part) for part in error["loc"]) or WHEN
    column = WHEN if field in {"date", "month", "baseline"} else field
    return Problem(f"row {number}, column {column}", plain_message(error))


def _data(visit: Visit) -> dict[str, Any]:
    """Case-file data for a visit: only the fields given, dates as ISO text."""
    return visit.model_dump(mode="json", exclude_defaults=True)


def _typed(data: dict[str, Any]) -> dict[str, Any]:
    typed = dict(data)
    if isinstance(typed.get("date"), str):
        typed["date"] = dt.date.fromisoformat(typed["date"])
    if isinstance(typed.get("analgesics"), str):
        typed["analgesics"] = Analgesics(typed["analgesics"])
    return typed


def _key(visit: dict[str, Any]) -> str:
    if visit.get("baseline"):
        return "baseline"
    return str(visit.get("date") or f"month {float(visit.get('month', -1)):g}")
