"""Lays a report view out as HTML: the macros the web pages use, and whole documents for PDFs."""

from functools import cache
from importlib import resources

from jinja2 import Environment, PackageLoader, select_autoescape
from markdown_it import MarkdownIt
from markupsafe import Markup

from fusionwatch.report.view import Report

# Education texts are Markdown written by us; raw HTML in them is still refused.
_MARKDOWN = MarkdownIt("commonmark", {"html": False})
# The PDF's stylesheet is package data, read from disk: a report never fetches anything.
STATIC_ROOT = str(resources.files("fusionwatch.report") / "static") + "/"


def markdown(text: str) -> Markup:
    return Markup(_MARKDOWN.render(text))  # noqa: S704 - html is off, so the output is escaped


def loader() -> PackageLoader:
    """The report's templates, for an application that lays reports out inside its own pages."""
    return PackageLoader("fusionwatch.report", "templates")


@cache
def environment() -> Environment:
    env = Environment(
        loader=loader(),
        autoescape=select_autoescape(default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["markdown"] = markdown
    return env


def document(report: Report, *, appendix: bool = True, subtitle: str = "") -> str:
    """A whole HTML document of the report, laid out for paper (the summary first, then the
    appendix on a new page)."""
    template = environment().get_template("document.html")
    return template.render(report=report, appendix=appendix, subtitle=subtitle)
