"""What the record already holds: which tests were done, when, and what the latest CT showed.

Next steps read these facts so that a test already on record is compared with, not ordered again
by routine (article: a good second opinion "doesn't repeat tests by routine").
"""

from collections.abc import Iterable
from dataclasses import dataclass

from fusionwatch.core.derive.fusion import LevelStatus
from fusionwatch.core.imaging import Modality
from fusionwatch.core.vocab import FusionStatus

_RADIOGRAPHS = (Modality.STATIC_XRAY, Modality.FLEXION_EXTENSION)


@dataclass(frozen=True, slots=True)
class Dated:
    """One study's modality and the months after fusion when it was taken (None: unknown)."""

    modality: Modality
    months: float | None


def record_facts(
    studies: Iterable[Dated], levels: tuple[LevelStatus, ...], fused: tuple[str, ...]
) -> dict[str, object]:
    """Facts about the tests on record, for the next-step rules and the suspicion cap."""
    seen = list(studies)
    return {
        "derived.ct_on_record": _any(seen, (Modality.CT,)),
        "derived.last_ct_month": _last(seen, (Modality.CT,)),
        "derived.fe_on_record": _any(seen, (Modality.FLEXION_EXTENSION,)),
        "derived.last_fe_month": _last(seen, (Modality.FLEXION_EXTENSION,)),
        "derived.xray_on_record": _any(seen, _RADIOGRAPHS),
        "derived.last_xray_month": _last(seen, _RADIOGRAPHS),
        "derived.ct_solid_fusion": ct_solid(levels, fused),
        # A judged level counted a lucency around the cage (duits2024): "imaging does not explain
        # the symptoms" must not be said over it (FW-REF-005).
        "derived.cage_lucency_on_record": any(lv.cage_lucency for lv in levels),
    }


def ct_solid(levels: tuple[LevelStatus, ...], fused: tuple[str, ...]) -> bool | None:
    """Yes when CT judged every fused level fused; no when CT left one unfused; else unknown.

    Only the fused levels count (a graded adjacent level says nothing about the fusion); with no
    fused levels in the case, the levels the studies graded stand in for them.
    """
    wanted = fused or tuple(lv.level for lv in levels)
    by_level = {lv.level: lv for lv in levels}
    judged = [by_level.get(level) for level in wanted]
    on_ct = [lv for lv in judged if lv is not None and lv.modality == Modality.CT.value]
    if not wanted or not on_ct:
        return None
    if any(lv.status is not FusionStatus.FUSED for lv in on_ct):
        return False
    return True if len(on_ct) == len(wanted) else None


def _any(seen: list[Dated], modalities: tuple[Modality, ...]) -> bool:
    return any(s.modality in modalities for s in seen)


def _last(seen: list[Dated], modalities: tuple[Modality, ...]) -> float | None:
    months = [s.months for s in seen if s.modality in modalities and s.months is not None]
    return max(months) if months else None
