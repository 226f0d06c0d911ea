"""Closed vocabularies used by the case model, the knowledge base and the results."""

from enum import StrEnum


class Answer(StrEnum):
    """A yes/no question's answer. UNKNOWN is a real answer and never means NO."""

    YES = "yes"
    NO = "no"
    UNKNOWN = "unknown"


class Region(StrEnum):
    CERVICAL = "cervical"
    THORACIC = "thoracic"
    LUMBAR = "lumbar"
    LUMBOSACRAL = "lumbosacral"
    CERVICOTHORACIC = "cervicothoracic"
    THORACOLUMBAR = "thoracolumbar"


class Approach(StrEnum):
    ALIF = "ALIF"
    TLIF = "TLIF"
    PLIF = "PLIF"
    LLIF = "LLIF"
    POSTEROLATERAL = "posterolateral"
    ACDF = "ACDF"
    POSTERIOR_CERVICAL = "posterior_cervical"
    COMBINED = "combined"
    OTHER = "other"


class Graft(StrEnum):
    AUTOGRAFT = "autograft"
    ALLOGRAFT = "allograft"
    BMP = "bmp"
    SYNTHETIC = "synthetic"
    MIXED = "mixed"
    OTHER = "other"


class Indication(StrEnum):
    DEGENERATIVE = "degenerative"
    SPONDYLOLISTHESIS = "spondylolisthesis"
    DEFORMITY = "deformity"
    TRAUMA = "trauma"
    TUMOUR = "tumour"
    INFECTION = "infection"
    REVISION = "revision"
    OTHER = "other"


class OperationKind(StrEnum):
    """A fusion operation after the index fusion, at the same or at new levels."""

    EXTENSION = "extension"
    REVISION = "revision"
    STAGED = "staged"


class OperationReason(StrEnum):
    """Why a revision was done; ``nonunion`` means an earlier fusion at those levels failed."""

    NONUNION = "nonunion"
    ADJACENT_SEGMENT = "adjacent_segment"
    HARDWARE = "hardware"
    INFECTION = "infection"
    DEFORMITY = "deformity"
    OTHER = "other"


class Sex(StrEnum):
    FEMALE = "female"
    MALE = "male"
    OTHER = "other"


class PainPattern(StrEnum):
    MECHANICAL = "mechanical"
    RADICULAR = "radicular"
    BOTH = "both"
    NEITHER = "neither"


class ExamFinding(StrEnum):
    NORMAL = "normal"
    ABNORMAL = "abnormal"
    NOT_EXAMINED = "not_examined"


class Nicotine(StrEnum):
    NEVER = "never"
    FORMER = "former"
    CURRENT = "current"


class Activity(StrEnum):
    VERY_INACTIVE = "very_inactive"
    LIGHT = "light"
    ACTIVE = "active"


class FusionStatus(StrEnum):
    NOT_DONE = "not_done"
    FUSED = "fused"
    NOT_YET_FUSED = "not_yet_fused"
    INDETERMINATE = "indeterminate"
    NONUNION = "nonunion"


class Triage(StrEnum):
    EMERGENCY = "emergency"
    PROMPT_REFERRAL = "prompt_referral"
    ROUTINE = "routine"


class Suspicion(StrEnum):
    LOW = "low"
    MODERATE = "moderate"
    HIGH = "high"


SUSPICION_ORDER: dict[str, int] = {"low": 0, "moderate": 1, "high": 2}
