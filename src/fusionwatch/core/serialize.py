"""Assessment to JSON and back to plain data, through one pydantic TypeAdapter."""

from typing import Any

from pydantic import TypeAdapter

from fusionwatch.core.results import Assessment

_ADAPTER: TypeAdapter[Assessment] = TypeAdapter(Assessment)


def dump_json(assessment: Assessment, *, indent: int | None = None) -> bytes:
    return _ADAPTER.dump_json(assessment, indent=indent)


def from_data(data: Any) -> Assessment:
    """A stored assessment (plain JSON data) back as the result objects."""
    return _ADAPTER.validate_python(data)


def to_data(assessment: Assessment) -> dict[str, Any]:
    data: dict[str, Any] = _ADAPTER.dump_python(assessment, mode="json")
    return data
