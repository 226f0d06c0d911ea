"""From a case's imaging studies to per-level statuses and the summary facts the rules read.

Derived summary values fill only answers the case left open: an explicitly given summary answer
is never overwritten; when the two disagree both are kept and the conflict is reported.
"""

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

from fusionwatch.core.case import Case
from fusionwatch.core.derive.adjacent import AdjacentStatus, assess_adjacent
from fusionwatch.core.derive.fusion import SEVERITY, Cutoffs, LevelStatus, Seen, assess_levels
from fusionwatch.core.derive.record import Dated, record_facts
from fusionwatch.core.derive.timing import Done, history
from fusionwatch.core.imaging import Modality, Study
from fusionwatch.core.months import months_between
from fusionwatch.core.vocab import Answer, FusionStatus

_LOGIC = {a: a.truth for a in Answer}


@dataclass(frozen=True, slots=True)
class Merged:
    fact: str
    given: object
    derived: object
    used: object

    @property
    def conflict(self) -> bool:
        return None not in (self.given, self.derived) and self.given != self.derived


@dataclass(frozen=True, slots=True)
class StudyFindings:
    levels: tuple[LevelStatus, ...]
    summary: tuple[Merged, ...]
    months_without_progress: float | None
    record: dict[str, object]
    adjacent: tuple[AdjacentStatus, ...] = ()
    set_aside: tuple[str, ...] = ()

    @property
    def adjacent_change(self) -> bool | None:
        """Kleene 'any' over the adjacent segments imaged (unknown when none was)."""
        return _any(a.change for a in self.adjacent)


def study_findings(case: Case, cutoffs: Cutoffs, as_of: dt.date) -> StudyFindings:
    """Judge each level, then derive and merge the imaging summary facts."""
    done = history(case.surgery, as_of)
    seen, superseded = _seen(case, done, as_of)
    positions = case.surgery.adjacent_levels
    # Findings next to the fusion are their own thing: they never judge the fused levels.
    fused_seen = [s for s in seen if s.findings.level not in positions]
    levels = assess_levels(fused_seen, cutoffs, case.surgery.instrumented)
    adjacent = assess_adjacent(
        (s for s in seen if s.findings.level in positions), cutoffs, positions
    )
    derived = _derived(case.imaging.studies, levels)
    imaging = case.imaging
    given: dict[str, object] = {
        "imaging.fusion_status": None if imaging.fusion_status is None else imaging.fusion_status,
        "imaging.hardware_failure": _LOGIC[imaging.hardware_failure],
        "imaging.instability_on_motion_films": _LOGIC[imaging.instability_on_motion_films],
        "imaging.nerve_compression": _LOGIC[imaging.nerve_compression],
        "imaging.infection_signs": _LOGIC[imaging.infection_signs],
    }
    summary = tuple(
        Merged(
            fact, _plain(value), derived[fact], derived[fact] if value is None else _plain(value)
        )
        for fact, value in given.items()
    )
    stalled = [lv.months_without_progress for lv in levels if lv.months_without_progress]
    dated = (Dated(s.study.modality, s.months) for s in fused_seen)
    record = record_facts(dated, levels, case.surgery.levels)
    return StudyFindings(
        levels,
        summary,
        max(stalled) if stalled else None,
        record,
        adjacent,
        _set_aside(superseded),
    )


def _plain(value: object) -> object:
    return value.value if isinstance(value, FusionStatus) else value


def _seen(
    case: Case, done: tuple[Done, ...], as_of: dt.date
) -> tuple[list[Seen], list[tuple[Study, str, Done]]]:
    """Each study's reading at each level, and the readings a later operation there superseded.

    A reading taken before a later operation that includes its level describes the fusion that
    operation redid (a revision for nonunion, an extension through it): it no longer says how
    that level is now, so it judges nothing. Only a known order sets a reading aside: a study or
    operation without timing, and a study timed by ``months_since`` (months after the last
    operation at its levels, so after every one of them), are kept as before.
    """
    seen: list[Seen] = []
    superseded: list[tuple[Study, str, Done]] = []
    for study in case.imaging.studies:
        for findings in study.levels:
            later = _later_at(study, findings.level, done, as_of)
            if later is not None:
                superseded.append((study, findings.level, later))
            else:
                seen.append(Seen(study, findings, _months_at(study, findings.level, done, as_of)))
    return seen, superseded


