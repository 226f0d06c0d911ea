"""assess(case, kb, as_of) -> Assessment: pure, deterministic, and explained.

Order of work: read the case into facts, derive timing and counts, band through the tables, then
run the rules kind by kind (emergency first). Triage follows four safety invariants (decision
0009): any emergency sign -> emergency; an urgent finding, or an emergency question answered "not
sure" -> urgent at least; an emergency question no one asked -> never routine; a routine result or
a low band that rests on open inputs says so in its headline and names them. Suspicion is the
highest band any rule supports, lowered only by a cap that is known to hold, and ``cannot_tell``
when the facts that decide it (time since surgery, the core signs) are unknown.
"""

import datetime as dt
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from fusionwatch.core.case import Case
from fusionwatch.core.compiled import CompiledRule, Knowledge
from fusionwatch.core.criteria import OUTCOME
from fusionwatch.core.derive.adjacent import AdjacentStatus
from fusionwatch.core.derive.fusion import Cutoffs, LevelStatus
from fusionwatch.core.derive.record import record_facts
from fusionwatch.core.derive.studies import study_findings
from fusionwatch.core.derive.timing import Done, history, last_operation, prior_failed_fusion
from fusionwatch.core.errors import CaseError, Problem
from fusionwatch.core.explain import Explainer
from fusionwatch.core.followup import Restart, explained, score_facts
from fusionwatch.core.knowledge import RuleKind
from fusionwatch.core.openinputs import asks_screen, raising_questions
from fusionwatch.core.results import (
    AdjacentResult,
    Assessment,
    Candidacy,
    Conclusion,
    Criterion,
    ImagingResult,
    LevelResult,
    MissingItem,
    Provenance,
    RuleTrace,
    Source,
    SummaryFact,
    SuspicionResult,
    TableTrace,
    TimedFrom,
    TriageResult,
    Value,
)
from fusionwatch.core.site import DEFAULT_SITE, URGENT_LINE, Site
from fusionwatch.core.vocab import SUSPICION_ORDER, Answer, Suspicion, Triage
from fusionwatch.core.whatif import what_would_change

NOTHING_ON_RECORD = record_facts((), (), ())
_TRACE = {True: "fires", False: "quiet", None: "unknown"}

_HEADLINE_ITEMS = 3
_OPEN_BANDS = frozenset({Suspicion.LOW.value, Suspicion.CANNOT_TELL.value})
_LATER_KINDS = (
    RuleKind.GENERATOR,
    RuleKind.NEXT_STEP,
    RuleKind.RISK_FACTOR,
    RuleKind.MANAGEMENT,
    RuleKind.REVISION,
    RuleKind.OBSERVATION,
)


def assess(case: Case, kb: Knowledge, as_of: dt.date, site: Site = DEFAULT_SITE) -> Assessment:
    """Assess one validated case against the knowledge base as of a given date."""
    run = _Run(case, kb, as_of, site)
    return run.assessment()


