"""Lays a report view out as Markdown: the answer, the summary, then the detail as an appendix."""

from fusionwatch.report.parts import Grid, Item, Section
from fusionwatch.report.view import Report


def render(report: Report, *, appendix: bool = True) -> str:
    """The whole report as Markdown text; ``appendix=False`` leaves the detail out."""
    lines = [f"# {report.title}", "", f"_{report.facts_line}_", ""]
    lines += _answer(report)
    for section in report.summary:
        lines += _section(section, level=2)
    if appendix and report.detail:
        lines += [f"## {report.detail_heading}", ""]
        for section in report.detail:
            lines += _section(section, level=3)
    if report.sources:
        lines += [f"## {report.sources_heading}", "", *(f"{s}  " for s in report.sources), ""]
    lines += ["---", "", f"_{_escape(report.disclaimer)}_", ""]
    return "\n".join(lines)


def _answer(report: Report) -> list[str]:
    a = report.answer
    lines = [f"## {_escape(a.title)}", "", f"**{a.when_label}:** {_escape(a.when)}", ""]
    lines += [_escape(a.headline), ""]
    if a.unanswered:
        lines += [
            f"**{a.unanswered_heading}:**",
            "",
            *(f"- {_escape(q)}" for q in a.unanswered),
            "",
        ]
    if a.not_sure:
        lines += [f"**{a.not_sure_heading}:**", "", *(f"- {_escape(q)}" for q in a.not_sure), ""]
    if a.reasons:
        lines += [*(_item(i) for i in a.reasons), ""]
    return lines


def _section(section: Section, level: int) -> list[str]:
    lines = [f"{'#' * level} {_escape(section.heading)}", ""]
    for text in section.lead:
        lines += [_escape(text), ""]
    if section.grid is not None:
        lines += [*_grid(section.grid), ""]
    if section.items:
        if section.markdown:
            # Education texts are Markdown written by us: they go in as they are.
            for i in section.items:
                lines += [f"**{_escape(i.title)}**", "", i.text, ""]
        else:
            lines += [*(_item(i) for i in section.items), ""]
    if section.folded:
        lines += [f"_{_escape(section.folded_heading)}:_", ""]
        lines += [*(_item(i) for i in section.folded), ""]
    return lines


def _item(i: Item) -> str:
    head = f"**{_escape(i.title)}** " if i.title else ""
    refs = f" [{', '.join(str(n) for n in i.sources)}]" if i.sources else ""
    text = f"- {head}{_escape(i.text)}{refs}"
    if i.detail:
        text += f"  \n  {_escape(i.detail)}"
    return text


def _grid(grid: Grid) -> list[str]:
    head = "| " + " | ".join(_cell(c) for c in grid.columns) + " |"
    rule = "|" + "|".join("---" for _ in grid.columns) + "|"
    rows = ["| " + " | ".join(_cell(c) for c in row) + " |" for row in grid.rows]
    return [head, rule, *rows]


def _cell(text: str) -> str:
    return _escape(text).replace("|", "\\|").replace("\n", " ")


def _escape(text: str) -> str:
    """Words from the knowledge base are plain text; keep Markdown from reading them as markup."""
    for char in ("\\", "*", "_", "`", "<", ">"):
        text = text.replace(char, "\\" + char)
    return text
