"""The CDS Hooks 2.0 answers as the spec draws them, for the OpenAPI document.

The service builds plain dicts; these models describe them (required fields, the indicator and
link vocabularies, a summary under 140 characters), and the schemathesis run in the tests checks
every answer against them.
"""

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Responses = dict[int | str, dict[str, Any]]


class Spec(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Coding(Spec):
    system: str | None = None
    code: str
    display: str | None = None


class CardSource(Spec):
    label: str
    url: str | None = None
    icon: str | None = None
    topic: Coding | None = None


class Action(Spec):
    type: Literal["create", "update", "delete"]
    description: str
    resource: dict[str, Any] | None = None


class Suggestion(Spec):
    label: str
    uuid: str | None = None
    isRecommended: bool | None = None  # noqa: N815  (the spec's names)
    actions: list[Action] = []


class Link(Spec):
    label: str
    url: str
    type: Literal["absolute", "smart"]
    appContext: str | None = None  # noqa: N815


class Card(Spec):
    uuid: str | None = None
    summary: str = Field(max_length=139)
    detail: str | None = None
    indicator: Literal["info", "warning", "critical"]
    source: CardSource
    suggestions: list[Suggestion] = []
    selectionBehavior: Literal["at-most-one", "any"] | None = None  # noqa: N815
    overrideReasons: list[Coding] = []  # noqa: N815
    links: list[Link] = []


class Cards(Spec):
    cards: list[Card]


class Service(Spec):
    hook: str
    id: str
    title: str | None = None
    description: str
    prefetch: dict[str, str] = {}
    usageRequirements: str | None = None  # noqa: N815


class Discovery(Spec):
    services: list[Service]


class Empty(Spec):
    """The feedback endpoint's answer: nothing to say."""


class Issue(Spec):
    severity: Literal["fatal", "error", "warning", "information"]
    code: str
    diagnostics: str | None = None


class OperationOutcome(Spec):
    """Every refusal of the CDS service: a FHIR OperationOutcome with one issue."""

    resourceType: Literal["OperationOutcome"]  # noqa: N815
    issue: list[Issue] = Field(min_length=1)


_WHY = {
    400: "The body is not JSON, or the hook is not one this service answers.",
    401: "No JWT, or one that is not valid for this service (CDS Hooks 2.0, trusting services).",
    404: "No service of that id.",
    412: "A required prefetch is missing; this service never queries the FHIR server.",
    413: "The request body is over the size limit.",
    422: "The body does not fit the request model.",
}


def answers(model: Any, *statuses: int) -> Responses:
    """A route's success body and its refusals."""
    success: Responses = {200: {"model": model}}
    return success | refusals(*statuses)


def refusals(*statuses: int) -> Responses:
    return {s: {"model": OperationOutcome, "description": _WHY[s]} for s in statuses}
