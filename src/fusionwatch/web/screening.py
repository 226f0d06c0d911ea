"""Saved screening runs in the workspace: the team's runs, a paged and filtered worklist, and each
episode opened as a full explained assessment from the single-case engine.

Runs are saved by ``fusionwatch screen --save-to-team`` (the CLI reads the registry files; the web
app never reads files from disk). Another team's run answers 404, as a patient does.
"""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse

from fusionwatch.core.engine import assess
from fusionwatch.core.errors import CaseError, NotFoundError
from fusionwatch.core.site import Site
from fusionwatch.core.vocab import Suspicion
from fusionwatch.files.case import parse_data
from fusionwatch.knowledge import load_labels
from fusionwatch.report.view import build, known_values
from fusionwatch.store import screening
from fusionwatch.store.accounts import Principal
from fusionwatch.store.tables import ScreeningRun
from fusionwatch.web.access import MAX_ID, RefusedError
from fusionwatch.web.context import AppContext, context
from fusionwatch.web.pages import page
from fusionwatch.web.security import Denial, signed_in

router = APIRouter(include_in_schema=False)
Ctx = Annotated[AppContext, Depends(context)]
User = Annotated[Principal, Depends(signed_in)]
RecordId = Annotated[int, Path(ge=1, le=MAX_ID)]
PAGE = 50
# The worklist's groups, in ranking order (screen/worklist.py names them).
GROUPS = ("emergency", "urgent", "screen not done", "prompt referral", "routine")


@router.get("/screening", response_class=HTMLResponse)
def runs_page(request: Request, ctx: Ctx, user: User) -> HTMLResponse:
    with ctx.db.session() as db:
        found = screening.runs(db, user.teams)
        ctx.audit(db, user, "view", ("screening_runs", None))
    return page(request, "screening_runs.html", {"user": user, "runs": found, "groups": GROUPS})


@router.get("/screening/{run_id}", response_class=HTMLResponse)
def worklist_page(
    request: Request,
    ctx: Ctx,
    user: User,
    run_id: RecordId,
    *,
    group: Annotated[str | None, Query(max_length=40)] = None,
    suspicion: Annotated[str | None, Query(max_length=40)] = None,
    after: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
) -> HTMLResponse:
    group = group if group in GROUPS else None
    suspicion = suspicion if suspicion in {s.value for s in Suspicion} else None
    with ctx.db.session() as db:
        run = _run(db, user, run_id)
        rows = screening.rows_page(
            db, run_id, after=after, limit=PAGE, group=group, suspicion=suspicion
        )
        ctx.audit(db, user, "view", ("screening_run", run_id), team_id=run.team_id)
    more = len(rows) > PAGE
    rows = rows[:PAGE]
    labels = load_labels()
    return page(
        request,
        "screening_run.html",
        {
            "user": user,
            "run": run,
            "rows": rows,
            "groups": GROUPS,
            "bands": [s.value for s in Suspicion],
            "group": group,
            "suspicion": suspicion,
            "next_after": rows[-1].position if more and rows else None,
            "question": lambda fact: _question(labels, fact),
        },
    )


@router.get("/screening/{run_id}/episodes/{position}", response_class=HTMLResponse)
def episode_page(
    request: Request,
    ctx: Ctx,
    user: User,
    run_id: RecordId,
    position: Annotated[int, Path(ge=1, le=MAX_ID)],
) -> HTMLResponse:
    with ctx.db.session() as db:
        run = _run(db, user, run_id)
        found = screening.row(db, run_id, position)
        if found is None:
            raise NotFoundError("episode")
        ctx.audit(db, user, "view", ("screening_row", found.id), team_id=run.team_id)
    # The single-case engine, as of the run's date and with the run's settings (a plain `def`
    # route: FastAPI runs it, database work and assessment, off the event loop).
    try:
        report = _report(ctx, run, found.case_data, found.episode_id)
    except CaseError as error:
        # Data the case model refuses (for example rehab longer than the time since surgery):
        # named, never guessed at.
        problems, report = error.problems, None
    else:
        problems = []
    return page(
        request,
        "screening_episode.html",
        {
            "user": user,
            "run": run,
            "row": found,
            "report": report,
            "problems": problems,
            "set_aside": [
                _question(load_labels(), f) for f in (found.set_aside or "").split(";") if f.strip()
            ],
            "current_version": ctx.kb.version,
        },
        422 if problems else 200,
    )


def _run(db: Any, user: Principal, run_id: int) -> ScreeningRun:
    found = screening.run(db, user.teams, run_id)
    if found is None:
        # Audited by the error handler once this request's unit of work has ended (web/access).
        raise RefusedError(Denial(user, "screening_run", run_id))
    return found


def _report(ctx: AppContext, run: ScreeningRun, data: dict[str, Any], episode: str) -> Any:
    case = parse_data(data, run.as_of)
    settings = run.settings
    cutoff = settings.get("motion_cutoff_deg")
    site = Site(
        str(settings.get("stimulator_policy", ctx.site.stimulator_policy)),
        float(cutoff) if isinstance(cutoff, int | float) else None,
        ctx.site.urgent_line,
    )
    result = assess(case, ctx.kb, run.as_of, site)
    catalogue = load_labels()
    known = known_values(case, catalogue.kb)
    return build(result, catalogue, "clinician", known=known, who=f"episode {episode}")


def _question(labels: Any, fact: str) -> str:
    """An open input's clinician name, from the labels catalogue."""
    return str(labels.fact(fact.strip(), "clinician"))
