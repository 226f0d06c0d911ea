"""The one exception tree of fusionwatch.

    FusionwatchError
    ├── CaseError          the input case is invalid (carries field-level problems)
    ├── KnowledgeError     the knowledge base is inconsistent (refused at load time)
    └── NotFoundError      a record or page that was asked for does not exist (web: 404)

Missing data is never an exception: it is the third truth value, UNKNOWN.
"""

from dataclasses import dataclass


class FusionwatchError(Exception):
    """Base of every error fusionwatch raises on purpose."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with an input: where, and what is allowed."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


class CaseError(FusionwatchError):
    """A case could not be accepted; each problem names the field and what is allowed."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))


class KnowledgeError(FusionwatchError):
    """The knowledge base broke one of the load-time checks."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("knowledge base refused:\n  - " + "\n  - ".join(problems))


class NotFoundError(FusionwatchError):
    """A record or page that was asked for does not exist; ``what`` names its kind, never its key.

    Adapters map only this to "not found": a built-in ``LookupError`` (a ``KeyError`` bug) must
    stay an unexpected error, never a 404 that echoes the key.
    """

    def __init__(self, what: str) -> None:
        self.what = what
        super().__init__(f"no such {what}")