def _later_at(study: Study, level: str, done: tuple[Done, ...], as_of: dt.date) -> Done | None:
    """The first later operation at ``level`` done after the dated study, if any.

    "After" is the complement of ``_months_at``'s "on or before": an operation fewer months
    before ``as_of`` than the study (the screen compares the same rounded months).
    """
    if study.months_since is not None or study.date is None:
        return None
    study_ago = months_between(study.date, as_of)
    after = [
        d
        for d in done[1:]
        if level in d.levels and d.months_ago is not None and d.months_ago < study_ago
    ]
    return max(after, key=lambda d: d.months_ago or 0.0) if after else None


# The clinician names of the modalities (knowledge/labels.yaml ``modalities``; core cannot read it).
_MODALITY = {
    Modality.STATIC_XRAY: "static radiographs",
    Modality.FLEXION_EXTENSION: "flexion-extension films",
    Modality.CT: "CT",
    Modality.MRI: "MRI",
}


def _set_aside(superseded: list[tuple[Study, str, Done]]) -> tuple[str, ...]:
    """One sentence per study and later operation, naming the levels set aside."""
    grouped: dict[tuple[int, int], tuple[Study, list[str], Done]] = {}
    for study, level, later in superseded:
        key = (id(study), id(later))
        grouped.setdefault(key, (study, [], later))[1].append(level)
    return tuple(
        f"{_MODALITY[study.modality]} of {study.date} at {', '.join(levels)} predates the "
        f"{later.describe()}: set aside (it shows the fusion before that operation)"
        for study, levels, later in grouped.values()
    )


def _months_at(study: Study, level: str, done: tuple[Done, ...], as_of: dt.date) -> float | None:
    """Months after the last operation at this level before the study (the index fusion if none).

    A study's own ``months_since`` is read as months after that operation.
    """
    if study.months_since is not None:
        return study.months_since
    if study.date is None:
        return None
    study_ago = months_between(study.date, as_of)
    here = [d for d in done[1:] if level in d.levels and d.months_ago is not None]
    before = [d for d in here if d.months_ago is not None and d.months_ago >= study_ago]
    last = min(before, key=lambda d: d.months_ago or 0.0) if before else done[0]
    if last.date is not None:
        return months_between(last.date, study.date)
    if last.months_ago is not None:
        return max(0.0, round(last.months_ago - study_ago, 2))
    return None


def _derived(
    studies: tuple[Study, ...], levels: tuple[LevelStatus, ...], fused: tuple[str, ...] = ()
) -> dict[str, object]:
    # Only fused levels make the fusion status: a graded adjacent level is not part of it.
    own = [lv for lv in levels if not fused or lv.level in fused]
    worst = max((lv.status for lv in own), key=SEVERITY.__getitem__, default=None)
    return {
        "imaging.fusion_status": None if worst is None else worst.value,
        "imaging.hardware_failure": _any(lv.hardware_failure for lv in levels),
        "imaging.instability_on_motion_films": _any(lv.instability for lv in levels),
        "imaging.nerve_compression": _any(_LOGIC[s.nerve_compression] for s in studies),
        "imaging.infection_signs": _any(
            _LOGIC[answer] for s in studies for answer in (s.infection_signs, s.collection)
        ),
    }


def _any(values: Iterator[bool | None] | tuple[bool | None, ...]) -> bool | None:
    """Kleene 'any': yes if one is yes, no if all are no, else unknown (and unknown if none)."""
    seen = list(values)
    if True in seen:
        return True
    return False if seen and all(v is False for v in seen) else None
