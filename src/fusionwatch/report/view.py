"""The report view: an Assessment and a labels catalogue in, ordered sections per reader out (pure).

Every renderer (terminal, HTML page, PDF, Markdown) lays out this view and nothing else, so the
readers see the same headings and words everywhere. The view puts the answer first (what to do,
by when, the top reasons), then a short summary (the patient's first pages, the clinician's one-page
note), then the detail a reader may unfold (or an appendix). After an emergency it stops there.
"""

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from fusionwatch import locale
from fusionwatch.core.case import Case
from fusionwatch.core.compiled import Knowledge
from fusionwatch.core.results import (
    Assessment,
    Conclusion,
    EducationItem,
    Finding,
    ImagingResult,
    MissingItem,
    Source,
    SuspicionResult,
    TimedFrom,
)
from fusionwatch.core.spine import sort_segments, span_text
from fusionwatch.core.vocab import SUSPICION_ORDER
from fusionwatch.knowledge.labels import Audience, Catalogue
from fusionwatch.report.detail import Detail
from fusionwatch.report.parts import Grid, Item, Section
from fusionwatch.report.words import Words

TOP_REASONS = 3
NOTE_QUESTIONS = 5
PATIENT_QUESTIONS = 6
RECOMMENDATION_KINDS = ("next_step", "management", "risk_factor", "revision", "observation")
PLAN_KINDS = ("next_step", "revision", "observation")


@dataclass(frozen=True, slots=True)
class Answer:
    """What to do and by when, with the top reasons: the first thing every reader sees."""

    level: str
    title: str
    when_label: str
    when: str
    headline: str
    reasons: tuple[Item, ...]
    unanswered_heading: str
    unanswered: tuple[str, ...]
    not_sure_heading: str = ""
    not_sure: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Report:
    """One assessment laid out for one reader."""

    audience: Audience
    language: str
    title: str
    facts_line: str
    answer: Answer
    summary: tuple[Section, ...]
    detail: tuple[Section, ...]
    sources: tuple[str, ...]
    disclaimer: str
    stopped_at_emergency: bool
    detail_heading: str
    sources_heading: str
    # On a patient's report in another language: the disposition in English, so that any
    # clinician can read what the printout asks for (the clinician's note stays English).
    clinician_line: str = ""


def build(
    assessment: Assessment,
    catalogue: Catalogue,
    audience: Audience,
    *,
    known: Mapping[str, Any] | None = None,
    who: str | None = None,
) -> Report:
    """The report for one reader. ``known`` holds the case's answers by fact id (for 'my answers'
    and to drop follow-up questions that an earlier 'no' made irrelevant); ``who`` names the
    patient on a clinician's note."""
    words = Words(catalogue, audience, _numbering(assessment))
    return _Builder(assessment, words, dict(known or {}), who).report()


def known_values(case: Case, kb: Knowledge) -> dict[str, Any]:
    """The case's answers by fact id, as the engine reads them (for ``build(known=...)``)."""
    return {reader.fact: reader.value(case) for reader in kb.readers}


def for_case(
    assessment: Assessment,
    case: Case,
    catalogue: Catalogue,
    audience: Audience,
    who: str | None = None,
) -> Report:
    """The report of one case's assessment, with the case's answers."""
    known = known_values(case, catalogue.kb)
    return build(assessment, catalogue, audience, known=known, who=who)


def _numbering(a: Assessment) -> dict[str, int]:
    """Each cited source's number, once per source however many places cite it."""
    numbers: dict[str, int] = {}
    for source in a.provenance.citations:
        numbers.setdefault(source.cite, len(numbers) + 1)
    return numbers


