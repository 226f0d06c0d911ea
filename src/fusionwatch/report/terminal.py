"""Renders an assessment for the terminal with Rich, for a patient or a clinician reader."""

from typing import Literal

from rich.console import Console, Group, RenderableType
from rich.markdown import Markdown
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from fusionwatch.core.derive.trajectory import PATTERN_TEXT, Pattern
from fusionwatch.core.followup import FollowUpResult, SignCheck
from fusionwatch.core.results import (
    Assessment,
    Candidacy,
    Conclusion,
    Criterion,
    ImagingResult,
    MissingItem,
    show_value,
)
from fusionwatch.core.scores import INSTRUMENT_LABEL, Instrument

Audience = Literal["patient", "clinician"]

TRIAGE_STYLE = {
    "emergency": "bold white on red",
    "urgent": "bold white on dark_orange3",
    "prompt_referral": "bold black on yellow",
}
TRIAGE_NAME = {
    "emergency": "EMERGENCY - seek care now",
    "urgent": "URGENT - contact your surgical team today (within 24 hours)",
    "prompt_referral": "PROMPT REFERRAL - specialist review soon",
    "routine": "ROUTINE - next planned follow-up",
}
KIND_TITLE = {
    "next_step": "Next steps to check",
    "risk_factor": "Risk factors",
    "management": "What may help (non-surgical)",
    "revision": "When revision surgery may be discussed",
    "observation": "Observation",
}


def render(console: Console, assessment: Assessment, audience: Audience) -> None:
    """Print the whole explained assessment."""
    for part in _parts(assessment, audience):
        console.print(part)


def render_follow_up(console: Console, assessment: Assessment, audience: Audience) -> None:
    """Print only the scores over time, the time-pattern signs and the next check point."""
    if assessment.follow_up is not None:
        console.print(_follow_up(assessment.follow_up, audience))


def render_triage(console: Console, assessment: Assessment, audience: Audience) -> None:
    """Print only the triage (used when the self-check stops for an emergency)."""
    console.print(_triage(assessment, audience))
    console.print(Panel(Text(assessment.disclaimer), title="Please note", border_style="dim"))


def _parts(a: Assessment, audience: Audience) -> list[RenderableType]:
    parts: list[RenderableType] = [_triage(a, audience), _suspicion(a, audience)]
    if a.imaging is not None:
        parts.append(_imaging(a.imaging, audience))
    if a.concordance:
        parts.append(_conclusions("Imaging and symptoms together", a.concordance, audience))
    if a.stimulator is not None and audience == "clinician":
        parts.append(_stimulator(a.stimulator))
    if a.follow_up is not None:
        parts.append(_follow_up(a.follow_up, audience))
    if a.pain_generators:
        parts.append(_conclusions("Where the pain may come from", a.pain_generators, audience))
    for kind, title in KIND_TITLE.items():
        items = tuple(c for c in a.recommendations if c.kind == kind)
        if items:
            parts.append(_conclusions(title, items, audience))
    if a.missing_information:
        parts.append(_missing("Questions still open (most important first)", a.missing_information))
    if a.timeline:
        parts.append(Panel(Markdown("\n\n".join(t.body for t in a.timeline)), title="Timeline"))
    if a.education:
        parts.append(_education(a))
    parts += [_sources(a), Panel(Text(a.disclaimer), title="Please note", border_style="dim")]
    return parts


def _triage(a: Assessment, audience: Audience) -> Panel:
    t = a.triage
    body: list[RenderableType] = [
        Text(t.headline if audience == "patient" else t.clinician_headline)
    ]
    if t.unanswered_emergency:
        body.append(_missing("Answer these emergency questions first", t.unanswered_emergency))
    if t.not_sure:
        body.append(_missing("Answered 'not sure'", t.not_sure))
    for reason in t.reasons:
        body.append(_line(reason, audience))
    title = Text(TRIAGE_NAME[t.level], style=TRIAGE_STYLE.get(t.level, "bold green"))
    label = f"{a.label or 'case'} - as of {a.as_of} - knowledge {a.provenance.knowledge_version}"
    return Panel(Group(*body), title=title, subtitle=label)


