"""Findings that alone set a tier (issue 11 and later), each on an otherwise empty case.

Tiers were set from the sources (evidence.md sections 11, 14-16 and the article) before the engine
was run; ``rule`` is the rule that must be among the triage reasons. Shared by the engine, CLI,
API, web and CDS Hooks tests so that every surface is held to the same list.
"""

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Finding:
    name: str
    case: dict[str, Any]
    tier: str
    rule: str
    patient: bool = False  # answerable in the patient self-check


FINDINGS = (
    Finding("ces suspected", {"exam": {"cauda_equina": "yes"}}, "emergency", "FW-EMERG-009"),
    Finding(
        "haematoma compressing",
        {"imaging": {"acute_compression": "yes", "compression_cause": "haematoma"}},
        "emergency",
        "FW-EMERG-010",
    ),
    Finding(
        "abscess compressing",
        {"imaging": {"acute_compression": "yes", "compression_cause": "abscess_collection"}},
        "emergency",
        "FW-EMERG-010",
    ),
    Finding(
        "cage in the canal",
        {"imaging": {"acute_compression": "yes", "compression_cause": "implant_or_graft"}},
        "urgent",
        "FW-URG-004",
    ),
    Finding(
        "fracture compressing",
        {"imaging": {"acute_compression": "yes", "compression_cause": "fracture"}},
        "urgent",
        "FW-URG-004",
    ),
    Finding(
        "new clonus",
        {"exam": {"clonus": "yes", "myelopathy_onset": "new"}},
        "emergency",
        "FW-EMERG-011",
    ),
    Finding(
        "new cord signal change",
        {"imaging": {"cord_signal_change": "yes"}, "exam": {"myelopathy_onset": "new"}},
        "emergency",
        "FW-EMERG-011",
    ),
    Finding(
        "Hoffmann sign with a new reflex finding",
        {"exam": {"reflexes": "abnormal", "reflexes_onset": "new", "hoffmann": "yes"}},
        "emergency",
        "FW-EMERG-011",
    ),
    Finding(
        "gait ataxia with a new gait finding",
        {"exam": {"gait": "abnormal", "gait_onset": "new", "gait_ataxia": "yes"}},
        "emergency",
        "FW-EMERG-011",
    ),
    Finding("Hoffmann, onset not recorded", {"exam": {"hoffmann": "yes"}}, "urgent", "FW-URG-006"),
    Finding(
        "long-standing hyperreflexia",
        {"exam": {"hyperreflexia": "yes", "myelopathy_onset": "long_standing"}},
        "prompt_referral",
        "FW-REF-008",
    ),
    Finding(
        "new weakness on exam",
        {"exam": {"strength": "abnormal", "strength_onset": "new"}},
        "emergency",
        "FW-EMERG-012",
    ),
    Finding(
        "weakness, onset not recorded", {"exam": {"strength": "abnormal"}}, "urgent", "FW-URG-006"
    ),
    Finding(
        "new numbness both legs",
        {"exam": {"sensation": "abnormal", "sensation_onset": "new", "deficit_side": "both"}},
        "emergency",
        "FW-EMERG-013",
    ),
    Finding(
        "new numbness one leg",
        {"exam": {"sensation": "abnormal", "sensation_onset": "new", "deficit_side": "left"}},
        "urgent",
        "FW-URG-005",
    ),
    Finding(
        "new gait disturbance",
        {"exam": {"gait": "abnormal", "gait_onset": "new"}},
        "urgent",
        "FW-URG-005",
    ),
    Finding("fever", {"infection": {"fever": "yes"}}, "urgent", "FW-URG-002", patient=True),
    Finding(
        "101.2 °F",
        {"infection": {"temperature": 101.2, "temperature_unit": "F"}},
        "urgent",
        "FW-URG-002",
        patient=True,
    ),
    Finding(
        "38.1 °C",
        {"infection": {"temperature": 38.1, "temperature_unit": "C"}},
        "urgent",
        "FW-URG-002",
        patient=True,
    ),
    Finding(
        "wound drainage",
        {"infection": {"wound_drainage": "yes"}},
        "emergency",
        "FW-EMERG-014",
        patient=True,
    ),
    Finding(
        "wound opening",
        {"infection": {"wound_opening": "yes"}},
        "emergency",
        "FW-EMERG-014",
        patient=True,
    ),
    Finding(
        "spreading redness",
        {"infection": {"spreading_redness": "yes"}},
        "urgent",
        "FW-URG-003",
        patient=True,
    ),
    # MyMichigan's yellow zone (evidence 11, 14.1): a call to the surgical team within 24 hours.
    Finding(
        "new trouble swallowing",
        {"recovery": {"swallowing_trouble": "yes"}},
        "urgent",
        "FW-URG-007",
        patient=True,
    ),
    Finding(
        "a fall in the last few days",
        {"recovery": {"recent_fall": "yes"}},
        "urgent",
        "FW-URG-008",
        patient=True,
    ),
    Finding(
        "not sure about bladder control",
        {"emergency": {"bladder_bowel_loss": "not_sure"}},
        "urgent",
        "FW-URG-001",
        patient=True,
    ),
    # A clinician who cannot exclude a finding that alone makes an emergency: same-day contact.
    Finding(
        "not sure about cauda equina on exam",
        {"exam": {"cauda_equina": "not_sure"}},
        "urgent",
        "FW-URG-001",
    ),
    Finding(
        "not sure about acute compression",
        {"imaging": {"acute_compression": "not_sure"}},
        "urgent",
        "FW-URG-001",
    ),
    Finding(
        "not sure whether the wound drains",
        {"infection": {"wound_drainage": "not_sure"}},
        "urgent",
        "FW-URG-001",
        patient=True,
    ),
    Finding(
        "CRP 25 mg/L at 8 months",
        {"infection": {"crp_mg_l": 25}, "surgery": {"months_since": 8}},
        "prompt_referral",
        "FW-REF-009",
    ),
)


def flat(data: dict[str, Any], prefix: str = "") -> dict[str, str]:
    """Case data as form fields (dotted names, text values)."""
    out: dict[str, str] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            out |= flat(value, f"{prefix}{key}.")
        else:
            out[f"{prefix}{key}"] = f"{value:g}" if isinstance(value, float) else str(value)
    return out
