"""What every request handler needs, built once in create_app and kept on app.state."""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from fastapi import Request
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session

from fusionwatch.core.compiled import Knowledge
from fusionwatch.core.knowledge import SOURCE_LANGUAGE
from fusionwatch.core.site import Site
from fusionwatch.knowledge.loader import load_in
from fusionwatch.settings import Settings
from fusionwatch.store import records
from fusionwatch.store.accounts import LoginPolicy, Principal
from fusionwatch.store.database import Database
from fusionwatch.web.slowwork import SlowWork

Clock = Callable[[], dt.datetime]


def utc_now() -> dt.datetime:
    """Naive UTC, as stored in the database."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


@dataclass(frozen=True, slots=True)
class AppContext:
    settings: Settings
    db: Database
    kb: Knowledge
    templates: Jinja2Templates
    clock: Clock
    # Bounds on slow work per worker: PDFs (and charts), and password checks (argon2 uses 64 MiB).
    pdfs: SlowWork
    hashing: SlowWork

    def kb_in(self, language: str) -> Knowledge:
        """The knowledge base with its patient texts in ``language`` (the clinician's stay)."""
        if language == SOURCE_LANGUAGE:
            return self.kb
        return load_in(language)

    @property
    def site(self) -> Site:
        """The deployment's clinical choices, the same for pages, API and CDS Hooks."""
        return self.settings.site()

    @property
    def today(self) -> dt.date:
        return self.clock().date()

    def audit(
        self,
        db: Session,
        who: Principal | str,
        action: str,
        target: tuple[str, object],
        *,
        outcome: str = "ok",
        team_id: int | None = None,
        detail: str | None = None,
    ) -> None:
        """Record who did what to which record (ids only, never clinical content; ``detail``
        holds a break-the-glass reason, as the clinician wrote it)."""
        records.audit(
            db,
            actor=who.actor if isinstance(who, Principal) else who,
            actor_id=who.user_id if isinstance(who, Principal) else None,
            team_id=team_id,
            action=action,
            target=target,
            now=self.clock(),
            outcome=outcome,
            detail=detail,
        )

    @property
    def login_policy(self) -> LoginPolicy:
        return LoginPolicy(
            self.settings.login_max_failures,
            dt.timedelta(minutes=self.settings.lockout_minutes),
            self.settings.login_address_max_failures,
            dt.timedelta(minutes=self.settings.login_address_window_minutes),
        )

    @property
    def session_lifetime(self) -> dt.timedelta:
        return dt.timedelta(hours=self.settings.session_hours)

    @property
    def session_idle(self) -> dt.timedelta:
        return dt.timedelta(minutes=self.settings.session_idle_minutes)

    @property
    def break_glass_lasts(self) -> dt.timedelta:
        return dt.timedelta(minutes=self.settings.break_glass_minutes)


def context(request: Request) -> AppContext:
    ctx: AppContext = request.app.state.ctx
    return ctx
