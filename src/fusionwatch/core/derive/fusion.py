"""Per-level fusion status (fused / not yet fused / indeterminate / nonunion) from imaging studies.

Order of judgement at each level (docs/decisions/0003-imaging-assessment.md):
hardware failure, then lucency around the cage on films, then fine-cut CT bridging (graded scales
and bridging answers), then motion on flexion-extension films, then time since fusion and progress
between serial studies. Every criterion that decided a level is returned with its citation, so the
result explains itself.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from fusionwatch.core.derive.grading import CT, FACET, bridging_signs, score
from fusionwatch.core.derive.motion import Motion, measure
from fusionwatch.core.imaging import LevelFindings, Modality, Study
from fusionwatch.core.vocab import Answer, FusionStatus

# Worst first: the summary of several levels is the worst level.
SEVERITY = {
    FusionStatus.NONUNION: 3,
    FusionStatus.INDETERMINATE: 2,
    FusionStatus.NOT_YET_FUSED: 1,
    FusionStatus.FUSED: 0,
}


@dataclass(frozen=True, slots=True)
class Reason:
    """One criterion that weighed on a level, with the source that supports it."""

    text: str
    cite: str
    locator: str


@dataclass(frozen=True, slots=True)
class Cutoffs:
    """Numbers the judgement uses, taken from thresholds.yaml (the angle may be a site setting)."""

    angle_deg: float
    interspinous_fused_mm: float
    interspinous_nonunion_mm: float
    translation_mm: float
    halo_mm: float
    subsidence_mm: float
    established_months: float

    @classmethod
    def from_thresholds(cls, values: Mapping[str, float], angle_deg: float | None) -> "Cutoffs":
        return cls(
            angle_deg=values["motion.angular"] if angle_deg is None else angle_deg,
            interspinous_fused_mm=values["motion.interspinous_fused"],
            interspinous_nonunion_mm=values["motion.interspinous_nonunion"],
            translation_mm=values["motion.translation"],
            halo_mm=values["hardware.halo"],
            subsidence_mm=values["hardware.subsidence"],
            established_months=values["months.established"],
        )


@dataclass(frozen=True, slots=True)
class Seen:
    """One study's findings at a level, with the months after fusion when it was taken."""

    study: Study
    findings: LevelFindings
    months: float | None


@dataclass(frozen=True, slots=True)
class LevelStatus:
    level: str
    status: FusionStatus
    months: float | None
    modality: str
    angle_deg: float | None
    translation_mm: float | None
    interspinous_mm: float | None
    hardware_failure: bool | None
    instability: bool | None
    progress: bool | None
    months_without_progress: float | None
    reasons: tuple[Reason, ...]
    cage_lucency: bool = False


def assess_levels(
    seen: Iterable[Seen], cutoffs: Cutoffs, instrumented: Answer
) -> tuple[LevelStatus, ...]:
    """Judge every fused level that any study reports, in order of first appearance.

    Only fused levels (or, when the case names none, every level) come here: adjacent levels are
    judged apart in ``derive.adjacent`` and never set the fusion status.
    """
    by_level: dict[str, list[Seen]] = {}
    for item in seen:
        by_level.setdefault(item.findings.level, []).append(item)
    return tuple(
        _Level(level, _by_time(items), cutoffs, instrumented).status()
        for level, items in by_level.items()
    )


def _by_time(items: list[Seen]) -> list[Seen]:
    return sorted(items, key=lambda s: (s.months is None, s.months or 0.0))


