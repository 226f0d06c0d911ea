"""Reads case files (JSON or YAML) into validated cases, turning every problem into a CaseError.

Reading is bounded: at most MAX_BYTES of UTF-8 text, nesting at most MAX_DEPTH deep, and YAML
without aliases (``*name``), so a few hundred bytes cannot expand into gigabytes ("billion
laughs") or recurse forever.
"""

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from fusionwatch.core.case import Case
from fusionwatch.core.errors import CaseError, Problem
from fusionwatch.core.timeline import timeline_problems

MAX_BYTES = 5_000_000
MAX_DEPTH = 32


def read_text(path: Path, limit: int = MAX_BYTES) -> str:
    """A file's text: refused when unreadable, too large, binary or not UTF-8."""
    try:
        with path.open("rb") as handle:
            raw = handle.read(limit + 1)
    except OSError as err:
        raise CaseError([Problem(str(path), f"cannot be read ({err.strerror})")]) from err
    if len(raw) > limit:
        raise CaseError([Problem(str(path), f"is larger than {limit} bytes")])
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise CaseError([Problem(str(path), "is UTF-16 text; save it as UTF-8")])
    if b"\x00" in raw:
        raise CaseError([Problem(str(path), "is a binary file, not JSON or YAML text")])
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        message = f"is not UTF-8 text (byte {err.start}); save it as UTF-8"
        raise CaseError([Problem(str(path), message)]) from err


def read_case(path: Path, as_of: dt.date) -> Case:
    """Parse and validate one case file; the file's suffix picks JSON or YAML."""
    text = read_text(path)
    if path.suffix.lower() in {".yaml", ".yml"}:
        return parse_yaml(text, as_of)
    return parse_json(text, as_of)


def read_data(path: Path) -> dict[str, Any]:
    """A case file as plain data (sections and values), before validation."""
    data = read_mapping(read_text(path))
    if not isinstance(data, dict):
        raise CaseError([Problem(str(path), "a case must be a mapping of sections")])
    return data


def parse_yaml(text: str, as_of: dt.date) -> Case:
    return parse_data(read_mapping(text), as_of)


class _BoundedLoader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing aliases and nesting deeper than MAX_DEPTH."""

    depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
            raise yaml.composer.ComposerError(None, None, "aliases (*name) are not allowed", mark)
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
                message = f"nested deeper than {MAX_DEPTH} levels"
                raise yaml.composer.ComposerError(None, None, message, mark)
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


def read_mapping(text: str | bytes, limit: int = MAX_BYTES) -> Any:
    """YAML (and so also JSON) text as plain data, not yet validated as a case."""
    if len(text) > limit:
        raise CaseError([Problem("(file)", f"larger than {limit} characters")])
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    try:
        # JSON first: C-speed, and most input is JSON; its depth is checked after parsing.
        data = json.loads(text)
    except RecursionError as err:
        raise CaseError([Problem("(file)", f"nested deeper than {MAX_DEPTH} levels")]) from err
    except ValueError:
        pass
    else:
        if _depth(data) > MAX_DEPTH:
            raise CaseError([Problem("(file)", f"nested deeper than {MAX_DEPTH} levels")])
        return data
    try:
        return yaml.load(text, Loader=_BoundedLoader)  # noqa: S506  (a SafeLoader subclass)
    except yaml.YAMLError as err:
        raise CaseError([Problem("(file)", f"not valid YAML or JSON: {err}")]) from err


def _depth(data: Any) -> int:
    """Nesting depth without recursion (the data may be very deep)."""
    deepest, stack = 0, [(data, 1)]
    while stack:
        value, level = stack.pop()
        deepest = max(deepest, level)
        if level > MAX_DEPTH:
            break
        if isinstance(value, dict):
            stack.extend((v, level + 1) for v in value.values())
        elif isinstance(value, list):
            stack.extend((v, level + 1) for v in value)
    return deepest


def parse_data(data: Any, as_of: dt.date, *, timeline: bool = True) -> Case:
    """Validate plain data (from YAML or a form): dates become ISO text, then strict JSON rules.

    ``timeline=False`` leaves out the timeline checks (``core.timeline``): only a cohort screen
    does that, and it applies the same checks itself to the whole table (``screen.timeline``).
    """
    if not isinstance(data, dict):
        raise CaseError([Problem("(file)", "a case must be a mapping of sections")])
    return parse_json(json.dumps(data, default=_iso), as_of, timeline=timeline)


def parse_json(text: str | bytes, as_of: dt.date, *, timeline: bool = True) -> Case:
    try:
        case = Case.model_validate_json(text, context={"as_of": as_of})
    except ValidationError as err:
        raise CaseError([_problem(e) for e in err.errors(include_url=False)]) from err
    problems = timeline_problems(case, as_of) if timeline else []
    if problems:
        raise CaseError(problems)
    return case


_NAMED = re.compile(r"^([a-z_]+(?:\.[a-z0-9_]+)+): (.+)$", re.DOTALL)


def _iso(value: Any) -> str:
    if isinstance(value, dt.date):
        return value.isoformat()
    raise TypeError(f"cannot store {type(value).__name__} in a case")


def _problem(error: Any) -> Problem:
    field = ".".join(str(part) for part in error["loc"]) or "(case)"
    message = plain_message(error)
    named = _NAMED.match(message)
    if field == "(case)" and named:
        # A whole-case check names the field it is about as "path: message".
        field, message = named.group(1), named.group(2)
    return Problem(field, message)


# The validation library's wording never reaches a person: each kind of error in plain words,
# with the allowed values or limits it carries.
_PLAIN = {
    "less_than_equal": "must be {le} or less",
    "less_than": "must be less than {lt}",
    "greater_than_equal": "must be {ge} or more",
    "greater_than": "must be more than {gt}",
    "int_parsing": "must be a whole number",
    "int_type": "must be a whole number",
    "int_from_float": "must be a whole number",
    "float_parsing": "must be a number",
    "float_type": "must be a number",
    "enum": "must be one of: {expected}",
    "literal_error": "must be one of: {expected}",
    "date_parsing": "must be a date written year-month-day, for example 2026-03-15",
    "date_from_datetime_parsing": "must be a date written year-month-day, for example 2026-03-15",
    "date_type": "must be a date written year-month-day, for example 2026-03-15",
    "missing": "is required",
    "string_too_long": "must be at most {max_length} characters",
    "too_long": "may list at most {max_length} items",
    "list_type": "must be a list",
    "string_type": "must be text",
    "dict_type": "must be a section of named fields",
    "extra_forbidden": "is not a known field (see `fusionwatch schema`)",
}


def plain_message(error: Any) -> str:
    """One validation error in plain words, naming the allowed values or the limit."""
    kind, ctx = error["type"], error.get("ctx") or {}
    if kind == "json_invalid":
        return f"not valid JSON ({ctx.get('error', 'syntax error')})"
    template = _PLAIN.get(kind)
    if template is not None:
        values = {k: _shown(v) for k, v in ctx.items()}
        try:
            return template.format(**values)
        except KeyError:
            pass
    message = str(error["msg"]).removeprefix("Value error, ")
    return message.replace("Input should be", "must be", 1)


def _shown(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return str(value).replace("'", "")
