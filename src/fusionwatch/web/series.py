"""Imaging studies and score visits as repeating form rows: read from a form, shown from a case.

Each input is named by its path in the case (``imaging.studies.0.levels.1.angle_deg``,
``follow_up.2.odi``), so a problem the case model reports lands next to the input it is about.
Whatever a row holds that has no input (motion landmarks, for example) rides along in a hidden
field of that row, so carrying an evaluation forward loses nothing. Works without JavaScript:
"add another" is a submit button that shows the form again with one more empty row.
"""

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from fusionwatch.core.imaging import Brantigan, Bridwell, Mayfield, Modality
from fusionwatch.core.scores import Analgesics

STUDIES = "imaging.studies"
VISITS = "follow_up"
REST = "_rest"
# Bounded work per request: more rows than this are ignored, never processed.
MAX_STUDIES, MAX_LEVELS, MAX_VISITS = 24, 12, 48
ADD = "series_action"

Choices = tuple[tuple[str, str], ...]
YES_NO: Choices = (("", "not recorded"), ("yes", "yes"), ("no", "no"), ("unknown", "unknown"))


def _choices(values: Mapping[str, str]) -> Choices:
    return (("", "not recorded"), *values.items())


@dataclass(frozen=True, slots=True)
class Column:
    """One input of a row: the case key, its label, and how its text is read."""

    key: str
    label: str
    kind: str  # answer | choice | number | date | text | flag
    choices: Choices = ()
    unit: str = ""


STUDY_COLUMNS = (
    Column(
        "modality",
        "Modality",
        "choice",
        _choices(
            {
                Modality.CT: "CT",
                Modality.FLEXION_EXTENSION: "Flexion-extension films",
                Modality.STATIC_XRAY: "Standing X-ray",
                Modality.MRI: "MRI",
            }
        ),
    ),
    Column("date", "Date of the study", "date"),
    Column("months_since", "or months after fusion", "number", unit="months"),
    Column("nerve_compression", "Nerve compression", "answer", YES_NO),
    Column("infection_signs", "Signs of infection", "answer", YES_NO),
    Column("collection", "Fluid collection", "answer", YES_NO),
)
LEVEL_COLUMNS = (
    Column("level", "Level", "text"),
    Column("interbody_bridging", "Interbody bridging", "answer", YES_NO),
    Column("posterolateral_bridging", "Posterolateral bridging", "answer", YES_NO),
    Column("facet_bridging", "Facet bridging", "answer", YES_NO),
    Column("bridwell", "Bridwell grade", "choice", _choices({g: g.value for g in Bridwell})),
    Column(
        "brantigan",
        "Modified Brantigan-Steffee",
        "choice",
        _choices({g: g.value.replace("_", " ") for g in Brantigan}),
    ),
    Column("mayfield", "Mayfield grade", "choice", _choices({g: g.value for g in Mayfield})),
    Column("cage_lucency", "Lucency around the cage", "answer", YES_NO),
    Column("angle_deg", "Angular motion", "number", unit="degrees"),
    Column("translation_mm", "Translation", "number", unit="mm"),
    Column("interspinous_mm", "Interspinous motion", "number", unit="mm"),
    Column("periscrew_lucency_mm", "Screw halo width", "number", unit="mm"),
    Column("screw_broken", "Broken screw", "answer", YES_NO),
    Column("rod_broken", "Broken rod", "answer", YES_NO),
    Column("cage_subsidence_mm", "Cage subsidence", "number", unit="mm"),
    Column("cage_migration", "Cage migration", "answer", YES_NO),
    Column("set_screw_loose", "Loose set screw", "answer", YES_NO),
)
VISIT_COLUMNS = (
    Column("baseline", "Before surgery (baseline)", "flag"),
    Column("date", "Date of the visit", "date"),
    Column("month", "or months after fusion", "number", unit="months"),
    Column("nrs_axial", "Back or neck pain (0-10)", "number"),
    Column("nrs_limb", "Leg or arm pain (0-10)", "number"),
    Column("odi", "ODI (0-100)", "number"),
    Column("ndi", "NDI (0-100)", "number"),
    Column("promis_pf", "PROMIS physical function (T-score)", "number"),
    Column("eq5d_index", "EQ-5D index", "number"),
    Column("walking_minutes", "Walking without a stop", "number", unit="minutes"),
    Column(
        "analgesics",
        "Pain medicine",
        "choice",
        _choices(
            {
                Analgesics.NONE: "none",
                Analgesics.OCCASIONAL: "occasional",
                Analgesics.DAILY: "daily",
                Analgesics.OPIOID: "opioid",
            }
        ),
    ),
)