class _Level:
    """The judgement at one level, built up reason by reason."""

    def __init__(self, level: str, seen: list[Seen], cut: Cutoffs, instrumented: Answer) -> None:
        self.level, self.seen, self.cut, self.instrumented = level, seen, cut, instrumented
        self.reasons: list[Reason] = []
        self.motion = self._motion()
        self.ct_lucency = False

    def note(self, text: str, cite: str, locator: str) -> None:
        self.reasons.append(Reason(text, cite, locator))

    def status(self) -> LevelStatus:
        hardware = self._hardware()
        films = self._film_lucency()
        ct = self._ct()
        moving = self._moving()
        progress, span = self._progress()
        deciding = self._deciding()
        months = deciding.months if deciding else None
        status = (
            self._lucent(ct, moving, months)
            if films and not hardware and ct is not False
            else self._decide(hardware, ct, moving, progress, months)
        )
        angle, translation, interspinous = self.motion
        return LevelStatus(
            level=self.level,
            status=status,
            months=deciding.months if deciding else None,
            modality=deciding.study.modality.value if deciding else "none",
            angle_deg=angle,
            translation_mm=translation,
            interspinous_mm=interspinous,
            hardware_failure=hardware,
            instability=None if translation is None else translation > self.cut.translation_mm,
            progress=progress,
            months_without_progress=span if progress is False else None,
            reasons=tuple(self.reasons),
            cage_lucency=films or self.ct_lucency,
        )

    # ---- the decision -----------------------------------------------------------------------

    def _decide(
        self,
        hardware: bool | None,
        ct: bool | None,
        moving: bool | None,
        progress: bool | None,
        months: float | None,
    ) -> FusionStatus:
        if hardware and ct is False:
            return self._hardware_failed()
        if hardware and ct is None:
            # Failed hardware never makes a level look better than the films alone would.
            alone = self._no_ct(moving, months)
            self.note(
                "failed hardware makes a nonunion likely; fine-cut CT to confirm",
                "choudhri2014",
                CT,
            )
            return max(alone, FusionStatus.INDETERMINATE, key=SEVERITY.__getitem__)
        if hardware and ct:
            self.note("CT bridging but failed hardware: the two disagree", "choudhri2014", CT)
            return FusionStatus.INDETERMINATE
        if ct is True:
            return self._bridged(moving)
        if ct is False:
            return self._not_bridged(progress, months)
        return self._no_ct(moving, months)

    def _lucent(self, ct: bool | None, moving: bool | None, months: float | None) -> FusionStatus:
        """Lucency around the cage on films, no CT sign against bridging: never better than
        indeterminate, as with failed hardware seen without CT (CT without bridging decides)."""
        if ct:
            self.note(
                "CT bridging but lucency around the cage on films: the two disagree",
                "duits2024",
                _CAGE,
            )
            return FusionStatus.INDETERMINATE
        alone = self._no_ct(moving, months)
        self.note(
            "lucency around the cage without CT: a sign against fusion that fine-cut CT should "
            "confirm",
            "choudhri2014",
            CT,
        )
        return max(alone, FusionStatus.INDETERMINATE, key=SEVERITY.__getitem__)

    def _hardware_failed(self) -> FusionStatus:
        self.note(
            "failed hardware with incomplete bridging: a nonunion (timing does not excuse it)",
            "article",
            "9 signs, sign 8: hardware failure",
        )
        return FusionStatus.NONUNION

    def _bridged(self, moving: bool | None) -> FusionStatus:
        if moving:
            self.note(
                "CT bridging but motion at or above the cut-off: the findings disagree",
                "duits2024",
                _MOTION,
            )
            return FusionStatus.INDETERMINATE
        return FusionStatus.FUSED

    def _not_bridged(self, progress: bool | None, months: float | None) -> FusionStatus:
        if months is None:
            self.note(
                "incomplete bridging, but the study's timing is unknown", "issls_textbook", _DEF
            )
            return FusionStatus.INDETERMINATE
        if months < self.cut.established_months:
            self.note(
                f"incomplete bridging at {months:g} months, before the usual "
                f"{self.cut.established_months:g}-month mark: "
                "not yet fused",
                "issls_textbook",
                _DEF,
            )
            return FusionStatus.NOT_YET_FUSED
        if progress:
            self.note(
                f"incomplete after {self.cut.established_months:g} months but still progressing "
                "between studies",
                "ct_review2025",
                "15-16% of interbody levels progress after 12 months",
            )
            return FusionStatus.INDETERMINATE
        self.note(f"incomplete bridging at {months:g} months", "issls_textbook", _DEF)
        return FusionStatus.NONUNION

    def _no_ct(self, moving: bool | None, months: float | None) -> FusionStatus:
        self.note(
            "no graded CT at this level: fine-cut CT is the recommended test", "choudhri2014", CT
        )
        if self._static_only():
            self.note(
                "static films do not establish fusion with instrumentation", "choudhri2014", _STATIC
            )
        if moving is False and self.instrumented is Answer.NO:
            self.note(
                "no motion without instrumentation strongly suggests fusion", "choudhri2014", _FE
            )
            return FusionStatus.FUSED
        if moving is False:
            self.note("no motion, but instrumentation can hide a nonunion", "choudhri2014", _FE)
        if moving and self._cervical_nonunion():
            return self._cervical_verdict(months)
        if moving:
            self.note("motion alone does not prove a nonunion", "choudhri2014", _FE)
        return FusionStatus.INDETERMINATE

    def _cervical_verdict(self, months: float | None) -> FusionStatus:
        if months is not None and months >= self.cut.established_months:
            return FusionStatus.NONUNION
        return FusionStatus.NOT_YET_FUSED if months is not None else FusionStatus.INDETERMINATE

    # ---- the findings -----------------------------------------------------------------------

    def _hardware(self) -> bool | None:
        """Failed if any study shows a failure; intact if one study reports every item intact."""
        reports = [self._hardware_items(item.findings) for item in self.seen]
        if any(any(items) for items in reports):
            return True
        return False if any(all(a is False for a in items) for items in reports) else None

    def _hardware_items(self, f: LevelFindings) -> list[bool | None]:
        items = [_yes(f.screw_broken), _yes(f.rod_broken), _yes(f.cage_migration)]
        items.append(_yes(f.set_screw_loose))
        if f.periscrew_lucency_mm is not None:
            loose = f.periscrew_lucency_mm > self.cut.halo_mm
            if loose:
                self.note(
                    f"halo {f.periscrew_lucency_mm:g} mm around a screw: loosening",
                    "aghayev2014",
                    "radiolucent zone over 1 mm",
                )
            # A thin halo is "no loosening seen", not "no loosening": the caveat goes on record.
            items.append(loose)
            if not loose:
                self.note(
                    f"no halo over {self.cut.halo_mm:g} mm: no loosening seen, but the sign is "
                    "specific, not sensitive, so its absence does not exclude loosening",
                    "josr2019",
                    "radiograph sensitivity 24%, specificity 98%",
                )
        if f.cage_subsidence_mm is not None:
            sunk = f.cage_subsidence_mm > self.cut.subsidence_mm
            if sunk:
                self.note(
                    f"cage subsidence {f.cage_subsidence_mm:g} mm",
                    "subsidence_bmc2022",
                    "over 2 mm loss of disc height",
                )
            items.append(sunk)
        for name, value in (("screw", f.screw_broken), ("rod", f.rod_broken)):
            if value is Answer.YES:
                self.note(f"broken {name}", "article", "9 signs, sign 8: hardware failure")
        if f.cage_migration is Answer.YES or f.set_screw_loose is Answer.YES:
            self.note("cage migration or loose set screw", "article", "9 signs, sign 8")
        return items

    def _film_lucency(self) -> bool:
        """Lucency around the cage on any study other than CT (CT's own is a bridging sign),
        counted unless a later CT read the level: fine-cut CT is the better test."""
        cts = [i for i, s in enumerate(self.seen) if s.study.modality is Modality.CT]
        last_ct = cts[-1] if cts else -1
        counted = False
        for i, item in enumerate(self.seen):
            if item.study.modality is Modality.CT or item.findings.cage_lucency is not Answer.YES:
                continue
            when = "" if item.months is None else f" at {item.months:g} months"
            seen = f"lucency around the cage on {_FILMS[item.study.modality]}{when}"
            if i < last_ct:
                self.note(f"{seen}, before the latest CT: the CT decides", "choudhri2014", CT)
                continue
            counted = True
            self.note(f"{seen}: a sign against fusion", "duits2024", _CAGE)
        return counted

    def _ct(self) -> bool | None:
        """True = bridged, False = not bridged, None = no graded CT or conflicting signs."""
        cts = [s for s in self.seen if s.study.modality is Modality.CT]
        if not cts:
            return None
        f = cts[-1].findings
        pro, con = bridging_signs(f)
        self.ct_lucency = f.cage_lucency is Answer.YES
        if f.facet_bridging is Answer.NO and f.posterolateral_bridging is Answer.YES:
            self.note("no facet fusion weighs more than posterolateral bone", "choudhri2014", FACET)
        if f.facet_bridging is Answer.YES and f.posterolateral_bridging is Answer.NO:
            self.note(
                "facet fusion present; absent posterolateral bone weighs less",
                "choudhri2014",
                FACET,
            )
        for text, cite, locator in (*pro, *con):
            self.note(text, cite, locator)
        if pro and con:
            self.note("CT signs disagree at this level", "duits2024", "criteria vary widely")
            return None
        if con:
            return False
        return True if pro else None

    def _motion(self) -> tuple[float | None, float | None, float | None]:
        angle = translation = interspinous = None
        for item in self.seen:
            f = item.findings
            computed = computed_motion(f)
            if computed is not None:
                angle, translation = computed.angle_deg, computed.translation_mm
                self.note(
                    f"motion computed from landmarks ({computed.method})", "duits2024", _MOTION
                )
            angle = f.angle_deg if f.angle_deg is not None else angle
            translation = f.translation_mm if f.translation_mm is not None else translation
            interspinous = f.interspinous_mm if f.interspinous_mm is not None else interspinous
        return angle, translation, interspinous

    def _moving(self) -> bool | None:
        angle, translation, interspinous = self.motion
        cut = self.cut
        verdicts: list[bool] = []
        if angle is not None:
            verdicts.append(angle >= cut.angle_deg)
            self.note(
                f"angular motion {angle:g}° (cut-off < {cut.angle_deg:g}°, a site setting)",
                "duits2024",
                _MOTION,
            )
        if interspinous is not None and self._cervical():
            if interspinous < cut.interspinous_fused_mm:
                verdicts.append(False)
            elif interspinous > cut.interspinous_nonunion_mm:
                verdicts.append(True)
            self.note(
                f"interspinous motion {interspinous:g} mm (< {cut.interspinous_fused_mm:g} mm "
                f"supports fusion, > {cut.interspinous_nonunion_mm:g} mm suggests nonunion)",
                "aans_cervical",
                "interspinous motion over 2 mm",
            )
            self.note(
                "interspinous measurements carry about 1 mm of error: never decisive alone",
                "ism_reliability",
                "ICC 0.76, SEM 1 mm, minimum detectable difference 2.76 mm",
            )
        if translation is not None and translation > cut.translation_mm:
            self.note(f"translation {translation:g} mm: instability", "nass2014", _NASS)
        if not verdicts:
            return None
        return any(verdicts)

    def _cervical(self) -> bool:
        return self.level.startswith("C")

    def _cervical_nonunion(self) -> bool:
        interspinous = self.motion[2]
        return (
            self._cervical()
            and interspinous is not None
            and interspinous > self.cut.interspinous_nonunion_mm
        )

    def _static_only(self) -> bool:
        return all(s.study.modality is Modality.STATIC_XRAY for s in self.seen)

    def _deciding(self) -> Seen | None:
        """The study whose timing counts: the latest CT, else the latest study."""
        cts = [s for s in self.seen if s.study.modality is Modality.CT]
        pool = cts or self.seen
        return pool[-1] if pool else None

    def _progress(self) -> tuple[bool | None, float | None]:
        scored: list[tuple[Seen, tuple[str, int]]] = []
        for item in self.seen:
            graded = score(item.findings)
            if graded is not None and item.months is not None:
                scored.append((item, graded))
        if len(scored) < 2:
            return None, None
        (first, (scale, before)), (last, (later_scale, after)) = scored[0], scored[-1]
        if scale != later_scale or first.months is None or last.months is None:
            return None, None
        span = round(last.months - first.months, 2)
        if after > before:
            self.note(
                f"bridging improved over {span:g} months of serial studies",
                "ct_review2025",
                _SERIAL,
            )
            return True, span
        self.note(f"no progress over {span:g} months of serial studies", "ct_review2025", _SERIAL)
        return False, span


def _yes(answer: Answer) -> bool | None:
    return answer.truth


def computed_motion(f: LevelFindings) -> Motion | None:
    """Motion computed from landmark points, when the study gives them."""
    if f.landmarks is None:
        return None
    return measure(f.landmarks, need_mm=False)


_CAGE = "radiolucency around the cage"
# How a finding on a study other than CT is named (the MRI entry keeps the finding from vanishing).
_FILMS = {
    Modality.STATIC_XRAY: "static radiographs",
    Modality.FLEXION_EXTENSION: "flexion-extension films",
    Modality.MRI: "MRI",
}
_STATIC = "static radiographs not recommended, especially with instrumentation"
_FE = "no motion on flexion-extension suggests fusion; motion does not prove pseudarthrosis"
_MOTION = "angular motion < 5° is the most consistent interbody criterion"
_DEF = "pseudarthrosis: failure of bony union within 12 months"
_SERIAL = "assessment at 12 months; 15-16% show delayed progress"
_NASS = "dynamic instability: translation over 2 mm between views"