def _suspicion(a: Assessment, audience: Audience) -> Panel:
    s = a.suspicion
    months = "unknown" if s.months_since_surgery is None else f"{s.months_since_surgery:g}"
    head = Text.assemble(
        ("Nonunion suspicion: ", "bold"),
        (s.level.replace("_", " ").upper(), "bold"),
        f"   (months since fusion: {months}; phase: {s.phase or 'unknown'})",
    )
    body: list[RenderableType] = [
        head,
        Text(
            s.patient_explanation
            if audience == "patient" and s.patient_explanation
            else s.explanation
        ),
    ]
    if s.timed_from:
        body.append(Text(s.timed_from, style="dim"))
    body += [_line(c, audience) for c in s.reasons]
    body += [_line(c, audience, prefix="limited by: ") for c in s.limited_by]
    return Panel(Group(*body), title="How likely a nonunion is")


STATUS_NAME = {
    "fused": "fused",
    "not_yet_fused": "not yet fused (too early to call)",
    "indeterminate": "indeterminate",
    "nonunion": "nonunion",
}
OUTCOME_MARK = {"met": "[green]met[/green]", "unmet": "[red]unmet[/red]", "unknown": "unknown"}


def _imaging(imaging: ImagingResult, audience: Audience) -> Panel:
    table = Table(expand=True, show_lines=True)
    table.add_column("level", no_wrap=True)
    table.add_column("status", no_wrap=True)
    table.add_column("why")
    for level in imaging.levels:
        when = "" if level.months_after_fusion is None else f" at {level.months_after_fusion:g} m"
        reasons = "\n".join(_reason(r, audience) for r in level.reasons)
        table.add_row(
            level.level, f"{STATUS_NAME[level.status]}\n({level.decided_by}{when})", reasons
        )
    body: list[RenderableType] = [table, Text(imaging.cutoff_note, style="dim")]
    if imaging.not_imaged:
        missing = ", ".join(imaging.not_imaged)
        body.append(Text(f"No study reports the fused level(s) {missing}.", style="yellow"))
    for fact in imaging.summary:
        if fact.conflict:
            body.append(
                Text(
                    f"{fact.fact}: the case says {show_value(fact.given)}, the levels say "
                    f"{show_value(fact.derived)}; the answer given in the case was used.",
                    style="bold yellow",
                )
            )
    if imaging.adjacent:
        body.append(_adjacent(imaging, audience))
    return Panel(Group(*body), title="Fusion level by level")


def _adjacent(imaging: ImagingResult, audience: Audience) -> Table:
    """Segments next to the fusion: their own conclusion, apart from the fusion status."""
    table = Table(title="Next to the fusion (not part of the fusion status)", expand=True)
    table.add_column("level", no_wrap=True)
    table.add_column("finding")
    table.add_column("why")
    for level in imaging.adjacent:
        reasons = "\n".join(_reason(r, audience) for r in level.reasons)
        table.add_row(f"{level.level}\n({level.position})", escape(level.conclusion), reasons)
    return table


def _reason(criterion: Criterion, audience: Audience) -> str:
    if audience == "patient":
        return escape(f"• {criterion.text}")
    cites = "; ".join(s.cite for s in criterion.sources)
    return escape(f"• {criterion.text} [{cites}]")


def _stimulator(candidacy: Candidacy) -> Panel:
    verdict = {True: "candidate", False: "not a candidate", None: "undecided (answers missing)"}
    head = Text.assemble(
        ("Policy: ", "bold"), candidacy.title, ("   Result: ", "bold"), verdict[candidacy.candidate]
    )
    table = Table(expand=True)
    table.add_column("criterion")
    table.add_column("outcome", no_wrap=True)
    for criterion in candidacy.criteria:
        table.add_row(escape(criterion.text), OUTCOME_MARK[criterion.outcome])
    return Panel(Group(head, table), title="Bone-stimulator candidacy")


