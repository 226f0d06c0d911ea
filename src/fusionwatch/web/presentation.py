"""How an assessment is laid out on a page: names, colours and groupings for the templates."""

from typing import Any

from markdown_it import MarkdownIt
from markupsafe import Markup

# Education texts are Markdown written by us; raw HTML in them is still refused.
_MARKDOWN = MarkdownIt("commonmark", {"html": False})

TRIAGE = {
    "emergency": {
        "css": "emergency",
        "patient": "Get emergency care now",
        "clinician": "Emergency",
    },
    "urgent": {
        "css": "urgent",
        "patient": "Contact your surgical team today",
        "clinician": "Urgent (same day, within 24 hours)",
    },
    "prompt_referral": {
        "css": "prompt",
        "patient": "See a spine specialist soon",
        "clinician": "Prompt referral",
    },
    "routine": {
        "css": "routine",
        "patient": "Keep your planned check-ups",
        "clinician": "Routine",
    },
}
SUSPICION = {
    "low": "Low",
    "cannot_tell": "Cannot tell yet",
    "moderate": "Moderate",
    "high": "High",
}
KINDS = (
    ("next_step", "What your care team may check next", "Next steps"),
    ("management", "What could help without surgery", "Non-surgical management"),
    ("risk_factor", "Things that affect bone healing", "Risk factors"),
    ("revision", "When surgery is sometimes discussed", "Revision criteria"),
    ("observation", "Watching and waiting", "Observation"),
)


def by_kind(result: dict[str, Any], audience: str) -> list[tuple[str, list[dict[str, Any]]]]:
    """Recommendations grouped under a heading for the reader, in a fixed order."""
    column = 1 if audience == "patient" else 2
    groups = []
    for kind, *titles in KINDS:
        items = [c for c in result["recommendations"] if c["kind"] == kind]
        if items:
            groups.append((titles[column - 1], items))
    return groups


def education(result: dict[str, Any], *kinds: str) -> list[dict[str, Any]]:
    return [e for e in result["education"] if e["kind"] in kinds]


def references(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Each cited source once, in order of first use (a source may be cited at many places)."""
    seen: dict[str, dict[str, Any]] = {}
    for s in result["provenance"]["citations"]:
        seen.setdefault(s["cite"], s)
    return list(seen.values())


def reference_numbers(result: dict[str, Any]) -> dict[str, int]:
    """Each cited source's number in the reference list (1-based)."""
    return {s["cite"]: n for n, s in enumerate(references(result), start=1)}


def markdown(text: str) -> Markup:
    return Markup(_MARKDOWN.render(text))  # noqa: S704 - html is off, so the output is escaped


def source_numbers(sources: list[dict[str, Any]], refs: dict[str, int]) -> list[int]:
    return sorted({refs[s["cite"]] for s in sources})


def derived_fact(fact: str) -> bool:
    """A value the engine worked out, not something the person answered."""
    return fact.startswith(("derived.", "result."))


def shown(value: Any) -> str:
    if value is None:
        return "unknown"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value).replace("_", " ")


def template_names() -> dict[str, Any]:
    """Names every template may use, whether rendered as a page or as a PDF (Jinja globals)."""
    return {
        "TRIAGE": TRIAGE,
        "SUSPICION": SUSPICION,
        "by_kind": by_kind,
        "education": education,
        "shown": shown,
        "reference_numbers": reference_numbers,
        "references": references,
        "source_numbers": source_numbers,
        "markdown": markdown,
    }
