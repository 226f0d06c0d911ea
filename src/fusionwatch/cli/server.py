"""Commands that run and administer the web app: serve, users, tokens and database upgrades."""

from __future__ import annotations

import datetime as dt
import errno
import socket
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from fusionwatch.cli.exits import ExitCode
from fusionwatch.store.access import MIN_PASSWORD, Role, Scope

if TYPE_CHECKING:
    from collections.abc import Callable

    from sqlalchemy.orm import Session

    from fusionwatch.settings import Settings
    from fusionwatch.store.database import Database

users = typer.Typer(rich_markup_mode=None, help="Manage clinician accounts.", no_args_is_help=True)
tokens = typer.Typer(
    rich_markup_mode=None, help="Issue bearer tokens for the JSON API.", no_args_is_help=True
)
database = typer.Typer(rich_markup_mode=None, help="Database maintenance.", no_args_is_help=True)
teams_cli = typer.Typer(
    rich_markup_mode=None, help="Care teams and their members.", no_args_is_help=True
)
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

    from fusionwatch.cdshooks.service import ConfigurationError, check_settings
    from fusionwatch.web.app import create_app, settle

    base = _settings()
    settings = base.model_copy(update={"host": host or base.host, "port": port or base.port})
    try:
        check_settings(settings)
    except ConfigurationError as problem:
        err.print(f"[red]{problem}[/red]")
        raise typer.Exit(ExitCode.BAD_SETTING) from problem
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

    _admin(lambda s: accounts.add_user(s, username, password, _now()))
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

    now = _now()
    expires = now + dt.timedelta(days=days) if days else None
    token = _admin(
        lambda s: accounts.create_token(
            s, username=user, name=name, scopes=frozenset(scope), now=now, expires_at=expires
        )
    )
    out.print(token, soft_wrap=True)


@database.command("upgrade")
def upgrade() -> None:
    """Apply every pending migration (serve does this too)."""
    _database()
    out.print("The database is up to date.")


def _admin(action: Callable[[Session], object]) -> object:
    """Run one change in a transaction; an AccountError is a message and exit code 2."""
    from fusionwatch.store.accounts import AccountError

    db = _database()
    try:
        with db.session() as session:
            return action(session)
    except AccountError as problem:
        err.print(f"[red]{problem}[/red]")
        raise typer.Exit(ExitCode.INVALID_INPUT) from problem
    finally:
        db.close()


Username = Annotated[str, typer.Argument(help="The sign-in name.")]


@users.command("list")
def list_users() -> None:
    """Every account: active or disabled, locked or not, and its teams."""
    from fusionwatch.store import accounts, teams

    def show(s: Session) -> None:
        for user in accounts.all_users(s):
            state = "active" if user.active else "disabled"
            locked = " locked" if user.locked_until and user.locked_until > _now() else ""
            member = ", ".join(f"{t.name}:{r}" for t, r in teams.memberships_of(s, user.id))
            out.print(f"{user.username}\t{state}{locked}\t{member or '(no team)'}")

    _admin(show)


@users.command("disable")
def disable_user(username: Username) -> None:
    """Disable an account (it can no longer sign in; its sessions end; its tokens stop)."""
    from fusionwatch.store import accounts

    _admin(lambda s: accounts.set_active(s, username, False))
    out.print(f"Disabled '{username}'.")


@users.command("enable")
def enable_user(username: Username) -> None:
    """Enable a disabled account again."""
    from fusionwatch.store import accounts

    _admin(lambda s: accounts.set_active(s, username, True))
    out.print(f"Enabled '{username}'.")


@users.command("reset-password")
def reset_password(username: Username) -> None:
    """Set a new password, asked for twice (never an argument: it would stay in the history)."""
    from fusionwatch.store import accounts

    password = typer.prompt("New password", hide_input=True, confirmation_prompt=True)
    _admin(lambda s: accounts.reset_password(s, username, password))
    out.print(f"Changed the password of '{username}'; their sessions have ended.")


@users.command("unlock")
def unlock_user(username: Username) -> None:
    """Lift a lockout after failed sign-ins."""
    from fusionwatch.store import accounts

    _admin(lambda s: accounts.unlock(s, username))
    out.print(f"Unlocked '{username}'.")


@users.command("end-sessions")
def end_sessions(username: Username) -> None:
    """Sign the user out everywhere."""
    from fusionwatch.store import accounts

    count = _admin(lambda s: accounts.end_sessions(s, username))
    out.print(f"Ended {count} session(s) of '{username}'.")


@tokens.command("list")
def list_tokens() -> None:
    """Every token: id, user, name, scopes, expiry, revoked (never the token itself)."""
    from fusionwatch.store import accounts

    def show(s: Session) -> None:
        for token, username in accounts.all_tokens(s):
            expires = token.expires_at.date().isoformat() if token.expires_at else "never"
            state = "revoked" if token.revoked else "active"
            out.print(f"{token.id}\t{username}\t{token.name}\t{token.scopes}\t{expires}\t{state}")

    _admin(show)


@tokens.command("revoke")
def revoke_token(
    token_id: Annotated[int, typer.Argument(help="The id from `tokens list`.")],
) -> None:
    """Revoke a token at once."""
    from fusionwatch.store import accounts

    _admin(lambda s: accounts.revoke_token(s, token_id))
    out.print(f"Revoked token {token_id}.")


@teams_cli.command("create")
def create_team(name: Annotated[str, typer.Argument(help="The team's name.")]) -> None:
    """Create a care team."""
    from fusionwatch.store import teams

    _admin(lambda s: teams.add_team(s, name, _now()))
    out.print(f"Created the team '{name.strip()}'.")


@teams_cli.command("list")
def list_teams() -> None:
    """Every team and its members with their roles."""
    from fusionwatch.store import teams

    def show(s: Session) -> None:
        for team in teams.all_teams(s):
            members = ", ".join(f"{u.username}:{r}" for u, r in teams.members(s, team.id))
            out.print(f"{team.name}\t{members or '(no members)'}")

    _admin(show)


@teams_cli.command("add-member")
def add_member(
    team: Annotated[str, typer.Argument(help="The team's name.")],
    username: Username,
    role: Annotated[
        Role, typer.Option(help="clinician, read_only or administrator.")
    ] = Role.CLINICIAN,
) -> None:
    """Add a user to a team, or change their role in it."""
    from fusionwatch.store import teams

    _admin(lambda s: teams.set_member(s, team, username, role))
    out.print(f"'{username}' is {role.value} in '{team}'.")


@teams_cli.command("remove-member")
def remove_member(
    team: Annotated[str, typer.Argument(help="The team's name.")], username: Username
) -> None:
    """Take a user out of a team (their access to its patients ends at once)."""
    from fusionwatch.store import teams

    _admin(lambda s: teams.remove_member(s, team, username))
    out.print(f"Removed '{username}' from '{team}'.")
