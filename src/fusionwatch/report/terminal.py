"""Lays a report view out for the terminal with Rich: the answer in a panel, then the sections."""

from rich.console import Console, Group, RenderableType
from rich.markdown import Markdown
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from fusionwatch.report.parts import Grid, Item, Section
from fusionwatch.report.view import Report

STYLE = {
    "emergency": "bold white on red",
    "urgent": "bold white on dark_orange3",
    "prompt_referral": "bold black on yellow",
}


def render(console: Console, report: Report, *, appendix: bool = True) -> None:
    """Print the report: answer, summary, then (unless left out) the detail and the sources."""
    console.print(answer(report))
    if report.clinician_line:
        # In English on purpose: whoever reads the patient's language, the clinician can act.
        # One line, left to the terminal to wrap, so that it can be copied (and told apart) whole.
        console.print(Text(report.clinician_line, style="italic"), soft_wrap=True)
    for section in report.summary:
        console.print(_section(section))
    if appendix and report.detail:
        console.rule(f"[bold]{escape(report.detail_heading)}")
        for section in report.detail:
            console.print(_section(section))
    if report.sources:
        lines = "\n".join(escape(s) for s in report.sources)
        console.print(Panel(lines, title=escape(report.sources_heading), border_style="dim"))
    console.print(Panel(Text(report.disclaimer), border_style="dim"))


def render_section(console: Console, report: Report, key: str) -> None:
    """Print one section of the report, wherever it sits (e.g. 'follow_up' for `track`)."""
    for section in (*report.summary, *report.detail):
        if section.key == key:
            console.print(_section(section))


def answer(report: Report) -> Panel:
    a = report.answer
    body: list[RenderableType] = [
        Text.assemble((f"{a.when_label}: ", "bold"), a.when),
        Text(a.headline),
    ]
    if a.unanswered:
        body.append(Text(f"{a.unanswered_heading}:", style="bold"))
        body += [Text(f"  • {q}") for q in a.unanswered]
    if a.not_sure:
        body.append(Text(f"{a.not_sure_heading}:", style="bold"))
        body += [Text(f"  • {q}") for q in a.not_sure]
    body += [_item(i) for i in a.reasons]
    # Capitals: the disposition must stand out on a terminal without colour too.
    # Who and when, as the last line (a panel's subtitle is cut to the width of the border).
    body.append(Text(f"{report.title} · {report.facts_line}", style="dim"))
    title = Text(a.title.upper(), style=STYLE.get(a.level, "bold green"))
    return Panel(Group(*body), title=title)


def _section(section: Section) -> Panel:
    body: list[RenderableType] = [Text(p) for p in section.lead]
    if section.grid is not None:
        body.append(_grid(section.grid))
    if section.markdown:
        body += [Markdown(f"**{i.title}**\n\n{i.text}") for i in section.items]
    else:
        body += [_item(i) for i in section.items]
    if section.folded:
        body.append(Text(f"{section.folded_heading}:", style="bold dim"))
        body += [_item(i, style="dim") for i in section.folded]
    return Panel(Group(*body), title=escape(section.heading), title_align="left")


def _item(i: Item, style: str = "") -> Text:
    line = Text("• ", style="bold")
    if i.title:
        line.append(i.title, style="bold")
        line.append("\n  ")
    line.append(i.text, style=style)
    if i.sources:
        line.append(f" [{', '.join(str(n) for n in i.sources)}]", style="dim")
    if i.detail:
        line.append(f"\n  {i.detail}", style="dim")
    return line


def _grid(grid: Grid) -> Table:
    table = Table(expand=True, show_lines=False)
    for column in grid.columns:
        table.add_column(escape(column))
    for row in grid.rows:
        table.add_row(*(escape(cell) for cell in row))
    return table