Raw = dict[str, str]


@dataclass(slots=True)
class Cell:
    """One input as the template draws it."""

    column: Column
    name: str
    raw: str
    error: str | None = None

    @property
    def dom_id(self) -> str:
        return "f-" + self.name.replace(".", "-")


@dataclass(slots=True)
class Row:
    """One study, one level of a study, or one visit."""

    path: str
    cells: list[Cell]
    rest: str = ""
    error: str | None = None
    levels: list["Row"] = field(default_factory=list)

    @property
    def number(self) -> int:
        return int(self.path.rsplit(".", 1)[1]) + 1


@dataclass(slots=True)
class Rows:
    """The raw text of every row, as submitted or as drawn from a case."""

    studies: list[tuple[Raw, list[Raw]]] = field(default_factory=list)
    visits: list[Raw] = field(default_factory=list)


_STUDY = re.compile(r"^imaging\.studies\.(\d{1,3})\.(?:levels\.(\d{1,3})\.)?(\w+)$")
_VISIT = re.compile(r"^follow_up\.(\d{1,3})\.(\w+)$")


def from_form(form: Mapping[str, Any], *, keep_empty: bool = False) -> Rows:
    """The submitted rows in order; empty rows dropped (so indices match the case's paths)
    unless ``keep_empty`` (the form shown again after "add another")."""
    studies: dict[int, tuple[Raw, dict[int, Raw]]] = {}
    visits: dict[int, Raw] = {}
    for name, value in form.items():
        text = str(value).strip()
        if m := _STUDY.match(name):
            i = int(m[1])
            if i >= MAX_STUDIES:
                continue
            study, levels = studies.setdefault(i, ({}, {}))
            if m[2] is None:
                study[m[3]] = text
            elif int(m[2]) < MAX_LEVELS:
                levels.setdefault(int(m[2]), {})[m[3]] = text
        elif (m := _VISIT.match(name)) and int(m[1]) < MAX_VISITS:
            visits.setdefault(int(m[1]), {})[m[2]] = text
    rows = Rows()
    for i in sorted(studies):
        study, levels = studies[i]
        kept = [levels[j] for j in sorted(levels) if keep_empty or _filled(levels[j])]
        if keep_empty or _filled(study) or kept:
            rows.studies.append((study, kept))
    rows.visits = [visits[i] for i in sorted(visits) if keep_empty or _filled(visits[i])]
    return rows


def from_case(data: Mapping[str, Any]) -> Rows:
    """Rows drawn from stored case data (a previous evaluation)."""
    imaging = data.get("imaging") or {}
    rows = Rows()
    for study in imaging.get("studies") or ():
        levels = [_raw(level, LEVEL_COLUMNS) for level in study.get("levels") or ()]
        rows.studies.append((_raw(study, STUDY_COLUMNS, skip={"levels"}), levels))
    rows.visits = [_raw(visit, VISIT_COLUMNS) for visit in data.get(VISITS) or ()]
    return rows


def to_data(rows: Rows) -> tuple[dict[str, Any], dict[str, str]]:
    """Case data (``imaging.studies`` and ``follow_up``) and per-input messages for bad text."""
    errors: dict[str, str] = {}
    studies = []
    for i, (study, levels) in enumerate(rows.studies):
        path = f"{STUDIES}.{i}"
        item = _read(study, STUDY_COLUMNS, path, errors)
        item["levels"] = [
            _read(level, LEVEL_COLUMNS, f"{path}.levels.{j}", errors)
            for j, level in enumerate(levels)
        ]
        if not item["levels"]:
            del item["levels"]
        studies.append(item)
    visits = [_read(v, VISIT_COLUMNS, f"{VISITS}.{i}", errors) for i, v in enumerate(rows.visits)]
    data: dict[str, Any] = {}
    if studies:
        data["imaging"] = {"studies": studies}
    if visits:
        data[VISITS] = visits
    return data, errors


def with_extra_row(rows: Rows, action: str) -> Rows:
    """The rows plus one empty row where an "add another" button asked for it."""
    if action == "study" and len(rows.studies) < MAX_STUDIES:
        rows.studies.append(({}, [{}]))
    elif action == "visit" and len(rows.visits) < MAX_VISITS:
        rows.visits.append({})
    elif (m := re.fullmatch(r"level-(\d{1,3})", action)) and int(m[1]) < len(rows.studies):
        levels = rows.studies[int(m[1])][1]
        if len(levels) < MAX_LEVELS:
            levels.append({})
    return rows


