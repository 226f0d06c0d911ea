"""Validation of FHIR resources against the fhir.resources R4B models."""

from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from pydantic import ValidationError


class InvalidResourceError(ValueError):
    """A resource that the R4B models reject, with the first problem found."""


def validate(resource: dict[str, Any]) -> dict[str, Any]:
    """Return the resource unchanged if it is valid FHIR R4B, else raise InvalidResourceError."""
    kind = resource.get("resourceType")
    if not isinstance(kind, str):
        raise InvalidResourceError("has no resourceType")
    try:
        model = get_fhir_model_class(kind)
    except (KeyError, ValueError) as err:
        raise InvalidResourceError(f"unknown resourceType {kind!r}") from err
    try:
        model.model_validate(resource)
    except ValidationError as err:
        first = err.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first["loc"])
        raise InvalidResourceError(f"{kind} {where}: {first['msg']}") from err
    return resource
