"""Names things for one reader: conclusions, findings, answers, levels and sources, in words."""

from collections.abc import Iterable, Mapping
from typing import Any

from fusionwatch.core.knowledge import SOURCE_LANGUAGE
from fusionwatch.core.results import Conclusion, Finding, ImagingResult, MissingItem, Source
from fusionwatch.knowledge.labels import Audience, Catalogue
from fusionwatch.report.parts import Grid, Item

# Answers a person gives that are not single values (lists of studies, score visits).
_STRUCTURED = ("imaging.studies", "follow_up")
# The emergency questions, summed up in one row when they were all answered.
_EMERGENCY = "emergency."


class Words:
    """One reader's wording, with the report's source numbering."""

    def __init__(self, catalogue: Catalogue, audience: Audience, numbers: Mapping[str, int]):
        self.catalogue, self.audience, self.numbers = catalogue, audience, numbers
        # A stimulator rule's target names the policy it belongs to; the report names the policy.
        self._policies = set(catalogue.kb.policies)

    def heading(self, key: str) -> str:
        return self.catalogue.heading(key, self.audience)

    def phrase(self, key: str) -> str:
        return self.catalogue.phrase(key, self.audience)

    def sources(self, sources: Iterable[Source]) -> tuple[int, ...]:
        return tuple(sorted({self.numbers[s.cite] for s in sources if s.cite in self.numbers}))

    def source_titles(self, order: Iterable[int]) -> list[str]:
        """'n. title' for each source the report cites, numbered once in order of first use."""
        by_number = {n: cite for cite, n in self.numbers.items()}
        titles = {c.id: c.title for c in self.catalogue.kb.data.citations}
        return [f"{new}. {titles[by_number[old]]}" for new, old in enumerate(order, start=1)]

    def item(self, c: Conclusion, *, findings: bool = True, prefix: str = "") -> Item:
        """A conclusion in the reader's words, with the answers it rests on."""
        patient = self.audience == "patient"
        text = c.patient if patient else c.clinician
        extra = self.target(c)
        return Item(
            text=f"{prefix}{text}{extra}",
            detail=self.because(c.because) if findings else "",
            sources=self.sources(c.sources),
            title="" if patient else c.summary,
        )

    def short(self, c: Conclusion, prefix: str = "") -> Item:
        """A conclusion in one line (the clinician note's plan)."""
        return Item(text=f"{prefix}{c.summary}{self.target(c)}", sources=self.sources(c.sources))

    def target(self, c: Conclusion) -> str:
        if not c.target or c.target in self._policies:
            return ""
        return f" {self.phrase('goal')} {c.target}"

    def because(self, findings: Iterable[Finding]) -> str:
        shown = [f for f in findings if f.value is not None]
        if self.audience == "patient":
            shown = [f for f in shown if not f.fact.startswith(("derived.", "result."))]
        if self.audience == "patient" and self.catalogue.language != SOURCE_LANGUAGE:
            # "Based on your answers" names the person's own questions: in another language,
            # a finding a clinician recorded (it has only an English label) is left out.
            shown = [f for f in shown if self.catalogue.patient_question(f.fact)]
        if not shown:
            return ""
        return f"{self.phrase('based_on')} " + "; ".join(self.finding(f) for f in shown)

    def finding(self, f: Finding) -> str:
        name = self._name(f.fact, f.label)
        return f"{name}: {self.catalogue.value(f.fact, f.value, self.audience)}"

    def _name(self, fact_id: str, label: str) -> str:
        fact = self.catalogue.kb.facts.get(fact_id)
        if fact is None:
            return label
        if self.audience == "patient" and fact.patient:
            # A question opened with "¿" (Spanish) keeps its closing "?".
            return fact.patient if "¿" in fact.patient else fact.patient.rstrip("?.")
        return _plain_label(fact.clinician)

    def fact_line(self, fact_id: str, value: Any, known: Mapping[str, Any] | None = None) -> str:
        """'Label: value'; a number whose unit is an answer of its own reads with that unit."""
        if isinstance(value, tuple | list):
            value = ", ".join(str(v) for v in value)
            return f"{_plain_label(self.catalogue.fact(fact_id, self.audience))}: {value}"
        name = _plain_label(self.catalogue.fact(fact_id, self.audience))
        unit = (known or {}).get(f"{fact_id}_unit")
        if isinstance(value, int | float) and not isinstance(value, bool) and unit is not None:
            named = self.catalogue.value(f"{fact_id}_unit", unit, self.audience)
            return f"{name}: {self.catalogue.number(value)} {named}"
        return f"{name}: {self.catalogue.value(fact_id, value, self.audience)}"

    def missing(self, m: MissingItem) -> str:
        return self.catalogue.question(m.fact, self.audience)

    def stakes(self, m: MissingItem) -> str:
        named = self.catalogue.named("stakes", m.stakes, self.audience)
        return f"{self.phrase('could_change')}: {named}"

    def answer_rows(self, known: Mapping[str, Any]) -> list[tuple[str, str]]:
        """The person's answers in short: each answered question once; the emergency questions
        in one row when every one was answered no."""
        rows: list[tuple[str, str]] = []
        emergency = {k: v for k, v in known.items() if k.startswith(_EMERGENCY)}
        all_no = bool(emergency) and all(v is False for v in emergency.values())
        if all_no:
            rows.append((self.heading("emergency_answers"), self.phrase("all_no")))
        for fact in self.catalogue.kb.data.facts:
            value = known.get(fact.id)
            if value is None or fact.id in _STRUCTURED or not fact.patient:
                continue
            if all_no and fact.id.startswith(_EMERGENCY):
                continue
            if isinstance(value, tuple | list):
                rows.append((_question(fact.patient), ", ".join(str(v) for v in value)))
            else:
                rows.append((_question(fact.patient), self._answer(fact.id, value, known)))
        return rows

    def _answer(self, fact_id: str, value: Any, known: Mapping[str, Any]) -> str:
        """One answer in words. A number whose unit the person gave in a question of its own
        (``infection.temperature_unit``) reads with that unit: '38,5 °C (Celsius)'."""
        unit = known.get(f"{fact_id}_unit")
        if isinstance(value, int | float) and not isinstance(value, bool) and unit is not None:
            named = self.catalogue.value(f"{fact_id}_unit", unit, "patient")
            return f"{self.catalogue.number(value)} {named}"
        return self.catalogue.value(fact_id, value, "patient")

    def number(self, value: float) -> str:
        return self.catalogue.number(value)

    def level_grid(self, im: ImagingResult) -> Grid:
        """One row per level: status, the study that decided it and the measured motion."""
        cat, who = self.catalogue, self.audience
        columns = (self.phrase("level"), self.phrase("status"), self.phrase("study"))
        rows = []
        for lv in im.levels:
            study = cat.named("modalities", lv.decided_by, who)
            if lv.months_after_fusion is not None:
                months = self.number(round(lv.months_after_fusion, 1))
                study += f", {months} {self.phrase('months')}"
            rows.append((lv.level, cat.named("level_status", lv.status, who), study + _motion(lv)))
        for adj in im.adjacent:
            position = self.phrase(adj.position) if adj.position in ("above", "below") else ""
            rows.append(
                (f"{adj.level} {position}".strip(), self.phrase("adjacent"), adj.conclusion)
            )
        return Grid(columns, tuple(rows))


def _motion(lv: Any) -> str:
    parts = []
    if lv.angle_deg is not None:
        parts.append(f"{lv.angle_deg:g}°")
    if lv.translation_mm is not None:
        parts.append(f"{lv.translation_mm:g} mm")
    if lv.interspinous_mm is not None:
        parts.append(f"interspinous {lv.interspinous_mm:g} mm")
    if lv.hardware_failure:
        parts.append("hardware failure")
    if lv.cage_lucency:
        parts.append("lucency around the cage")
    return f" ({', '.join(parts)})" if parts else ""


def _plain_label(label: str) -> str:
    """'Sign 1 - mechanical pain worse with load' reads as 'Mechanical pain worse with load'."""
    head, sep, tail = label.partition(" - ")
    if sep and head.lower().startswith("sign "):
        return tail[:1].upper() + tail[1:]
    return label


def _question(text: str) -> str:
    return text.strip()
