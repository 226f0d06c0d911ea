"""Run-time settings of the server and the command line, read from FUSIONWATCH_* variables."""

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE = Path("var") / "fusionwatch.sqlite3"


class Settings(BaseSettings):
    """Built once in an entry point and passed down; nothing reads the environment elsewhere."""

    model_config = SettingsConfigDict(env_prefix="FUSIONWATCH_", frozen=True)

    database_url: str = Field(
        f"sqlite:///{DEFAULT_DATABASE}",
        description="SQLAlchemy URL: SQLite by default, postgresql+psycopg://… for PostgreSQL.",
    )
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    secure_cookies: bool | None = Field(
        None, description="Force the Secure cookie flag; by default it follows the request scheme."
    )
    session_hours: float = Field(8.0, gt=0, le=24 * 7)
    # Failed-login handling: OWASP's authentication guidance asks for lockout or throttling but
    # gives no number, so these are site settings.
    login_max_failures: int = Field(5, ge=1, le=100)
    lockout_minutes: float = Field(15.0, ge=0, le=24 * 60)
