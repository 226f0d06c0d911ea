"""Run-time settings of the server and the command line, read from FUSIONWATCH_* variables."""

from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from fusionwatch.core.site import DEFAULT_POLICY, Site

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
    # Throttling per client address (behind a proxy every client shares one address: raise it).
    login_address_max_failures: int = Field(50, ge=1, le=100_000)
    login_address_window_minutes: float = Field(15.0, gt=0, le=24 * 60)
    # OWASP's session management guidance names 15-30 minutes of idleness for low-risk
    # applications and 2-5 for high-value ones; the site chooses.
    session_idle_minutes: float = Field(30.0, gt=0, le=24 * 60)
    # How long emergency ("break the glass") read access to another team's patient lasts. No
    # published source fixes a duration (HIPAA and the emergency-access guidance ask for a
    # procedure and an audit trail, not a number): a site setting, short by default.
    break_glass_minutes: float = Field(60.0, gt=0, le=24 * 60)
    # Break-the-glass requests one user may make in 24 hours (found or not): each is audited,
    # and the cap bounds how many references anyone can test. A site choice, no source.
    break_glass_max_per_day: int = Field(10, ge=1, le=1000)
    # Bounded work per request (sizes in bytes; PDFs and password checks at once per worker).
    max_body_bytes: int = Field(1_000_000, ge=1_000, le=100_000_000)
    max_cds_body_bytes: int = Field(5_000_000, ge=1_000, le=100_000_000)
    max_concurrent_pdfs: int = Field(2, ge=1, le=64)
    max_concurrent_password_checks: int = Field(2, ge=1, le=64)

    # CDS Hooks: every call must carry a JWT signed by an allow-listed issuer (the spec's rule).
    # Map each issuer (the JWT's iss) to its PEM public key; RS*/ES*/PS* only, never none or HMAC.
    cds_hooks_issuers: dict[str, str] = Field(
        default_factory=dict, description="JSON object: issuer -> PEM public key"
    )
    cds_hooks_require_jwt: bool = Field(
        True, description="Turn off only for local trials without an EHR; on by default."
    )
    cds_hooks_base_url: str | None = Field(
        None,
        description="Public base URL: the JWT audience. Required when issuers are configured "
        "and JWTs are checked (never taken from the request's Host header).",
    )
    # CDS Hooks 2.0 recommends a 5-minute token lifetime; longer-lived tokens are refused.
    cds_hooks_max_token_seconds: int = Field(300, ge=30, le=3600)

    # Site choices (clinical): one per deployment, used alike by the CLI, web app, API and CDS
    # Hooks, and named in every result. Sources disagree on both, so the site must choose.
    stimulator_policy: str = Field(
        DEFAULT_POLICY,
        description="Bone-stimulator policy id: a file in knowledge/policies (e.g. ncd_150_2).",
    )
    motion_cutoff_deg: float | None = Field(
        None,
        gt=0,
        le=45,
        description="Angular motion cut-off in degrees; empty means the knowledge base's 5°.",
    )

    # The urgent advice line patients are told to call when their surgical team cannot be
    # reached (the same-day advice and the urgent result). No one line fits every country, so
    # the site names its own; unset, the texts say "your local urgent advice line" in the
    # reader's language (knowledge/messages.yaml, site.urgent_line).
    urgent_line: str | None = Field(
        None,
        min_length=2,
        max_length=80,
        description="Name of the urgent advice line patients call, as they know it (e.g. "
        "'NHS 111'; no leading article: it follows 'call' and 'llame a'). Empty: a neutral "
        "wording in the reader's language.",
    )

    @field_validator("urgent_line", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        """FUSIONWATCH_URGENT_LINE= (empty) means the neutral wording, like no variable at all."""
        return None if isinstance(value, str) and not value.strip() else value

    def site(self) -> Site:
        """The site choices the engine takes."""
        return Site(self.stimulator_policy, self.motion_cutoff_deg, self.urgent_line)


SITE_SETTINGS = ("stimulator_policy", "motion_cutoff_deg", "urgent_line")


def site_rows(
    settings: Settings, policies: dict[str, str], default_cutoff: float, default_line: str = ""
) -> list[dict[str, str]]:
    """The site choices as shown by `fusionwatch settings` and the settings page."""
    explicit = settings.model_fields_set
    cutoff = settings.motion_cutoff_deg
    return [
        {
            "name": "stimulator_policy",
            "variable": "FUSIONWATCH_STIMULATOR_POLICY",
            "value": settings.stimulator_policy,
            "shown": policies.get(settings.stimulator_policy, "not a known policy"),
            "source": "set" if "stimulator_policy" in explicit else "default",
            "choices": ", ".join(sorted(policies)),
        },
        {
            "name": "motion_cutoff_deg",
            "variable": "FUSIONWATCH_MOTION_CUTOFF_DEG",
            "value": f"{default_cutoff if cutoff is None else cutoff:g}",
            "shown": "degrees of angular motion below which a level counts as not moving",
            "source": "set" if "motion_cutoff_deg" in explicit else "default",
            "choices": "above 0, at most 45",
        },
        {
            "name": "urgent_line",
            "variable": "FUSIONWATCH_URGENT_LINE",
            "value": settings.urgent_line or "",
            "shown": "the urgent advice line patients are told to call"
            + ("" if settings.urgent_line else f"; unset, the texts say '{default_line}'"),
            "source": "set" if "urgent_line" in explicit else "default",
            "choices": "a name of 2 to 80 characters, e.g. NHS 111",
        },
    ]
