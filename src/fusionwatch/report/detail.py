"""The detail sections of a report view: what a reader unfolds on screen or reads in an appendix."""

from collections.abc import Iterable, Mapping
from typing import Any

from fusionwatch.core.derive.milestone import Milestone
from fusionwatch.core.derive.trajectory import PATTERN_TEXT, Pattern
from fusionwatch.core.followup import SignCheck
from fusionwatch.core.knowledge import SOURCE_LANGUAGE
from fusionwatch.core.results import Assessment, Conclusion, EducationItem
from fusionwatch.core.scores import INSTRUMENT_LABEL, Instrument
from fusionwatch.report.parts import Grid, Item, Section
from fusionwatch.report.words import Words


class Detail:
    """Builds the detail sections of one assessment for one reader."""

    def __init__(self, a: Assessment, words: Words) -> None:
        self.a, self.w = a, words
        self.audience = words.audience

    def conclusions(self, key: str, items: Iterable[Conclusion]) -> Section | None:
        shown = tuple(self.w.item(c) for c in items)
        return Section(key, self.w.heading(key), items=shown) if shown else None

    def recommendations(self, kinds: Iterable[str]) -> list[Section | None]:
        return [
            self.conclusions(kind, [c for c in self.a.recommendations if c.kind == kind])
            for kind in kinds
        ]

    def suspicion_full(self) -> Section:
        s, w = self.a.suspicion, self.w
        items = tuple(w.item(c) for c in s.reasons)
        limits = tuple(w.item(c, prefix=f"{w.heading('limited_by')}: ") for c in s.limited_by)
        band = w.catalogue.band(s.level, self.audience)
        return Section("suspicion_full", f"{w.heading('suspicion')}: {band}", items=items + limits)

    def imaging_levels(self) -> Section | None:
        im, w = self.a.imaging, self.w
        clinician = self.audience == "clinician"
        if im is None or not (im.levels or im.adjacent or (clinician and im.set_aside)):
            return None
        # The engine's reading of each study is English (clinician wording): a patient reading
        # another language gets each level's result in words, and the rule texts say the rest.
        english = self.audience == "clinician" or w.catalogue.language == SOURCE_LANGUAGE
        items = []
        for lv in im.levels:
            status = w.catalogue.named("level_status", lv.status, self.audience)
            reasons = "; ".join(r.text for r in lv.reasons) if english else ""
            sources = w.sources(s for r in lv.reasons for s in r.sources)
            items.append(Item(f"{lv.level}: {status}", detail=reasons, sources=sources))
        for adj in im.adjacent:
            position = w.phrase(adj.position) if adj.position in ("above", "below") else ""
            where = f"{adj.level} ({position})" if position else adj.level
            reasons = "; ".join(r.text for r in adj.reasons) if english else ""
            sources = w.sources(s for r in adj.reasons for s in r.sources)
            text = f"{w.phrase('adjacent')}, {where}" + (f": {adj.conclusion}" if english else "")
            items.append(Item(text, detail=reasons, sources=sources))
        # Readings a later operation superseded: said to the clinician (English, as the reasons).
        lead = [im.cutoff_note, *im.set_aside] if clinician else []
        conflicts = [f for f in im.summary if f.conflict]
        for f in conflicts:
            given = w.catalogue.value(f.fact, f.given, self.audience)
            derived = w.catalogue.value(f.fact, f.derived, self.audience)
            name = w.catalogue.fact(f.fact, self.audience)
            lead.append(
                f"{w.phrase('conflict')} {name}: {w.phrase('given')} {given}, "
                f"{w.phrase('from_studies')} {derived}"
            )
        return Section("imaging_levels", w.heading("imaging"), lead=tuple(lead), items=tuple(items))

    def stimulator(self) -> Section | None:
        st, w = self.a.stimulator, self.w
        if st is None:
            return None
        settings = self.a.provenance.settings
        used = (f"{w.phrase('settings_used')} {self._settings(settings)}",) if settings else ()
        if not st.in_question:
            # Candidacy is not in question (no warning sign, no risk factor): say why, once.
            lead = (f"{w.phrase('policy')} {st.title}", st.note) if st.note else ()
            return Section("stimulator", w.heading("stimulator"), lead=(*lead, *used))
        key = "unknown" if st.candidate is None else ("yes" if st.candidate else "no")
        verdict = w.catalogue.named("candidacy", key, self.audience)
        rows = tuple(
            (c.text, w.catalogue.named("outcomes", c.outcome, self.audience)) for c in st.criteria
        )
        grid = Grid((w.phrase("details"), w.phrase("outcome")), rows) if rows else None
        return Section(
            "stimulator",
            w.heading("stimulator"),
            lead=(f"{w.phrase('policy')} {st.title}: {verdict}", *used),
            items=tuple(w.item(c) for c in st.pathways),
            grid=grid,
        )

    def _settings(self, settings: Mapping[str, Any]) -> str:
        """The site settings the result used, named in words (never the raw ids)."""
        w, policies = self.w, self.w.catalogue.kb.policies
        parts = []
        if "stimulator_policy" in settings:
            pid = str(settings["stimulator_policy"])
            title = policies[pid].policy.title if pid in policies else pid
            parts.append(f"{w.phrase('setting_policy')} {title}")
        if settings.get("motion_cutoff_deg") is not None:
            parts.append(f"{w.phrase('setting_motion_cutoff')} {settings['motion_cutoff_deg']:g}°")
        return "; ".join(parts)

    def follow_up(self) -> Section | None:
        f, w = self.a.follow_up, self.w
        if f is None:
            return None
        rows = tuple(
            (
                self._score(t.instrument),
                self._point(t.reference),
                self._point(t.best),
                self._point(t.latest),
                self._pattern(t.pattern),
            )
            for t in f.trajectories
        )
        columns = tuple(w.phrase(k) for k in ("score", "start", "best", "latest", "pattern"))
        lead = list(f.summaries) if self.audience == "clinician" else []
        if f.counted_from and self.audience == "clinician":
            lead.insert(0, f"{w.phrase('counted_from')} {f.counted_from}.")
        if self.audience == "clinician":
            items = tuple(Item(f"{c.label}: {c.note}") for c in f.signs)
        else:
            items = tuple(Item(f"{self._sign(c)}: {w.phrase(_sign_key(c))}") for c in f.signs)
        for m in f.milestones:
            if m.status == "next":
                when, purpose = self._milestone(m)
                lead.append(
                    f"{w.phrase('next_check')} {when} {w.phrase('after_surgery')}: {purpose}"
                )
        return Section(
            "follow_up",
            w.heading("follow_up"),
            lead=tuple(lead),
            grid=Grid(columns, rows) if rows else None,
            items=items,
        )

    def _score(self, instrument: str) -> str:
        if self.audience == "clinician":
            return INSTRUMENT_LABEL[Instrument(instrument)]
        return self.w.phrase(f"score_{instrument}")

    def _pattern(self, pattern: str) -> str:
        if self.audience == "clinician":
            return PATTERN_TEXT[Pattern(pattern)]
        return self.w.phrase(f"pattern_{pattern}")

    def _sign(self, c: SignCheck) -> str:
        """A time-pattern sign as a patient names it, in the report's language."""
        return self.w.phrase(f"sign_{c.sign.rsplit('.', 1)[-1]}")

    def _milestone(self, m: Milestone) -> tuple[str, str]:
        """When a check point falls and what it is for: the engine's English for a clinician,
        the catalogue's words (and the language's numbers) for a patient."""
        if self.audience == "clinician":
            return m.name, m.purpose
        known = {t.id: t for t in self.w.catalogue.kb.data.thresholds}[m.threshold]
        unit = "weeks" if known.unit == "weeks" else "months"
        when = f"{self.w.number(known.value)} {self.w.phrase(unit)}"
        return when, self.w.phrase(f"check_{m.threshold.replace('.', '_')}")

    def _point(self, p: object) -> str:
        month, value = getattr(p, "month", None), getattr(p, "value", None)
        if month is None or value is None:
            return "-"
        if getattr(p, "baseline", False):
            restarted = self.a.follow_up is not None and self.a.follow_up.counted_from
            before = "before_operation" if restarted else "before_surgery"
            return f"{self.w.number(value)} ({self.w.phrase(before)})"
        return f"{self.w.number(value)} ({self.w.phrase('month')} {self.w.number(month)})"

    def education(
        self, key: str, kinds: Iterable[str], extra: Iterable[EducationItem] = ()
    ) -> Section | None:
        wanted = set(kinds)
        chosen = [e for e in self.a.education if e.kind in wanted] + list(extra)
        if not chosen:
            return None
        items = tuple(
            Item(e.body, title=e.title, sources=self.w.sources(e.sources)) for e in chosen
        )
        return Section(key, self.w.heading(key), items=items, markdown=True)

    def trace(self) -> Section | None:
        w = self.w
        rows = tuple(
            (
                r.rule,
                r.outcome,
                "; ".join(w.finding(v) for v in r.values),
            )
            for r in self.a.provenance.rules
            if r.outcome != "quiet"
        )
        if not rows:
            return None
        columns = (w.phrase("rule"), w.phrase("outcome"), w.phrase("values_seen"))
        return Section("trace", w.heading("trace"), grid=Grid(columns, rows))


def _sign_key(c: SignCheck) -> str:
    """What the scores show next to the person's answer, as a phrase of the catalogue."""
    if c.scores and c.answer is False:
        return "sign_scores_despite_no"
    if c.scores:
        return "sign_scores"
    if c.answer and c.scores is False:
        return "sign_answer_only"
    return "sign_scores_no" if c.scores is False else "sign_too_few"
