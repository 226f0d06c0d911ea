"""The site settings a command runs with: the deployment's, with this run's overrides checked."""

from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from fusionwatch.core.compiled import Knowledge
    from fusionwatch.core.site import Site

StimulatorPolicy = Annotated[
    str | None,
    typer.Option(
        "--stimulator-policy",
        help="Override the site's bone-stimulator policy for this run "
        "(default: FUSIONWATCH_STIMULATOR_POLICY; see `fusionwatch settings`).",
    ),
]


def site_for(kb: "Knowledge", policy: str | None, motion_cutoff: float | None = None) -> "Site":
    """FUSIONWATCH_* settings with the overrides; a policy the knowledge base lacks is refused."""
    from fusionwatch.core.site import Site
    from fusionwatch.settings import Settings

    configured = Settings().site()
    site = Site(
        policy or configured.stimulator_policy,
        configured.motion_cutoff_deg if motion_cutoff is None else motion_cutoff,
        configured.urgent_line,
    )
    if site.stimulator_policy not in kb.policies:
        known = ", ".join(sorted(kb.policies))
        raise typer.BadParameter(f"must be one of {known}", param_hint="--stimulator-policy")
    return site
