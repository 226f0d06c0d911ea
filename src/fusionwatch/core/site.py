"""Choices a site makes for itself: which stimulator policy applies, the motion cut-off, and the
name of the urgent advice line its patients call.

Policies are data (``knowledge/policies/*.yaml``), so the policy is named by its id; the engine
refuses an id the knowledge base does not hold. Deployments set these once (``settings.py``).
"""

from dataclasses import dataclass

# Medicare's rule is the default: verified verbatim, national, and the strictest on timing.
DEFAULT_POLICY = "ncd_150_2"
# Patient texts name the urgent advice line as "{site.urgent_line}": the site's own name for it
# ("NHS 111"), or else the knowledge base's neutral wording in the reader's language (the
# message of the same key, "your local urgent advice line").
URGENT_LINE = "site.urgent_line"
SITE_TEXTS = (URGENT_LINE,)


@dataclass(frozen=True, slots=True)
class Site:
    """Site settings; None means the knowledge base's default (thresholds.yaml)."""

    stimulator_policy: str = DEFAULT_POLICY
    motion_cutoff_deg: float | None = None
    # The urgent advice line's name as patients know it ("NHS 111"); None: the neutral wording.
    urgent_line: str | None = None

    def named(self, default_cutoff: float) -> dict[str, str | float]:
        """The settings as used, for the result's provenance."""
        cutoff = default_cutoff if self.motion_cutoff_deg is None else self.motion_cutoff_deg
        return {"stimulator_policy": self.stimulator_policy, "motion_cutoff_deg": cutoff}


DEFAULT_SITE = Site()
