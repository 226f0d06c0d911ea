"""Imaging studies and follow-up visits as panel Observations, one component per recorded field.

No FHIR resource holds a fusion CT graded level by level, or one visit's scores, with every field a
case keeps. So each study and each visit is an Observation whose components carry the fields, coded
in the fusionwatch code system by their case path (``imaging.studies.levels.bridwell``); a study's
levels are member Observations (``hasMember``) with the level as body site. Pairs such as landmark
points take one component per coordinate (``….anterior_superior.0`` and ``.1``). Reading reverses
the mapping exactly; a component it cannot read is reported, never guessed.
"""

from collections.abc import Iterator
from typing import Any

from fusionwatch.fhir.codes import ANSWER_CODES, SCORE_LOINC, System

Resource = dict[str, Any]

STUDY = "imaging.studies"
LEVEL = "imaging.studies.levels"
VISIT = "follow_up"
PANEL_TITLES = {
    STUDY: "Imaging study after the fusion",
    LEVEL: "Imaging findings at one fused level",
    VISIT: "Outcome scores at one visit",
}
# UCUM units of the numeric fields, by field name; other numbers are pure numbers ("1").
_UNITS = {
    "month": "mo",
    "months_since": "mo",
    "angle_deg": "deg",
    "translation_mm": "mm",
    "interspinous_mm": "mm",
    "periscrew_lucency_mm": "mm",
    "cage_subsidence_mm": "mm",
    "walking_minutes": "min",
    "mm_per_pixel": "mm/{pixel}",
    "nrs_axial": "{score}",
    "nrs_limb": "{score}",
    "odi": "{score}",
    "ndi": "{score}",
    "promis_pf": "{score}",
    "eq5d_index": "{score}",
    "anterior_superior": "{pixel}",
    "posterior_superior": "{pixel}",
    "anterior_inferior": "{pixel}",
    "posterior_inferior": "{pixel}",
}
_TEXT = {"level"}
_DATES = {"date"}
_ANSWER_OF_CODE = {code: answer for answer, code in ANSWER_CODES.items()}


def panel_kind(resource: Resource) -> str | None:
    """STUDY, LEVEL or VISIT when the Observation is one of these panels, else None."""
    for coding in (resource.get("code") or {}).get("coding") or ():
        if coding.get("system") == System.FACT and coding.get("code") in PANEL_TITLES:
            return str(coding["code"])
    return None


def panel_code(kind: str) -> Resource:
    return {"coding": [{"system": System.FACT, "code": kind}], "text": PANEL_TITLES[kind]}


def components(prefix: str, data: dict[str, Any]) -> list[Resource]:
    """One component per leaf of the (JSON-mode) data, coded by its path under the prefix."""
    return [_component(path, value) for path, value in _leaves(prefix, data)]


def _leaves(path: str, value: Any) -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _leaves(f"{path}.{key}", item)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _leaves(f"{path}.{index}", item)
    else:
        yield path, value


def _name(path: str) -> str:
    """The field a path ends in, skipping coordinate indices."""
    return next(part for part in reversed(path.split(".")) if not part.isdigit())


def _component(path: str, value: Any) -> Resource:
    name = _name(path)
    loinc = [{"system": System.LOINC, "code": SCORE_LOINC[name]}] if name in SCORE_LOINC else []
    component: Resource = {"code": {"coding": [*loinc, {"system": System.FACT, "code": path}]}}
    if isinstance(value, bool):
        return component | {"valueBoolean": value}
    if isinstance(value, int | float):
        unit = _UNITS.get(name, "1")
        quantity = {"value": value, "unit": unit, "system": System.UCUM, "code": unit}
        return component | {"valueQuantity": quantity}
    if name in _DATES:
        return component | {"valueDateTime": value}
    if name in _TEXT:
        return component | {"valueString": value}
    codings = [{"system": f"{System.FACT}/{path}", "code": value}]
    if value in ANSWER_CODES:
        codings.insert(0, {"system": System.SNOMED, "code": ANSWER_CODES[value]})
    return component | {"valueCodeableConcept": {"coding": codings, "text": value}}


