"""Choices a site makes for itself: which stimulator policy applies, and the motion cut-off."""

from dataclasses import dataclass
from enum import StrEnum


class StimulatorPolicy(StrEnum):
    """Named bone-stimulator policies (evidence brief sections 7 and 13)."""

    NCD_150_2 = "ncd_150_2"
    BCBSA_7_01_85 = "bcbsa_7_01_85"
    AANS_CNS_2014 = "aans_cns_2014"


POLICY_TITLES = {
    StimulatorPolicy.NCD_150_2: "Medicare NCD 150.2 Osteogenic Stimulation",
    StimulatorPolicy.BCBSA_7_01_85: "BCBSA model policy 7.01.85 (electrical stimulation, spine)",
    StimulatorPolicy.AANS_CNS_2014: "AANS/CNS 2014 lumbar fusion guideline, part 17",
}


@dataclass(frozen=True, slots=True)
class Site:
    """Site settings; None means the knowledge base's default (thresholds.yaml)."""

    # Medicare's rule is the default: verified verbatim, national, and the strictest on timing.
    stimulator_policy: StimulatorPolicy = StimulatorPolicy.NCD_150_2
    motion_cutoff_deg: float | None = None


DEFAULT_SITE = Site()
