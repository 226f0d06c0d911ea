"""Closed vocabularies used by the case model, the knowledge base and the results."""

from enum import StrEnum


class Answer(StrEnum):
    """A yes/no question's answer. Both kinds of unknown are real answers and never mean NO.

    UNKNOWN: no one asked (the default; typical of EHR and registry data). NOT_SURE: the person
    was asked and could not say. The rules see both as unknown (three-valued logic); triage treats
    an emergency question answered "not sure" as a reason for same-day contact (decision 0009).
    """

    YES = "yes"
    NO = "no"
    UNKNOWN = "unknown"
    NOT_SURE = "not_sure"

    @property
    def truth(self) -> bool | None:
        """The three-valued logic value: True, False, or None for either kind of unknown."""
        return True if self is Answer.YES else False if self is Answer.NO else None


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
    """A fusion operation after the index fusion, at the same or at new levels.

    ``unspecified``: a later fusion operation whose kind the source does not say (an OMOP
    procedure code names an arthrodesis, not whether it extended, revised or completed a stage);
    it times the healing clock like any other and is never read as a revision for nonunion.
    """

    EXTENSION = "extension"
    REVISION = "revision"
    STAGED = "staged"
    UNSPECIFIED = "unspecified"


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


class Onset(StrEnum):
    """Whether an abnormal examination finding is new or was there before (long-standing)."""

    NEW = "new"
    LONG_STANDING = "long_standing"


class Side(StrEnum):
    LEFT = "left"
    RIGHT = "right"
    BOTH = "both"


class CompressionCause(StrEnum):
    HAEMATOMA = "haematoma"
    ABSCESS_COLLECTION = "abscess_collection"
    IMPLANT_OR_GRAFT = "implant_or_graft"
    FRACTURE = "fracture"
    OTHER = "other"


class TemperatureUnit(StrEnum):
    CELSIUS = "C"
    FAHRENHEIT = "F"


class Triage(StrEnum):
    """Four dispositions, most urgent first (decision 0009)."""

    EMERGENCY = "emergency"
    URGENT = "urgent"
    PROMPT_REFERRAL = "prompt_referral"
    ROUTINE = "routine"


TRIAGE_ORDER: dict[str, int] = {"routine": 0, "prompt_referral": 1, "urgent": 2, "emergency": 3}


class Suspicion(StrEnum):
    LOW = "low"
    CANNOT_TELL = "cannot_tell"
    MODERATE = "moderate"
    HIGH = "high"


# cannot_tell sits above low: it is never reassurance, only a lack of the facts that decide.
SUSPICION_ORDER: dict[str, int] = {"low": 0, "cannot_tell": 1, "moderate": 2, "high": 3}
