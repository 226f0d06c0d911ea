"""Commands that run and administer the web app: serve, users, tokens and database upgrades."""

import datetime as dt
from typing import Annotated, Any

import typer
from rich.console import Console

from fusionwatch.settings import Settings
from fusionwatch.store import accounts
from fusionwatch.store.accounts import AccountError, Scope
from fusionwatch.store.database import Database

users = typer.Typer(help="Manage clinician accounts.", no_args_is_help=True)
tokens = typer.Typer(help="Issue bearer tokens for the JSON API.", no_args_is_help=True)
database = typer.Typer(help="Database maintenance.", no_args_is_help=True)
out = Console()
err = Console(stderr=True)
INVALID_INPUT = 2
FACTORY = "fusionwatch.web.app:from_environment"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _database() -> Database:
    db = Database(Settings().database_url)
    db.migrate()
    return db


def startup_lines(settings: Settings) -> list[str]:
    """What `serve` says on start: where it runs, its database, and any unsafe setting."""
    lines = [
        f"fusionwatch is running at [bold]http://{settings.host}:{settings.port}[/bold]",
        f"[dim]database: {settings.database_url}. Press Ctrl+C to stop.[/dim]",
    ]
    if not settings.cds_hooks_require_jwt:
        lines.append(
            "[yellow]CDS Hooks calls are accepted without a JWT "
            "(FUSIONWATCH_CDS_HOOKS_REQUIRE_JWT=false): for local trials only.[/yellow]"
        )
    return lines


def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
    workers: Annotated[
        int, typer.Option(min=1, max=64, help="Worker processes (one per core is typical).")
    ] = 1,
) -> None:
    """Start the web app (migrating the database first); Ctrl+C stops it."""
    # Imported here so that the other commands start without loading the web stack.
    import uvicorn  # noqa: PLC0415

    from fusionwatch.web.app import create_app, settle  # noqa: PLC0415

    base = Settings()
    settings = base.model_copy(update={"host": host or base.host, "port": port or base.port})
    from fusionwatch.cdshooks.service import ConfigurationError, check_settings  # noqa: PLC0415

    try:
        check_settings(settings)
    except ConfigurationError as problem:
        err.print(f"[red]{problem}[/red]")
        raise typer.Exit(INVALID_INPUT) from problem
    db = Database(settings.database_url)
    db.migrate()
    for line in startup_lines(settings):
        out.print(line)
    # No access log: request paths are harmless, but the log is not the place for health data.
    db.close()
    # Settings travel to worker processes through the environment they were read from.
    app: Any = settle(create_app(settings)) if workers == 1 else FACTORY
    uvicorn.run(
        app,
        factory=workers > 1,
        workers=workers,
        host=settings.host,
        port=settings.port,
        access_log=False,
        log_level="warning",
    )


@users.command("add")
def add_user(
    username: Annotated[str, typer.Argument(help="The sign-in name.")],
    password: Annotated[
        str,
        typer.Option(
            prompt=True,
            hide_input=True,
            confirmation_prompt=True,
            envvar="FUSIONWATCH_NEW_PASSWORD",
            help=f"At least {accounts.MIN_PASSWORD} characters; asked for when not given.",
        ),
    ],
) -> None:
    """Create a clinician account. There is no default account or password."""
    db = _database()
    try:
        with db.session() as session:
            accounts.add_user(session, username, password, _now())
    except AccountError as problem:
        err.print(f"[red]{problem}[/red]")
        raise typer.Exit(INVALID_INPUT) from problem
    out.print(f"Created the account '{username.strip()}'.")


@tokens.command("create")
def create_token(
    user: Annotated[str, typer.Option(help="The account the token acts for.")],
    scope: Annotated[
        list[Scope], typer.Option(help="read and/or write; repeat the option for both.")
    ],
    name: Annotated[str, typer.Option(help="What the token is for.")] = "api client",
    days: Annotated[
        int | None, typer.Option(min=1, max=3650, help="Expire after this many days.")
    ] = None,
) -> None:
    """Issue a bearer token. It is shown once; only its hash is stored."""
    now = _now()
    expires = now + dt.timedelta(days=days) if days else None
    db = _database()
    try:
        with db.session() as session:
            token = accounts.create_token(
                session,
                username=user,
                name=name,
                scopes=frozenset(scope),
                now=now,
                expires_at=expires,
            )
    except AccountError as problem:
        err.print(f"[red]{problem}[/red]")
        raise typer.Exit(INVALID_INPUT) from problem
    out.print(token, soft_wrap=True)


@database.command("upgrade")
def upgrade() -> None:
    """Apply every pending migration (serve does this too)."""
    _database()
    out.print("The database is up to date.")
