"""Findings at the segments next to a fusion: adjacent-segment findings, never fusion status.

A motion segment just above or below the fused span is not fused, so motion there is expected and
the fusion criteria (bridging grades, the angular cut-off) do not describe it. What matters there
is adjacent-segment pathology: instability, or a hardware problem at the end of the construct
(evidence 18; docs/decisions/0008-adjacent-levels-regions-history.md).
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from fusionwatch.core.derive.fusion import Cutoffs, Reason, Seen, computed_motion
from fusionwatch.core.imaging import LevelFindings
from fusionwatch.core.vocab import Answer


@dataclass(frozen=True, slots=True)
class AdjacentStatus:
    level: str
    position: str
    months: float | None
    angle_deg: float | None
    translation_mm: float | None
    instability: bool | None
    hardware_problem: bool | None
    change: bool | None
    reasons: tuple[Reason, ...]


def assess_adjacent(
    seen: Iterable[Seen], cut: Cutoffs, positions: Mapping[str, str]
) -> tuple[AdjacentStatus, ...]:
    """Judge each adjacent segment any study reports, in order of first appearance."""
    by_level: dict[str, list[Seen]] = {}
    for item in seen:
        by_level.setdefault(item.findings.level, []).append(item)
    return tuple(
        _judge(level, sorted(items, key=_when), cut, positions[level])
        for level, items in by_level.items()
    )


def _when(item: Seen) -> tuple[bool, float]:
    return item.months is None, item.months or 0.0


def _judge(level: str, items: list[Seen], cut: Cutoffs, position: str) -> AdjacentStatus:
    reasons = [
        Reason(
            f"segment next to the fusion ({position}): judged apart from the fused levels",
            "rasp_casp2014",
            "radiographic and clinical adjacent segment pathology",
        )
    ]
    angle, translation = _motion(items)
    if angle is not None:
        reasons.append(
            Reason(
                f"angular motion {angle:g}° at an unfused segment: motion is expected here; "
                "the fusion cut-off does not apply",
                "duits2024",
                "angular motion < 5° is a criterion of fusion at a fused level",
            )
        )
    instability = None if translation is None else translation > cut.translation_mm
    if translation is not None:
        verdict = "dynamic instability" if instability else "no instability by this definition"
        reasons.append(
            Reason(
                f"translation {translation:g} mm at the adjacent segment "
                f"(over {cut.translation_mm:g} mm is instability): {verdict}",
                "nass2014",
                "dynamic instability: translation over 2 mm; adjacent level disease",
            )
        )
    hardware = _hardware(items, cut)
    if hardware:
        reasons.append(
            Reason(
                "hardware problem recorded at the adjacent segment (end of the construct): "
                "for the surgeon to review; not counted as failure of the fused levels",
                "convention_levels",
                "adjacent levels are judged apart from the fusion",
            )
        )
    if any(_graded(s.findings) for s in items):
        reasons.append(
            Reason(
                "a fusion grade or bridging answer at a segment that was not fused is not read "
                "as fusion status",
                "convention_levels",
                "adjacent levels are judged apart from the fusion",
            )
        )
    change = True if instability or hardware else None
    if instability is False and hardware is False:
        change = False
    if change:
        reasons.append(
            Reason(
                "adjacent-segment change: often silent; it is adjacent-segment disease only with "
                "new radicular or myelopathic symptoms from this segment",
                "hilibrand1999",
                "new radiculopathy or myelopathy referable to an adjacent segment",
            )
        )
    return AdjacentStatus(
        level=level,
        position=position,
        months=items[-1].months,
        angle_deg=angle,
        translation_mm=translation,
        instability=instability,
        hardware_problem=hardware,
        change=change,
        reasons=tuple(reasons),
    )


def _motion(items: list[Seen]) -> tuple[float | None, float | None]:
    angle = translation = None
    for item in items:
        f = item.findings
        computed = computed_motion(f)
        if computed is not None:
            angle, translation = computed.angle_deg, computed.translation_mm
        angle = f.angle_deg if f.angle_deg is not None else angle
        translation = f.translation_mm if f.translation_mm is not None else translation
    return angle, translation


def _hardware(items: list[Seen], cut: Cutoffs) -> bool | None:
    """A problem if any study shows one; none if one study reports every item as fine."""
    reports = []
    for item in items:
        f = item.findings
        answers = (f.screw_broken, f.rod_broken, f.cage_migration, f.set_screw_loose)
        values: list[bool | None] = [
            None if a is Answer.UNKNOWN else a is Answer.YES for a in answers
        ]
        if f.periscrew_lucency_mm is not None:
            values.append(f.periscrew_lucency_mm > cut.halo_mm)
        reports.append(values)
    if any(any(v) for v in reports):
        return True
    return False if any(all(v is False for v in values) for values in reports) else None


def _graded(f: LevelFindings) -> bool:
    answers = (f.interbody_bridging, f.posterolateral_bridging, f.facet_bridging, f.cage_lucency)
    grades = (f.bridwell, f.brantigan, f.mayfield)
    return any(a is not Answer.UNKNOWN for a in answers) or any(g is not None for g in grades)