def view(rows: Rows, errors: Mapping[str, str]) -> tuple[list[Row], list[Row]]:
    """Study rows (each with its level rows) and visit rows for the template.

    With nothing entered yet, one empty study (with one level) and one empty visit are shown.
    """
    studies_raw = rows.studies or [({}, [{}])]
    studies = []
    for i, (study, levels) in enumerate(studies_raw):
        path = f"{STUDIES}.{i}"
        row = _row(path, study, STUDY_COLUMNS, errors)
        row.levels = [
            _row(f"{path}.levels.{j}", level, LEVEL_COLUMNS, errors)
            for j, level in enumerate(levels or [{}])
        ]
        studies.append(row)
    visits_raw = rows.visits or [{}]
    visits = [_row(f"{VISITS}.{i}", v, VISIT_COLUMNS, errors) for i, v in enumerate(visits_raw)]
    return studies, visits


def combine(series: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """Studies and visits typed in the JSON box come after the form's rows, never dropped."""
    combined = dict(extra)
    imaging = dict(combined.get("imaging") or {})
    studies = [*series.get("imaging", {}).get("studies", []), *(imaging.get("studies") or [])]
    visits = [*series.get(VISITS, []), *(combined.get(VISITS) or [])]
    if studies:
        combined["imaging"] = {**imaging, "studies": studies}
    if visits:
        combined[VISITS] = visits
    return combined


def describe(path: str) -> str | None:
    """A row's place in words ("Imaging study 2, level 1: Translation"); None if not a row."""
    parts = path.split(".")
    words: list[str] = []
    columns: tuple[Column, ...]
    if path.startswith(STUDIES + ".") and parts[2].isdigit():
        words.append(f"Imaging study {int(parts[2]) + 1}")
        rest, columns = parts[3:], STUDY_COLUMNS
        if rest[:1] == ["levels"] and len(rest) > 1 and rest[1].isdigit():
            words[-1] += f", level {int(rest[1]) + 1}"
            rest, columns = rest[2:], LEVEL_COLUMNS
    elif path.startswith(VISITS + ".") and parts[1].isdigit():
        words.append(f"Score visit {int(parts[1]) + 1}")
        rest, columns = parts[2:], VISIT_COLUMNS
    else:
        return None
    labels = {c.key: c.label for c in columns}
    if rest:
        words.append(labels.get(rest[0], rest[0].replace("_", " ")))
    return ": ".join(words)


def _filled(raw: Raw) -> bool:
    return any(v for v in raw.values())


def _raw(item: Mapping[str, Any], columns: tuple[Column, ...], skip: set[str] = set()) -> Raw:  # noqa: B006 - never mutated
    keys = {c.key for c in columns}
    raw = {c.key: _text(item[c.key]) for c in columns if item.get(c.key) is not None}
    rest = {k: v for k, v in item.items() if k not in keys and k not in skip}
    if rest:
        raw[REST] = json.dumps(rest, separators=(",", ":"))
    return raw


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _read(
    raw: Raw, columns: tuple[Column, ...], path: str, errors: dict[str, str]
) -> dict[str, Any]:
    item: dict[str, Any] = {}
    rest = raw.get(REST, "")
    if rest:
        try:
            extra = json.loads(rest)
        except ValueError:
            extra = None
        if isinstance(extra, dict):
            item.update(extra)
        else:
            errors[path] = "the hidden part of this row was damaged; enter the row again"
    for column in columns:
        text = raw.get(column.key, "")
        if text == "":
            continue
        try:
            item[column.key] = _value(column, text)
        except ValueError as problem:
            errors[f"{path}.{column.key}"] = str(problem)
    return item


def _value(column: Column, text: str) -> Any:
    if column.kind == "flag":
        return text in {"yes", "on", "true"}
    if column.kind in {"answer", "choice"}:
        allowed = [value for value, _ in column.choices if value]
        if text not in allowed:
            raise ValueError(
                "choose one of: " + ", ".join(label for v, label in column.choices if v)
            )
        return text
    if column.kind == "number":
        try:
            number = float(text.replace(",", "."))
        except ValueError:
            raise ValueError("type a number, or leave it empty") from None
        return int(number) if number.is_integer() else number
    return text


def _row(path: str, raw: Raw, columns: tuple[Column, ...], errors: Mapping[str, str]) -> Row:
    cells = [
        Cell(c, f"{path}.{c.key}", raw.get(c.key, ""), errors.get(f"{path}.{c.key}"))
        for c in columns
    ]
    return Row(path, cells, raw.get(REST, ""), errors.get(path))