def _line(c: Conclusion, audience: Audience, prefix: str = "") -> Text:
    text = c.patient if audience == "patient" else c.clinician
    because = ", ".join(
        f"{f.label} = {show_value(f.value)}" for f in c.because if f.value is not None
    )
    line = Text.assemble(("• " + prefix, "bold"), (c.summary, "bold"), "\n  ", text)
    if c.target:
        line.append(f"\n  Target: {c.target}", style="green")
    if audience == "clinician" and because:
        line.append(f"\n  because: {because}", style="dim")
    sources = "; ".join(f"{s.cite} ({s.locator})" for s in c.sources)
    line.append(f"\n  [{c.rule}] sources: {sources}", style="dim")
    return line


def _conclusions(title: str, items: tuple[Conclusion, ...], audience: Audience) -> Panel:
    return Panel(Group(*(_line(c, audience) for c in items)), title=title)


def _missing(title: str, items: tuple[MissingItem, ...]) -> Table:
    table = Table(title=title, show_lines=False, expand=True)
    table.add_column("question")
    table.add_column("could change", style="magenta", no_wrap=True)
    for item in items:
        table.add_row(item.question, item.stakes)
    return table


def _education(a: Assessment) -> Panel:
    body = "\n\n".join(f"**{e.title}**\n\n{e.body}" for e in a.education)
    return Panel(Markdown(body), title="Good to know")


def _sources(a: Assessment) -> Panel:
    table = Table(show_header=True, expand=True)
    table.add_column("id", no_wrap=True)
    table.add_column("source")
    table.add_column("where")
    for s in a.provenance.citations:
        table.add_row(s.cite, s.title, s.locator)
    return Panel(table, title="Sources behind this result")


def _follow_up(f: FollowUpResult, audience: Audience) -> Panel:
    """Scores over time with their patterns, the two time-pattern signs, and the next check."""
    body: list[RenderableType] = []
    if f.trajectories:
        table = Table(expand=True)
        for column in ("score", "start", "best", "latest", "pattern"):
            table.add_column(column)
        for t in f.trajectories:
            table.add_row(
                INSTRUMENT_LABEL[Instrument(t.instrument)],
                _point(t.reference),
                _point(t.best),
                _point(t.latest),
                PATTERN_TEXT[Pattern(t.pattern)],
            )
        body.append(table)
        if audience == "clinician":
            body += [Text(line, style="dim") for line in f.summaries]
            body += [Text.assemble((f"{c.label}: ", "bold"), c.note) for c in f.signs]
        else:
            body += [Text.assemble((f"{c.label}: ", "bold"), _plain(c)) for c in f.signs]
    upcoming = [m for m in f.milestones if m.status == "next"]
    for m in upcoming:
        line = Text.assemble(("Next check: ", "bold"), f"{m.name} after surgery - {m.purpose}")
        if audience == "clinician":
            line.append(f" [{m.source}]", style="dim")
        body.append(line)
    if not body:
        body.append(Text("No follow-up scores; the surgery date is needed for check points."))
    return Panel(Group(*body), title="Recovery over time")


def _plain(c: SignCheck) -> str:
    """The sign check in patient words: what the scores show and what counts."""
    if c.scores and c.answer is False:
        return (
            "your scores show this, although you answered no. It counts as a warning sign;"
            " please go through it with your care team."
        )
    if c.scores:
        return (
            "your scores show this, so it counts as a warning sign."
            " Please mention it at your next visit."
        )
    if c.answer and c.scores is False:
        return "you answered yes; your scores do not show it. Your answer still counts."
    return (
        "your scores do not show this." if c.scores is False else "not enough scores to tell yet."
    )


def _point(p: object) -> str:
    month, value = getattr(p, "month", None), getattr(p, "value", None)
    if month is None or value is None:
        return "-"
    when = "before surgery" if getattr(p, "baseline", False) else f"month {month:g}"
    return f"{value:g} ({when})"