class _Run:
    """The state of one assessment while it is being worked out."""

    def __init__(
        self, case: Case, kb: Knowledge, as_of: dt.date, site: Site = DEFAULT_SITE
    ) -> None:
        if case.surgery.date is not None and case.surgery.date > as_of:
            problem = Problem("surgery.date", f"must not be after the assessment date {as_of}")
            raise CaseError([problem])
        if site.stimulator_policy not in kb.policies:
            known = ", ".join(sorted(kb.policies))
            problem = Problem("site.stimulator_policy", f"must be one of {known}")
            raise CaseError([problem])
        self.case, self.kb, self.as_of, self.site = case, kb, as_of, site
        self.imaging: ImagingResult | None = None
        raw = [(r, r.get(case)) for r in kb.readers]
        self.env: dict[str, Any] = {r.fact: r.logic(value) for r, value in raw}
        # "Not sure" (asked, could not say) is unknown to the rules but is itself a reason to act.
        self.not_sure = tuple(r.fact for r, value in raw if r.answer and value is Answer.NOT_SURE)
        for fact, broader in kb.implied_no.items():
            if self.env[fact] is None and fact not in self.not_sure and self.env[broader] is False:
                self.env[fact] = False
        messages = kb.data.messages
        site_texts = {URGENT_LINE: site.urgent_line or messages[URGENT_LINE].patient}
        self.explain = Explainer(kb, self.env, site_texts)
        self.traces: list[RuleTrace] = []
        self.fired: dict[RuleKind, list[Conclusion]] = {kind: [] for kind in RuleKind}
        self.unknown: list[CompiledRule] = []
        self.quiet: list[CompiledRule] = []
        self._derive(case, as_of)
        # The facts as read and derived, before any rule: what-if trials start from here.
        self.base_env = dict(self.env)
        self.table_traces = self._band()
        self._count()

    def _derive(self, case: Case, as_of: dt.date) -> None:
        env = self.env
        last = last_operation(case.surgery, as_of)
        env["derived.months_since_surgery"] = None if last is None else last.months_ago
        self.timed_from, self.timed_from_operation = self._timed_from(case, as_of)
        later = zip(history(case.surgery, as_of)[1:], case.surgery.operations, strict=True)
        self.operations = tuple(
            replace(
                _operation(done, undated=done.months_ago is None),
                reason=None if op.reason is None else op.reason.value,
            )
            for done, op in later
        )
        if prior_failed_fusion(case.surgery):
            # The history shows a revision for nonunion at these levels: an earlier fusion failed.
            env["surgery.prior_failed_fusion_same_site"] = True
        env["derived.level_count"] = case.surgery.level_count
        env["derived.vertebra_count"] = case.surgery.vertebra_count
        env["derived.levels_at_least"] = case.surgery.levels_at_least
        env["derived.vertebrae_at_least"] = case.surgery.vertebrae_at_least
        env["derived.temperature_c"] = case.infection.temperature_c
        emergency = self.kb.emergency_unsure
        env["derived.emergency_not_sure"] = sum(1 for f in self.not_sure if f in emergency)
        # The scores' facts now; their explanation only when the assessment is put together.
        self.restart = _restart(case, last, as_of)
        self.trajectories, self.scores = score_facts(
            case.follow_up, case.surgery.date, self.kb.thresholds, env, self.restart
        )
        env.update(self.scores)
        # Only cases with studies pay for the imaging work; the summary answers stand otherwise.
        if case.imaging.studies:
            self.imaging = self._imaging(case, as_of)
        else:
            env.update(NOTHING_ON_RECORD)

    def _timed_from(self, case: Case, as_of: dt.date) -> tuple[str | None, TimedFrom | None]:
        """Which operation the timing counts from; said only when there are several."""
        if not case.surgery.operations:
            return None, None
        done = history(case.surgery, as_of)
        undated = [d for d in done if d.months_ago is None]
        messages = self.kb.data.messages
        if undated:
            text = messages["timing.operation_undated"].clinician.format(
                operation=undated[-1].describe()
            )
            return text, _operation(undated[-1], undated=True)
        last = last_operation(case.surgery, as_of)
        described = "" if last is None else last.describe()
        text = messages["timing.last_operation"].clinician.format(operation=described)
        return text, None if last is None else _operation(last, undated=False)

    def _imaging(self, case: Case, as_of: dt.date) -> ImagingResult:
        cutoffs = Cutoffs.from_thresholds(self.kb.thresholds, self.site.motion_cutoff_deg)
        found = study_findings(case, cutoffs, as_of)
        for merged in found.summary:
            self.env[merged.fact] = merged.used
        self.env["derived.months_without_progress"] = found.months_without_progress
        self.env.update(found.record)
        self.env["derived.adjacent_segment_change"] = found.adjacent_change
        summary = tuple(
            SummaryFact(m.fact, _value(m.given), _value(m.derived), _value(m.used), m.conflict)
            for m in found.summary
        )
        return ImagingResult(
            levels=tuple(self._level(status) for status in found.levels),
            summary=summary,
            motion_cutoff_deg=cutoffs.angle_deg,
            cutoff_note=self._cutoff_note(cutoffs.angle_deg),
            not_imaged=tuple(
                lv for lv in case.surgery.fused_levels if lv not in {s.level for s in found.levels}
            ),
            adjacent=tuple(self._adjacent(a) for a in found.adjacent),
            set_aside=found.set_aside,
        )

    def _adjacent(self, a: AdjacentStatus) -> AdjacentResult:
        key = "adjacent.not_decided"
        if a.change is not None:
            key = "adjacent.change" if a.change else "adjacent.no_change"
        return AdjacentResult(
            level=a.level,
            position=a.position,
            months_after_surgery=a.months,
            angle_deg=a.angle_deg,
            translation_mm=a.translation_mm,
            instability=a.instability,
            hardware_problem=a.hardware_problem,
            change=a.change,
            conclusion=self.kb.data.messages[key].clinician,
            reasons=tuple(
                Criterion(r.text, "noted", (self.kb.source(r.cite, r.locator),)) for r in a.reasons
            ),
        )

    def _cutoff_note(self, cutoff: float) -> str:
        template = self.kb.data.messages["imaging.motion_cutoff"].clinician
        return template.format(cutoff=cutoff, default=self.kb.thresholds["motion.angular"])

    def _level(self, s: LevelStatus) -> LevelResult:
        reasons = tuple(
            Criterion(r.text, "noted", (self.kb.source(r.cite, r.locator),)) for r in s.reasons
        )
        return LevelResult(
            level=s.level,
            status=s.status.value,
            months_after_fusion=s.months,
            decided_by=s.modality,
            angle_deg=s.angle_deg,
            translation_mm=s.translation_mm,
            interspinous_mm=s.interspinous_mm,
            hardware_failure=s.hardware_failure,
            progress=s.progress,
            reasons=reasons,
            cage_lucency=s.cage_lucency,
        )

    def _band(self) -> tuple[TableTrace, ...]:
        traces = []
        for table in self.kb.tables:
            output, row = table.apply(self.env)
            self.env[table.table.output] = output
            value = self.env.get(table.table.input)
            traces.append(TableTrace(table.table.id, table.table.input, value, output, row))
        return tuple(traces)

    def _count(self) -> None:
        for count in self.kb.counts:
            self.env[count.fact.id] = sum(1 for part in count.parts if part.run(self.env) is True)

    def _evaluate(
        self, kind: RuleKind, rules: Sequence[CompiledRule] | None = None
    ) -> list[Conclusion]:
        fired = self.fired[kind]
        for compiled in self.kb.rules[kind] if rules is None else rules:
            outcome = compiled.when.run(self.env)
            if outcome is True:
                conclusion = self.explain.conclusion(compiled)
                fired.append(conclusion)
                self.traces.append(RuleTrace(compiled.rule.id, "fires", conclusion.because))
            elif outcome is None:
                self.unknown.append(compiled)
                self.traces.append(RuleTrace(compiled.rule.id, "unknown"))
            else:
                self.quiet.append(compiled)
        return fired

    def _suspicion(self) -> SuspicionResult:
        reasons = self._evaluate(RuleKind.SUSPICION)
        caps = self._evaluate(RuleKind.SUSPICION_CAP)
        rank = SUSPICION_ORDER.__getitem__
        level = max((c.level or "low" for c in reasons), key=rank, default="low")
        # A cap only counts when it actually lowers the band; the lowest such cap wins.
        limited = [c for c in caps if rank(c.level or "high") < rank(level)]
        level = min((c.level or "high" for c in limited), key=rank, default=level)
        if level == Suspicion.LOW and self._deciding_facts_unknown():
            level = Suspicion.CANNOT_TELL.value
        self.env["result.suspicion"] = level
        message = self.kb.data.messages[f"suspicion.{level}"]
        return SuspicionResult(
            level=Suspicion(level).value,
            phase=self.env.get("derived.phase"),
            months_since_surgery=self.env.get("derived.months_since_surgery"),
            reasons=tuple(reasons),
            limited_by=tuple(limited),
            explanation=message.clinician,
            patient_explanation=message.patient,
            timed_from=self.timed_from,
            timed_from_operation=self.timed_from_operation,
            operations=self.operations,
        )

    def _deciding_facts_unknown(self) -> bool:
        """Time since surgery unknown while a band could still rise, or no core sign answered."""
        env = self.env
        could_rise = any(c.rule.kind is RuleKind.SUSPICION for c in self.unknown)
        if env.get("derived.months_since_surgery") is None and could_rise:
            return True
        core = self.kb.count_members.get("derived.core_signs", ())
        return bool(core) and all(env.get(f) is None for f in core)

    def _triage(
        self, emergency: list[Conclusion], urgent: list[Conclusion], referral: list[Conclusion]
    ) -> TriageResult:
        pending = self.explain.unanswered(self.unknown, self.not_sure)
        if emergency:
            level, key, reasons = Triage.EMERGENCY, "triage.emergency", emergency
        elif urgent:
            level, key, reasons = Triage.URGENT, "triage.urgent", urgent
        elif pending:
            level, key, reasons = Triage.PROMPT_REFERRAL, "triage.pending", referral
        elif referral:
            level, key, reasons = Triage.PROMPT_REFERRAL, "triage.prompt_referral", referral
        else:
            level, key, reasons = Triage.ROUTINE, "triage.routine", []
        message = self.kb.data.messages[key]
        return TriageResult(
            level=level.value,
            headline=self.explain.site_words(message.patient),
            clinician_headline=message.clinician,
            reasons=tuple(reasons),
            unanswered_emergency=pending,
            not_sure=tuple(self.explain.item(f, "answered not sure", ()) for f in self._unsure()),
        )

    def _unsure(self) -> list[str]:
        """The "not sure" answers: the emergency ones first, then those an urgent rule reads
        (a call within 24 hours), then the rest, each group by importance."""
        first = set(self.kb.emergency_unsure)
        urgent = {f for r in self.kb.rules[RuleKind.URGENT] for f in r.when.facts}

        def rank(fact: str) -> tuple[int, int]:
            group = 0 if fact in first else 1 if fact in urgent else 2
            return group, -self.kb.facts[fact].importance

        return sorted(self.not_sure, key=rank)

    def _open_headlines(
        self, triage: TriageResult, suspicion: SuspicionResult, missing: tuple[MissingItem, ...]
    ) -> tuple[TriageResult, SuspicionResult]:
        """A result that rests on open inputs says so in its headline and names them."""
        if triage.level != Triage.ROUTINE and suspicion.level not in _OPEN_BANDS:
            return triage, suspicion
        raise_triage, raise_band = raising_questions(
            self.kb, self.env, triage.level, suspicion.level
        )
        raising = tuple(m for m in missing if m.fact in raise_triage | raise_band)
        if not raising and suspicion.level != Suspicion.CANNOT_TELL:
            return triage, suspicion
        messages = self.kb.data.messages
        if triage.level == Triage.ROUTINE:
            message = messages["triage.routine_open"]
            triage = replace(
                triage,
                headline=message.patient.format(open=self._named(raising, patient=True)),
                clinician_headline=message.clinician.format(
                    open=self._named(raising, patient=False)
                ),
            )
        about = tuple(m for m in raising if m.fact in raise_band)
        if suspicion.level == Suspicion.CANNOT_TELL:
            # Name the facts that decide the band first: time since surgery, then the core signs.
            deciding = self.kb.questions(("derived.months_since_surgery", "derived.core_signs"))
            about = tuple(m for m in missing if m.fact in deciding) or about
        if about and suspicion.level in {Suspicion.LOW, Suspicion.CANNOT_TELL}:
            key = (
                "suspicion.low_open"
                if suspicion.level == Suspicion.LOW
                else "suspicion.cannot_tell"
            )
            message = messages[key]
            suspicion = replace(
                suspicion,
                patient_explanation=message.patient.format(open=self._named(about, patient=True)),
                explanation=message.clinician.format(open=self._named(about, patient=False)),
            )
        triage = replace(triage, depends_on=raising)
        return triage, suspicion

    def _changing(self) -> tuple[MissingItem, ...]:
        """What would change the result: each open input tried with each answer."""
        return what_would_change(
            self.kb,
            self.base_env,
            self.kb.policies[self.site.stimulator_policy],
            {c.rule.id for c in self.unknown},
        )

    def _named(self, items: tuple[MissingItem, ...], *, patient: bool) -> str:
        """The first few open questions by name (a person's own questions first for a patient),
        and how many more are listed with the result."""
        messages, theirs = self.kb.data.messages, 0
        if patient:
            # A person is asked only their own questions (the list below shows only those); what
            # a clinician records is named once, in plain words, not by its clinical label.
            own = tuple(m for m in items if self.kb.facts[m.fact].patient is not None)
            items, theirs = own, len(items) - len(own)
        names = [m.question if patient else m.clinician for m in items[:_HEADLINE_ITEMS]]
        # A question that opens with "¿" (Spanish) keeps its closing "?".
        parts = [n.strip() if n.startswith("¿") else n.rstrip("?. ") for n in names]
        more = len(items) - _HEADLINE_ITEMS
        if more > 0:
            message = messages["open.more"]
            parts.append((message.patient if patient else message.clinician).format(more=more))
        if theirs:
            parts.append(messages["open.care_team"].patient)
        return "; ".join(parts)

    def _stimulator(self) -> Candidacy:
        """Candidacy under the site's policy, shown only where a stimulator is in question."""
        compiled = self.kb.policies[self.site.stimulator_policy]
        policy = compiled.policy
        gate = self._evaluate(RuleKind.STIMULATOR)
        if not gate:
            self.env["result.stimulator_candidate"] = False
            return Candidacy(
                policy.id,
                policy.title,
                False,
                (),
                (),
                in_question=False,
                note=self._not_in_question(),
                not_modelled=policy.not_modelled,
            )
        candidate = compiled.run(self.env)
        self.env["result.stimulator_candidate"] = candidate
        fired = []
        for pathway in compiled.pathways:
            outcome = pathway.run(self.env)
            self.traces.append(RuleTrace(pathway.id, _TRACE[outcome]))
            if outcome is True:
                fired.append(self.explain.pathway(pathway))
        criteria = tuple(
            Criterion(
                f"{p.pathway.title} - {c.criterion.says}",
                OUTCOME[c.when.run(self.env)],
                (c.source,),
                c.criterion.reads,
            )
            for p in compiled.pathways
            for c in p.criteria
        )
        return Candidacy(
            policy.id,
            policy.title,
            candidate,
            tuple(fired),
            criteria,
            not_modelled=policy.not_modelled,
        )

    def _not_in_question(self) -> str:
        unhealed = self.env.get("imaging.fusion_status") in {"nonunion", "not_yet_fused"}
        key = "stimulator.asymptomatic_nonunion" if unhealed else "stimulator.not_in_question"
        return self.kb.data.messages[key].clinician

    def assessment(self) -> Assessment:
        emergency = self._evaluate(RuleKind.EMERGENCY)
        urgent = self._evaluate(RuleKind.URGENT)
        suspicion = self._suspicion()
        concordance = self._evaluate(RuleKind.CONCORDANCE)
        referral = self._evaluate(RuleKind.REFERRAL)
        triage = self._triage(emergency, urgent, referral)
        stimulator = self._stimulator()
        for kind in _LATER_KINDS:
            self._evaluate(kind)
        self.env["result.revision_considered"] = bool(self.fired[RuleKind.REVISION])
        education = self.explain.education()
        recommendations = tuple(c for kind in _LATER_KINDS[1:] for c in self.fired[kind])
        missing = self.explain.missing(self.unknown, self.quiet)
        triage, suspicion = self._open_headlines(triage, suspicion, missing)
        cited = [*emergency, *urgent, *suspicion.reasons, *suspicion.limited_by, *referral]
        cited += [*self.fired[RuleKind.GENERATOR], *recommendations, *concordance]
        cited += stimulator.pathways
        return Assessment(
            label=self.case.label,
            as_of=self.as_of.isoformat(),
            triage=triage,
            suspicion=suspicion,
            pain_generators=tuple(self.fired[RuleKind.GENERATOR]),
            recommendations=recommendations,
            timeline=tuple(e for e in education if e.kind == "timeline"),
            education=tuple(e for e in education if e.kind not in {"timeline", "disclaimer"}),
            missing_information=self._changing(),
            disclaimer=self.kb.education_items[self.kb.disclaimers["patient"]].body,
            provenance=Provenance(
                knowledge_version=self.kb.version,
                as_of=self.as_of.isoformat(),
                rules=tuple(self.traces),
                tables=self.table_traces,
                citations=self.explain.citations(cited, education, _imaging_sources(self.imaging)),
                settings=dict(self.site.named(self.kb.thresholds["motion.angular"])),
            ),
            derived={k: v for k, v in self.env.items() if k.startswith("derived.")},
            follow_up=explained(
                self.trajectories,
                self.scores,
                self.kb.threshold_info,
                self.base_env,
                self.restart,
            ),
            imaging=self.imaging,
            concordance=tuple(concordance),
            stimulator=stimulator,
        )