class _Builder:
    def __init__(self, a: Assessment, words: Words, known: dict[str, Any], who: str | None) -> None:
        self.a, self.w, self.known, self.who = a, words, known, who
        self.audience = words.audience
        self.emergency = a.triage.level == "emergency"

    def report(self) -> Report:
        w, a = self.w, self.a
        answer, summary = self._answer(), self._summary()
        detail = () if self.emergency else self._detail()
        order = _first_use(answer.reasons, summary, detail)
        renumber = {old: new for new, old in enumerate(order, start=1)}
        return Report(
            audience=self.audience,
            language=w.catalogue.language,
            title=self._title(),
            facts_line=(
                f"{w.phrase('as_of')} {_date(str(a.as_of), w.catalogue.language)} · "
                f"{w.phrase('knowledge')} {a.provenance.knowledge_version}"
            ),
            answer=replace(answer, reasons=_renumbered(answer.reasons, renumber)),
            summary=tuple(_renumber_section(s, renumber) for s in summary),
            detail=tuple(_renumber_section(s, renumber) for s in detail),
            sources=tuple(w.source_titles(order)),
            disclaimer=a.disclaimer if self.audience == "patient" else self._clinician_notice(),
            stopped_at_emergency=self.emergency,
            detail_heading=w.heading("detail"),
            sources_heading=w.heading("sources"),
            clinician_line=self._clinician_line(),
        )

    def _clinician_notice(self) -> str:
        kb = self.w.catalogue.kb
        return kb.education_items[kb.disclaimers["clinician"]].body

    def _clinician_line(self) -> str:
        if self.audience != "patient" or self.w.catalogue.language == locale.SOURCE:
            return ""
        t = self.a.triage
        d = self.w.catalogue.disposition(t.level)
        return f"For the clinician: {d.clinician} ({d.when_clinician}). {t.clinician_headline}"

    def _title(self) -> str:
        if self.audience == "patient":
            return self.w.heading("note")
        name = self.who or self.a.label or self.w.phrase("unnamed")
        return f"{self.w.heading('note')}: {name}"

    # ---- the answer -----------------------------------------------------------------------------

    def _answer(self) -> Answer:
        t, w = self.a.triage, self.w
        disposition = w.catalogue.disposition(t.level)
        reasons = list(t.reasons) or self._deciding(self.a.suspicion)
        return Answer(
            level=t.level,
            title=disposition.get(self.audience),
            when_label=w.heading("when"),
            when=disposition.when(self.audience),
            headline=t.headline if self.audience == "patient" else t.clinician_headline,
            reasons=tuple(self._reason(c) for c in reasons[:TOP_REASONS]),
            unanswered_heading=w.heading("emergency_questions"),
            # After an emergency nothing else is asked: the person goes now.
            unanswered=()
            if self.emergency
            else tuple(w.missing(m) for m in t.unanswered_emergency),
            # "Not sure" is an answer, not a gap: named apart from the unasked questions.
            not_sure_heading=w.heading("not_sure"),
            not_sure=tuple(w.missing(m) for m in self._own(t.not_sure)),
        )

    def _own(self, items: Iterable[MissingItem]) -> list[MissingItem]:
        """For a patient, only the questions they answer themselves: a clinician's 'not sure'
        about an examination finding is not shown as the patient's answer."""
        if self.audience != "patient":
            return list(items)
        return [m for m in items if self.w.catalogue.patient_question(m.fact)]

    def _reason(self, c: Conclusion, prefix: str = "") -> Item:
        """A patient reads the reason in their words; a clinician's note keeps it to one line."""
        if self.audience == "patient":
            return self.w.item(c, findings=False, prefix=prefix)
        return self.w.short(c, prefix=prefix)

    # ---- summary: the patient's first pages, the clinician's one-page note ----------------------

    def _summary(self) -> tuple[Section, ...]:
        if self.emergency:
            return self._emergency_summary()
        if self.audience == "patient":
            parts = [self._why(), self._my_answers(), self._ask_doctor()]
        else:
            parts = [
                self._who(),
                self._surgery(),
                self._findings(),
                self._imaging_table(),
                self._why(),
                self._plan(),
                self._open_questions(NOTE_QUESTIONS),
            ]
        return tuple(p for p in parts if p is not None)

    def _emergency_summary(self) -> tuple[Section, ...]:
        w = self.w
        stop = Section(
            "emergency_stop", w.heading("emergency_stop"), lead=(w.phrase("emergency_stop"),)
        )
        if self.audience == "patient":
            return (stop,)
        return tuple(s for s in (self._who(), self._surgery(), self._findings(), stop) if s)

    def _why(self) -> Section:
        s, w = self.a.suspicion, self.w
        deciding = self._deciding(s)
        others = [c for c in s.reasons if c not in deciding]
        band = f"{w.heading('suspicion')}: {w.catalogue.band(s.level, self.audience)}"
        explanation = s.patient_explanation if self.audience == "patient" else s.explanation
        lead = [explanation or s.explanation]
        if s.months_since_surgery is not None and self.audience == "patient":
            lead.append(self._timing(s))
            if s.phase == "early_recovery" and s.level in ("low", "cannot_tell"):
                # What is expected this early comes first, before what is still open.
                lead.insert(0, self.w.catalogue.kb.data.messages["timing.early_recovery"].patient)
            timed_from = self._timed_from(s)
            if timed_from:
                lead.append(timed_from)
        limits = tuple(w.item(c, prefix=f"{w.heading('limited_by')}: ") for c in s.limited_by)
        # Under a cap the band's reason comes first; the higher rule it lowered is named as such
        # ("nonunion is highly suspect" first under a "Moderate" heading read as a contradiction).
        before = f"{w.heading('before_cap')}: " if limits else ""
        reasons = tuple(self._reason(c, prefix=before) for c in deciding)
        return Section(
            "suspicion",
            band,
            lead=tuple(lead),
            items=limits + reasons if limits else reasons,
            folded_heading=w.heading("superseded") if others else "",
            folded=tuple(self._reason(c) for c in others),
        )

    def _timed_from(self, s: SuspicionResult) -> str | None:
        """Which operation the months count from. A clinician reads the engine's sentence; a
        patient reads the message's patient wording in their language, the operation named from
        the catalogue (results stored before the operation was kept read the engine's sentence)."""
        op = s.timed_from_operation
        if self.audience != "patient" or op is None:
            return s.timed_from
        key = "timing.operation_undated" if op.undated else "timing.last_operation"
        return self.w.catalogue.kb.data.messages[key].patient.format(operation=self._operation(op))

    def _timing(self, s: SuspicionResult) -> str:
        w = self.w
        months_since = s.months_since_surgery or 0.0
        count = (
            f"{round(months_since, 1):g}"
            if w.catalogue.language == locale.SOURCE
            else locale.number(months_since, w.catalogue.language)
        )
        months = f"{count} {w.phrase('months')}"
        if s.phase is None:
            return f"{w.phrase('months_since')} {months}"
        phase = w.catalogue.named("phases", s.phase, self.audience)
        return f"{w.phrase('months_since')} {months} · {w.phrase('phase')} {phase}"

    @staticmethod
    def _deciding(s: SuspicionResult) -> list[Conclusion]:
        """The conclusions that set the band; lower bands under them only agree, so they fold."""
        if not s.reasons:
            return []
        rank = SUSPICION_ORDER.get
        top = max(rank(c.level or "", -1) for c in s.reasons)
        same = [c for c in s.reasons if rank(c.level or "", -1) == top]
        return same[:1] + [c for c in same[1:] if c.level == s.level][:1]

    def _my_answers(self) -> Section | None:
        rows = self.w.answer_rows(self.known)
        if not rows:
            return None
        w = self.w
        grid = Grid((w.phrase("question"), w.phrase("answer")), tuple(rows))
        return Section("my_answers", w.heading("my_answers"), grid=grid)

    def _ask_doctor(self) -> Section | None:
        w = self.w
        asks = [Item(e.body) for e in self.a.education if e.kind == "question"]
        open_items = [Item(w.missing(m)) for m in self._open(self.a.missing_information)]
        if not asks and not open_items:
            return None
        return Section(
            "ask_doctor",
            w.heading("ask_doctor"),
            items=tuple(asks),
            folded_heading=w.heading("open_questions") if open_items else "",
            folded=tuple(open_items[:PATIENT_QUESTIONS]),
        )

    def _open(self, items: Iterable[MissingItem]) -> list[MissingItem]:
        """Open questions this reader can act on: for patients only their own, and never a
        follow-up to a question they answered 'no'."""
        cat = self.w.catalogue
        # The unanswered emergency questions are already in the answer box, first.
        first = {m.fact for m in self.a.triage.unanswered_emergency}
        kept = [m for m in items if m.fact not in first and cat.asked_when(m.fact, self.known)]
        return self._own(kept)

    def _who(self) -> Section:
        w, k = self.w, self.known
        name = self.who or self.a.label or w.phrase("unnamed")
        parts = [name]
        if k.get("person.age") is not None:
            parts.append(f"{w.phrase('age')} {k['person.age']:g} {w.phrase('years')}")
        if k.get("person.sex") is not None:
            parts.append(w.catalogue.value("person.sex", k["person.sex"], "clinician"))
        parts.append(f"{w.phrase('as_of')} {self.a.as_of}")
        return Section("patient", w.heading("patient"), lead=(" · ".join(parts),))

    def _surgery(self) -> Section | None:
        w = self.w
        facts: tuple[str, ...] = (
            "surgery.region",
            "surgery.levels",
            "surgery.approach",
            "surgery.instrumented",
            "surgery.graft",
            "surgery.indication",
            "surgery.prior_failed_fusion_same_site",
        )
        s = self.a.suspicion
        if s.operations:  # the levels are in the list of operations, the index fusion's first
            facts = tuple(f for f in facts if f != "surgery.levels")
        parts = [w.fact_line(f, self.known[f]) for f in facts if self.known.get(f) is not None]
        if s.months_since_surgery is not None:
            parts.append(self._timing(s))
        timed_from = self._timed_from(s)
        if timed_from:
            parts.append(timed_from)
        lead = ["; ".join(parts)] if parts else []
        if s.operations:
            lead.append(self._operations(s.operations))
        if not lead:
            return None
        return Section("surgery", w.heading("surgery"), lead=tuple(lead))

    def _operations(self, later: tuple[TimedFrom, ...]) -> str:
        """Every operation in order, then the levels fused by them all (a lower bound when a later
        operation does not name its levels)."""
        k = self.known
        index_levels = tuple(k.get("surgery.levels") or ())
        date = k.get("surgery.date")
        index = TimedFrom("index", index_levels, date, k.get("surgery.months_since"))
        named = [self._operation(op) for op in (index, *later)]
        levels = sort_segments({*index_levels, *(lv for op in later for lv in op.levels)})
        text = f"{self.w.phrase('operations')} {'; '.join(named)}"
        if levels:
            complete = all(op.levels for op in later)
            label = self.w.phrase("levels_named" if complete else "levels_named_so_far")
            text += f" · {label}: {span_text(levels)}"
        return text

    def _operation(self, op: TimedFrom) -> str:
        c, audience = self.w.catalogue, self.audience
        name = c.named("operations", op.kind, audience)
        if op.reason:
            name += " " + c.named("revision_reasons", op.reason, audience)
        if op.levels:
            name += " " + c.phrase("operation_at", audience).format(levels=span_text(op.levels))
        if op.date is not None:
            when = c.date(op.date)
        elif op.months_ago is not None:
            months = c.number(round(op.months_ago, 1))
            when = c.phrase("months_ago", audience).format(months=months)
        else:
            when = c.phrase("timing_not_given", audience)
        return f"{name} ({when})"

    def _findings(self) -> Section | None:
        """What was reported (positive answers, pain scores) and the counts the rules used."""
        a, w = self.a, self.w
        positive = [
            fact
            for fact, value in self.known.items()
            if fact.startswith(_REPORTED) and _positive_value(value)
        ]
        # A unit answered on its own is read with its number ("Temperature: 101.3 °F").
        units = {f"{f}_unit" for f in positive}
        shown = [f for f in positive if f not in units]
        reported = [w.fact_line(fact, self.known[fact], self.known) for fact in shown]
        fired = [*a.triage.reasons, *a.suspicion.reasons, *a.concordance]
        seen: dict[str, Finding] = {}
        for c in fired:
            for f in c.because:
                if _positive(f) and f.fact not in seen and f.fact not in _NOT_FINDINGS:
                    seen[f.fact] = f
        # A derived sign that reported answers alone already make ('answer or scores' when the
        # answer is yes) is not repeated.
        facts = self.w.catalogue.kb.facts
        said = set(positive)
        counted = [
            w.finding(f)
            for f in seen.values()
            if f.fact not in self.known
            and not (f.fact in facts and said >= set(facts[f.fact].derived_from or {""}))
        ]
        if not reported and not counted:
            return None
        return Section("findings", w.heading("findings"), lead=("; ".join(reported + counted),))

    def _imaging_table(self) -> Section | None:
        im = self.a.imaging
        if im is None or not (im.levels or im.adjacent or im.set_aside):
            return None
        return Section(
            "imaging",
            self.w.heading("imaging"),
            grid=self.w.level_grid(im) if im.levels or im.adjacent else None,
            lead=(*_not_imaged(im, self.w), *im.set_aside),
        )

    def _plan(self) -> Section | None:
        w = self.w
        items = [c for c in self.a.recommendations if c.kind in PLAN_KINDS]
        # When imaging capped the band (a solid fusion), the plan turns first to the other pain
        # generators, as the cap's text says; they were only in the detail.
        if self.a.suspicion.limited_by and self.a.pain_generators:
            items.insert(0, self.a.pain_generators[0])
        if not items:
            return None
        return Section("plan", w.heading("plan"), items=tuple(w.short(c) for c in items))

    def _open_questions(self, limit: int | None = None) -> Section | None:
        items = self._open(self.a.missing_information)
        if not items:
            return None
        w = self.w
        shown = items if limit is None else items[:limit]
        return Section(
            "open_questions",
            w.heading("open_questions"),
            items=tuple(Item(f"{w.missing(m)} ({w.stakes(m)})") for m in shown),
        )

    # ---- detail: folded on screen, an appendix on paper -----------------------------------------

    def _detail(self) -> tuple[Section, ...]:
        d = Detail(self.a, self.w)
        if self.audience == "patient":
            parts = [
                d.imaging_levels(),
                d.conclusions("concordance", self.a.concordance),
                d.follow_up(),
                d.conclusions("pain_generators", self.a.pain_generators),
                *d.recommendations(RECOMMENDATION_KINDS),
                d.education("education", ("myth", "faq", "timeline"), self._timeline()),
            ]
        else:
            parts = [
                d.suspicion_full(),
                d.imaging_levels(),
                d.conclusions("concordance", self.a.concordance),
                d.stimulator(),
                d.follow_up(),
                d.conclusions("pain_generators", self.a.pain_generators),
                *d.recommendations(RECOMMENDATION_KINDS),
                self._open_questions(),
                d.trace(),
            ]
        return tuple(p for p in parts if p is not None)

    def _timeline(self) -> tuple[EducationItem, ...]:
        return self.a.timeline


