"""Break the glass: a clinician asks for emergency read access to another team's patient.

The form names the patient by the reference their team recorded (the MRN) and asks for the
kind of reason and the reason. The fields are checked first, without looking at any patient:
only a request whose reason is complete is looked up, and that request is audited whatever it
finds, so nobody learns whether a patient exists without having recorded why they asked. Ids
still answer 404 without an access; the 404 page only points here, the same for every id.
Browser sessions only (an API token cannot break the glass), and for clinicians and
administrators (a read-only member cannot); the access is read only and ends after
``FUSIONWATCH_BREAK_GLASS_MINUTES``. A user makes at most ``FUSIONWATCH_BREAK_GLASS_MAX_PER_DAY``
requests in 24 hours (found or not), which bounds how many references anyone can test.
"""

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from fusionwatch.store import glass
from fusionwatch.store.accounts import Principal
from fusionwatch.web.context import AppContext, context
from fusionwatch.web.pages import page
from fusionwatch.web.security import Denial, ForbiddenError, signed_in, signed_in_form

router = APIRouter(include_in_schema=False)
Ctx = Annotated[AppContext, Depends(context)]
User = Annotated[Principal, Depends(signed_in)]
FormUser = Annotated[Principal, Depends(signed_in_form)]


def _may_break(user: Principal) -> None:
    if not user.writable_teams or user.via != "web":
        raise ForbiddenError(
            "Emergency access is for clinicians: a read-only member cannot break the glass.",
            denial=Denial(user, "break_glass", None),
        )


@router.get("/break-glass", response_class=HTMLResponse)
def glass_form(
    request: Request,
    ctx: Ctx,
    user: User,
    reference: Annotated[str, Query(max_length=glass.REFERENCE_MAX)] = "",
) -> HTMLResponse:
    _may_break(user)
    return _form(request, ctx, user, glass.Request.of(reference, "", ""))


@router.post("/break-glass")
def glass_submit(
    request: Request,
    ctx: Ctx,
    user: FormUser,
    *,
    reference: Annotated[str, Form()] = "",
    category: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
) -> Response:
    _may_break(user)
    asked = glass.Request.of(reference, category, reason)
    problems = asked.problems()
    if problems:  # nothing about patients has been looked at yet
        return _form(request, ctx, user, asked, problems=problems, status=422)
    with ctx.db.session() as db:
        since = ctx.clock() - dt.timedelta(days=1)
        if glass.requests_since(db, user.user_id, since) >= ctx.settings.break_glass_max_per_day:
            raise ForbiddenError(
                "You have made as many emergency access requests as one day allows. Ask an "
                "administrator of the patient's team, or of your own, for access.",
                status=429,
                denial=Denial(user, "break_glass", None),
            )
        outcome, patient, grant = glass.request_access(
            db,
            user_id=user.user_id,
            own_teams=user.teams,
            asked=asked,
            now=ctx.clock(),
            lasts=ctx.break_glass_lasts,
        )
        if outcome is glass.Outcome.OWN_TEAM and patient is not None:
            return RedirectResponse(f"/patients/{patient.id}", status_code=303)
        ctx.audit(
            db,
            user,
            glass.ACTION,
            ("patient", patient.id if patient is not None else None),
            outcome="ok" if grant is not None else outcome.value,
            team_id=patient.team_id if patient is not None else None,
            detail=glass.detail(asked.category, asked.reason, grant.id if grant else None),
        )
    if patient is not None:
        return RedirectResponse(f"/patients/{patient.id}", status_code=303)
    if outcome is glass.Outcome.AMBIGUOUS:
        message = (
            "Patients of more than one other team have this reference, and emergency access is "
            "to one patient only. Your request was recorded; call the patient's team."
        )
    else:
        message = (
            "No patient of another team has this reference. Check it against the patient's "
            "record; your request was recorded."
        )
    return _form(
        request, ctx, user, asked, problems={"reference": message}, status=404, recorded=True
    )


@router.post("/break-glass/end")
def glass_end(ctx: Ctx, user: FormUser) -> Response:
    """End every emergency access of the user now (the banner's button)."""
    with ctx.db.session() as db:
        for grant in glass.end_all(db, user.user_id, ctx.clock()):
            ctx.audit(
                db,
                user,
                glass.END_ACTION,
                ("patient", grant.patient_id),
                team_id=grant.team_id,
                detail=glass.detail(grant.category, grant.reason, grant.id),
            )
    return RedirectResponse("/patients", status_code=303)


def _form(
    request: Request,
    ctx: AppContext,
    user: Principal,
    asked: glass.Request,
    *,
    problems: dict[str, str] | None = None,
    status: int = 200,
    recorded: bool = False,
) -> HTMLResponse:
    data = {
        "user": user,
        "asked": asked,
        "problems": problems or {},
        "recorded": recorded,
        "categories": glass.CATEGORIES,
        "minutes": f"{ctx.settings.break_glass_minutes:g}",
        "reason_min": glass.REASON_MIN,
        "reason_max": glass.REASON_MAX,
    }
    return page(request, "break_glass.html", data, status)