def _restart(case: Case, last: Done | None, as_of: dt.date) -> Restart | None:
    """Where score months restart: the last operation, when it is a later one with known timing."""
    if last is None or last.kind == "index":
        return None
    index = history(case.surgery, as_of)[0]
    if index.months_ago is None or last.months_ago is None:
        return None
    return Restart(index.months_ago - last.months_ago, last.describe())


def _operation(done: Done, *, undated: bool) -> TimedFrom:
    return TimedFrom(done.kind, done.levels, done.date, done.months_ago, undated)


def _value(value: object) -> Value:
    return value if isinstance(value, bool | float | int | str) else None


def _imaging_sources(imaging: ImagingResult | None) -> tuple[Source, ...]:
    if imaging is None:
        return ()
    reasons = [r for level in imaging.levels for r in level.reasons]
    reasons += [r for level in imaging.adjacent for r in level.reasons]
    return tuple(s for r in reasons for s in r.sources)


def decide_triage(kb: Knowledge, env: dict[str, Any]) -> str:
    """The triage decision alone, over ready facts (used by the benchmark and cohort screening).

    Same rules and precedence as ``assess``: emergency sign, then urgent finding, then unanswered
    emergency question, then referral criterion, else routine. ``env`` must already hold derived
    facts and ``result.suspicion``.
    """
    pending = False
    for compiled in kb.rules[RuleKind.EMERGENCY]:
        outcome = compiled.when.run(env)
        if outcome is True:
            return Triage.EMERGENCY.value
        pending = pending or (outcome is None and asks_screen(kb, compiled, env))
    if any(c.when.run(env) is True for c in kb.rules[RuleKind.URGENT]):
        return Triage.URGENT.value
    if pending:
        return Triage.PROMPT_REFERRAL.value
    for compiled in kb.rules[RuleKind.REFERRAL]:
        if compiled.when.run(env) is True:
            return Triage.PROMPT_REFERRAL.value
    return Triage.ROUTINE.value


def case_facts(case: Case, kb: Knowledge, as_of: dt.date) -> dict[str, Any]:
    """The facts the rules see for a case (inputs, derived values and the suspicion band)."""
    run = _Run(case, kb, as_of)
    run._suspicion()
    return run.env
