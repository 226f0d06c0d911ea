"""Commands that run and administer the web app: serve, users, tokens and database upgrades."""

from __future__ import annotations

import datetime as dt
import errno
import socket
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from fusionwatch.cli.exits import ExitCode
from fusionwatch.store.access import MIN_PASSWORD, Scope

if TYPE_CHECKING:
    from fusionwatch.settings import Settings
    from fusionwatch.store.database import Database

users = typer.Typer(rich_markup_mode=None, help="Manage clinician accounts.", no_args_is_help=True)
tokens = typer.Typer(
    rich_markup_mode=None, help="Issue bearer tokens for the JSON API.", no_args_is_help=True
)
database = typer.Typer(rich_markup_mode=None, help="Database maintenance.", no_args_is_help=True)
out = Console()
err = Console(stderr=True)
FACTORY = "fusionwatch.web.app:from_environment"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _settings() -> Settings:
    """The FUSIONWATCH_* settings; a bad one is named with what is allowed, then exit 7."""
    from pydantic import ValidationError

    from fusionwatch.settings import Settings

    try:
        return Settings()
    except ValidationError as error:
        for problem in error.errors():
            name = "FUSIONWATCH_" + "_".join(str(p) for p in problem["loc"]).upper()
            err.print(f"[bold red]{name}[/bold red]: {problem['msg']}", highlight=False)
        raise typer.Exit(ExitCode.BAD_SETTING) from None


def _open_database(url: str) -> Database:
    # The store (SQLAlchemy, argon2) loads only for the commands that need it: a fast --help.
    from sqlalchemy.exc import ArgumentError

    from fusionwatch.store.database import Database

    try:
        return Database(url)
    except ArgumentError as error:
        err.print(
            "[bold red]FUSIONWATCH_DATABASE_URL[/bold red]: not a database URL; use "
            "sqlite:///path/to/file.sqlite3 or postgresql+psycopg://user@host/name",
            highlight=False,
        )
        raise typer.Exit(ExitCode.BAD_SETTING) from error


def _database() -> Database:
    db = _open_database(_settings().database_url)
    db.migrate()
    return db


def check_address(host: str, port: int) -> None:
    """Exit with a clear message when the address cannot be listened on (before saying "running").

    A busy port exits 6 and an address this machine does not have exits 7, so neither is
    mistaken for the stale-rulebook code 3 that the server library uses for any start failure.
    """
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as error:
        err.print(f"[bold red]FUSIONWATCH_HOST[/bold red]: cannot resolve {host!r}.")
        raise typer.Exit(ExitCode.BAD_SETTING) from error
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        # The same option the server sets, so a port in TIME_WAIT is not reported busy.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                err.print(
                    f"[bold red]Port {port} on {host} is already in use[/bold red] (another "
                    "fusionwatch, or another program). Stop it, or choose a free port with "
                    "--port or FUSIONWATCH_PORT."
                )
                raise typer.Exit(ExitCode.PORT_IN_USE) from error
            err.print(f"[bold red]Cannot listen on {host}:{port}[/bold red]: {error.strerror}.")
            raise typer.Exit(ExitCode.BAD_SETTING) from error


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
    port: Annotated[int | None, typer.Option(min=1, max=65535, help="Port to listen on.")] = None,
    workers: Annotated[
        int, typer.Option(min=1, max=64, help="Worker processes (one per core is typical).")
    ] = 1,
) -> None:
    """Start the web app (migrating the database first); Ctrl+C stops it."""
    # Imported here so that the other commands start without loading the web stack.
    import uvicorn

    from fusionwatch.web.app import create_app, settle

    base = _settings()
    settings = base.model_copy(update={"host": host or base.host, "port": port or base.port})
    check_address(settings.host, settings.port)
    db = _open_database(settings.database_url)
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
            help=f"At least {MIN_PASSWORD} characters; asked for when not given.",
        ),
    ],
) -> None:
    """Create a clinician account. There is no default account or password."""
    from fusionwatch.store import accounts
    from fusionwatch.store.accounts import AccountError

    db = _database()
    try:
        with db.session() as session:
            accounts.add_user(session, username, password, _now())
    except AccountError as problem:
        err.print(f"[red]{problem}[/red]")
        raise typer.Exit(ExitCode.INVALID_INPUT) from problem
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
    from fusionwatch.store import accounts
    from fusionwatch.store.accounts import AccountError

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
        raise typer.Exit(ExitCode.INVALID_INPUT) from problem
    out.print(token, soft_wrap=True)


@database.command("upgrade")
def upgrade() -> None:
    """Apply every pending migration (serve does this too)."""
    _database()
    out.print("The database is up to date.")
