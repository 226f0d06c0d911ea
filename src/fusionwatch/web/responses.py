"""The JSON API's documented answers: response bodies and error statuses, for the OpenAPI document.

The routes build plain dicts (no response_model: no second validation on the hot path); these
models only describe them. The schemathesis run in the tests checks every answer against this
description, so a drift between the two fails the suite.
"""

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, WithJsonSchema

from fusionwatch.core.case import Case
from fusionwatch.core.results import Assessment

Responses = dict[int | str, dict[str, Any]]
ASSESSMENT_SCHEMA = TypeAdapter(Assessment).json_schema(mode="serialization")
CASE_SCHEMA = Case.model_json_schema()


class Documented(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Problem(Documented):
    field: str
    message: str


class Problems(Documented):
    """Every error of the API: a title for people and, for bad input, one entry per field."""

    title: str
    problems: list[Problem]


class Latest(Documented):
    id: int
    triage: str
    suspicion: str
    as_of: str | None


class PatientOut(Documented):
    id: int
    team_id: int
    display_name: str
    reference: str | None
    created_at: str
    latest: Latest | None


class PatientPage(Documented):
    patients: list[PatientOut]
    next_before: int | None = Field(description="Pass as `before` for the next page.")


class AssessmentSummary(Documented):
    id: int
    patient_id: int
    created_at: str
    as_of: str
    knowledge_version: str
    triage: str
    suspicion: str


class PatientWithAssessments(PatientOut):
    assessments: list[AssessmentSummary]


class StoredAssessment(AssessmentSummary):
    case: Annotated[dict[str, Any], WithJsonSchema(CASE_SCHEMA)] = Field(
        description="The validated case as stored."
    )
    result: Annotated[dict[str, Any], WithJsonSchema(ASSESSMENT_SCHEMA)] = Field(
        description="The assessment, as `POST /api/v1/assess` gives."
    )


class AuditEventOut(Documented):
    at: str
    actor: str
    action: str
    object_type: str | None
    object_id: str | None
    outcome: str
    team_id: int | None
    detail: str | None = Field(
        description="For break-the-glass events: the grant, the kind of reason and the reason."
    )


class MemberOut(Documented):
    user_id: int
    username: str
    role: str = Field(description="clinician, read_only or administrator")
    active: bool
    locked: bool = Field(description="Locked for a while after repeated failed sign-ins.")
    other_teams: int = Field(description="How many other teams the account is in.")


class TokenOut(Documented):
    """An API token of a member; never its secret (only a hash of it is stored)."""

    id: int
    owner: str
    name: str
    scopes: list[str]
    created_at: str
    expires_at: str | None
    status: str = Field(description="active, revoked or expired")


class BreakGlassOut(Documented):
    """A clinician of another team broke the glass to read one of this team's patients."""

    id: int
    username: str
    patient_id: int
    reference: str | None
    category: str
    reason: str
    created_at: str
    expires_at: str
    active: bool


class SiteRow(Documented):
    name: str
    variable: str
    value: str
    shown: str
    source: str
    choices: str


class SiteSettings(Documented):
    site: dict[str, SiteRow]


_WHY = {
    400: "The body could not be read as JSON text.",
    401: "No bearer token, or one that is unknown, revoked or expired.",
    403: "The token lacks the scope, or your role in the team does not allow this.",
    404: "No such record in your teams.",
    413: "The request body is over the size limit.",
    422: "The request was not accepted: each problem names its field.",
}


def errors(*statuses: int) -> Responses:
    """The error answers a route can give, each a ``Problems`` body."""
    return {s: {"model": Problems, "description": _WHY[s]} for s in statuses}


def answers(model: Any, *statuses: int, ok: int = 200) -> Responses:
    """A route's success body and its error answers."""
    success: Responses = {ok: {"model": model}}
    return success | errors(*statuses)


def assessment_body() -> Responses:
    """The explained assessment, described by the result types themselves."""
    content = {"application/json": {"schema": ASSESSMENT_SCHEMA}}
    return {200: {"description": "The explained assessment.", "content": content}}