# Timing and bands are shown in their own lines of the note, not as findings.
_NOT_FINDINGS = frozenset({"derived.months_since_surgery", "result.suspicion", "derived.phase"})


# The answers a note names when they are positive: symptoms, emergencies, pain, imaging summary,
# infection signs and tests, and the other problems since the operation.
_REPORTED = ("emergency.", "signs.", "pain.", "imaging.", "exam.", "infection.", "recovery.")


def _positive(f: Finding) -> bool:
    """A finding worth naming in a note: a yes, a number above zero, or a choice."""
    return _positive_value(f.value)


def _positive_value(value: Any) -> bool:
    if value is None or value is False or isinstance(value, tuple | list):
        return False
    return not (isinstance(value, int | float) and not isinstance(value, bool) and value == 0)


def _date(iso: str, language: str) -> str:
    """The English reports keep ISO dates (golden files, clinicians); others read their own."""
    if language == locale.SOURCE:
        return iso
    return locale.date(dt.date.fromisoformat(iso), language)


def _not_imaged(im: ImagingResult, w: Words) -> tuple[str, ...]:
    if not im.not_imaged:
        return ()
    return (f"{w.phrase('not_imaged')} {', '.join(im.not_imaged)}",)


def _first_use(
    reasons: Iterable[Item], summary: Iterable[Section], detail: Iterable[Section]
) -> list[int]:
    """The source numbers in the order a reader meets them, each once."""
    order: dict[int, None] = {}
    items = [*reasons]
    for section in (*summary, *detail):
        items += [*section.items, *section.folded]
    for item in items:
        order.update(dict.fromkeys(item.sources))
    return list(order)


def _renumbered(items: Iterable[Item], new: Mapping[int, int]) -> tuple[Item, ...]:
    return tuple(replace(i, sources=tuple(sorted(new[n] for n in i.sources))) for i in items)


def _renumber_section(s: Section, new: Mapping[int, int]) -> Section:
    return replace(s, items=_renumbered(s.items, new), folded=_renumbered(s.folded, new))


def sources_of(sources: Iterable[Source], numbers: Mapping[str, int]) -> tuple[int, ...]:
    return tuple(sorted({numbers[s.cite] for s in sources if s.cite in numbers}))
