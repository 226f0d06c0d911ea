"""Reads case files (JSON or YAML) into validated cases, turning every problem into a CaseError."""

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from fusionwatch.core.case import Case
from fusionwatch.core.errors import CaseError, Problem


def read_case(path: Path, as_of: dt.date) -> Case:
    """Parse and validate one case file; the file's suffix picks JSON or YAML."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise CaseError([Problem(str(path), f"cannot be read ({err.strerror})")]) from err
    if path.suffix.lower() in {".yaml", ".yml"}:
        return parse_yaml(text, as_of)
    return parse_json(text, as_of)


def read_data(path: Path) -> dict[str, Any]:
    """A case file as plain data (sections and values), before validation."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise CaseError([Problem(str(path), f"cannot be read ({err.strerror})")]) from err
    data = read_mapping(text)
    if not isinstance(data, dict):
        raise CaseError([Problem(str(path), "a case must be a mapping of sections")])
    return data


def parse_yaml(text: str, as_of: dt.date) -> Case:
    return parse_data(read_mapping(text), as_of)


def read_mapping(text: str) -> Any:
    """YAML (and so also JSON) text as plain data, not yet validated as a case."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise CaseError([Problem("(file)", f"not valid YAML or JSON: {err}")]) from err


def parse_data(data: Any, as_of: dt.date) -> Case:
    """Validate plain data (from YAML or a form): dates become ISO text, then strict JSON rules."""
    if not isinstance(data, dict):
        raise CaseError([Problem("(file)", "a case must be a mapping of sections")])
    return parse_json(json.dumps(data, default=_iso), as_of)


def parse_json(text: str | bytes, as_of: dt.date) -> Case:
    try:
        return Case.model_validate_json(text, context={"as_of": as_of})
    except ValidationError as err:
        raise CaseError([_problem(e) for e in err.errors(include_url=False)]) from err


_NAMED = re.compile(r"^([a-z_]+(?:\.[a-z0-9_]+)+): (.+)$", re.DOTALL)


def _iso(value: Any) -> str:
    if isinstance(value, dt.date):
        return value.isoformat()
    raise TypeError(f"cannot store {type(value).__name__} in a case")


def _problem(error: Any) -> Problem:
    field = ".".join(str(part) for part in error["loc"]) or "(case)"
    message = str(error["msg"]).removeprefix("Value error, ")
    named = _NAMED.match(message)
    if field == "(case)" and named:
        # A whole-case check names the field it is about as "path: message".
        field, message = named.group(1), named.group(2)
    if error["type"] == "extra_forbidden":
        message = "is not a known field (see `fusionwatch schema`)"
    elif error["type"] == "json_invalid":
        message = f"not valid JSON ({error.get('ctx', {}).get('error', 'syntax error')})"
    return Problem(field, message)
