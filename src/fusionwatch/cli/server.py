"""Commands that run and administer the web app: serve, users, tokens and database upgrades."""

import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any

import typer
from rich.console import Console
from sqlalchemy.orm import Session

from fusionwatch.settings import Settings
from fusionwatch.store import accounts
from fusionwatch.store.accounts import AccountError, Role, Scope
from fusionwatch.store.database import Database

users = typer.Typer(help="Manage clinician accounts.", no_args_is_help=True)
tokens = typer.Typer(help="Issue bearer tokens for the JSON API.", no_args_is_help=True)
database = typer.Typer(help="Database maintenance.", no_args_is_help=True)
teams_cli = typer.Typer(help="Care teams and their members.", no_args_is_help=True)
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


def _admin(action: Callable[[Session], object]) -> object:
    """Run one change in a transaction; an AccountError is a message and exit code 2."""
    db = _database()
    try:
        with db.session() as session:
            return action(session)
    except AccountError as problem:
        err.print(f"[red]{problem}[/red]")
        raise typer.Exit(INVALID_INPUT) from problem
    finally:
        db.close()


Username = Annotated[str, typer.Argument(help="The sign-in name.")]


@users.command("list")
def list_users() -> None:
    """Every account: active or disabled, locked or not, and its teams."""
    from fusionwatch.store import teams  # noqa: PLC0415

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
    _admin(lambda s: accounts.set_active(s, username, False))
    out.print(f"Disabled '{username}'.")


@users.command("enable")
def enable_user(username: Username) -> None:
    """Enable a disabled account again."""
    _admin(lambda s: accounts.set_active(s, username, True))
    out.print(f"Enabled '{username}'.")


@users.command("reset-password")
def reset_password(username: Username) -> None:
    """Set a new password, asked for twice (never an argument: it would stay in the history)."""
    password = typer.prompt("New password", hide_input=True, confirmation_prompt=True)
    _admin(lambda s: accounts.reset_password(s, username, password))
    out.print(f"Changed the password of '{username}'; their sessions have ended.")


@users.command("unlock")
def unlock_user(username: Username) -> None:
    """Lift a lockout after failed sign-ins."""
    _admin(lambda s: accounts.unlock(s, username))
    out.print(f"Unlocked '{username}'.")


@users.command("end-sessions")
def end_sessions(username: Username) -> None:
    """Sign the user out everywhere."""
    count = _admin(lambda s: accounts.end_sessions(s, username))
    out.print(f"Ended {count} session(s) of '{username}'.")


@tokens.command("list")
def list_tokens() -> None:
    """Every token: id, user, name, scopes, expiry, revoked (never the token itself)."""

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
    _admin(lambda s: accounts.revoke_token(s, token_id))
    out.print(f"Revoked token {token_id}.")


@teams_cli.command("create")
def create_team(name: Annotated[str, typer.Argument(help="The team's name.")]) -> None:
    """Create a care team."""
    from fusionwatch.store import teams  # noqa: PLC0415

    _admin(lambda s: teams.add_team(s, name, _now()))
    out.print(f"Created the team '{name.strip()}'.")


@teams_cli.command("list")
def list_teams() -> None:
    """Every team and its members with their roles."""
    from fusionwatch.store import teams  # noqa: PLC0415

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
    from fusionwatch.store import teams  # noqa: PLC0415

    _admin(lambda s: teams.set_member(s, team, username, role))
    out.print(f"'{username}' is {role.value} in '{team}'.")


@teams_cli.command("remove-member")
def remove_member(
    team: Annotated[str, typer.Argument(help="The team's name.")], username: Username
) -> None:
    """Take a user out of a team (their access to its patients ends at once)."""
    from fusionwatch.store import teams  # noqa: PLC0415

    _admin(lambda s: teams.remove_member(s, team, username))
    out.print(f"Removed '{username}' from '{team}'.")