def read_components(prefix: str, resource: Resource) -> tuple[dict[str, Any] | None, list[str]]:
    """The panel's fields as nested data (None if they do not form a record), and a problem line
    for each component not used."""
    flat: dict[str, Any] = {}
    problems: list[str] = []
    for component in resource.get("component") or ():
        codings = (component.get("code") or {}).get("coding") or ()
        path = next((c.get("code") for c in codings if c.get("system") == System.FACT), None)
        if not isinstance(path, str) or not path.startswith(prefix + "."):
            shown = path or ", ".join(str(c.get("code")) for c in codings) or "without a code"
            problems.append(f"component {shown} is not a field of {prefix}")
            continue
        value, problem = _value(path, component)
        key = path.removeprefix(prefix + ".")
        if problem:
            problems.append(f"{path}: {problem}")
        elif key in flat:
            problems.append(f"{path}: given twice; the first value is kept")
        else:
            flat[key] = value
    for key in _clashes(flat):
        problems.append(f"{prefix}.{key}: clashes with another component's field; left out")
        del flat[key]
    data = nest(flat)
    if not isinstance(data, dict):
        problems.append(f"the components do not form one {prefix} record")
        return None, problems
    return data, problems


def _clashes(flat: dict[str, Any]) -> list[str]:
    """Paths that are both a value and the parent of another value (e.g. ``a`` and ``a.b``)."""

    def ancestors(key: str) -> set[str]:
        parts = key.split(".")
        return {".".join(parts[:n]) for n in range(1, len(parts))}

    parents = set().union(*(ancestors(key) for key in flat))
    return sorted(key for key in flat if key in parents or ancestors(key) & flat.keys())


def _value(path: str, component: Resource) -> tuple[Any, str]:
    if isinstance(component.get("valueBoolean"), bool):
        return component["valueBoolean"], ""
    if isinstance(component.get("valueInteger"), int):
        return component["valueInteger"], ""
    if "valueQuantity" in component:
        return _quantity(path, component["valueQuantity"])
    if "valueDateTime" in component:
        day = str(component["valueDateTime"])[:10]
        return (day, "") if len(day) == 10 else (None, f"date {day} is not a full day")
    if isinstance(component.get("valueString"), str):
        return component["valueString"], ""
    return _coded(path, component.get("valueCodeableConcept") or {})


def _quantity(path: str, quantity: Resource) -> tuple[Any, str]:
    unit = _UNITS.get(_name(path), "1")
    if quantity.get("comparator"):
        return None, f"value is {quantity['comparator']} {quantity.get('value')}, not a number"
    if (quantity.get("system"), quantity.get("code")) != (System.UCUM, unit):
        return None, f"unit {quantity.get('code') or quantity.get('unit')} is not UCUM {unit}"
    number = quantity.get("value")
    return (number, "") if isinstance(number, int | float) else (None, "no numeric value")


def _coded(path: str, concept: Resource) -> tuple[Any, str]:
    for coding in concept.get("coding") or ():
        if coding.get("system") == f"{System.FACT}/{path}":
            return coding.get("code"), ""
        if coding.get("system") == System.SNOMED and coding.get("code") in _ANSWER_OF_CODE:
            return _ANSWER_OF_CODE[coding["code"]], ""
    return None, "value not recognised"


def nest(flat: dict[str, Any]) -> Any:
    """Dotted paths back into nested data; keys 0..n-1 become a list (gaps stay a mapping, which
    the case model then rejects, naming the field)."""
    nested: dict[str, Any] = {}
    for path, value in flat.items():
        *parents, name = path.split(".")
        node = nested
        for part in parents:
            node = node.setdefault(part, {})
        node[name] = value
    return _lists(nested)


def _lists(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    items = {key: _lists(value) for key, value in node.items()}
    if items and sorted(items) == sorted(str(n) for n in range(len(items))):
        return [items[str(n)] for n in range(len(items))]
    return items
