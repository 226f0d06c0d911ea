"""The building blocks of a report view: items, small tables and sections."""

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Item:
    """One line a reader reads: the text, an optional detail line, and its source numbers."""

    text: str
    detail: str = ""
    sources: tuple[int, ...] = ()
    title: str = ""


@dataclass(frozen=True, slots=True)
class Grid:
    """A small table: column headings and rows of words."""

    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True, slots=True)
class Section:
    """A heading with lead paragraphs, items, an optional grid, and items folded under a summary."""

    key: str
    heading: str
    lead: tuple[str, ...] = ()
    items: tuple[Item, ...] = ()
    grid: Grid | None = None
    folded_heading: str = ""
    folded: tuple[Item, ...] = ()
    markdown: bool = False
