"""Bone-stimulator candidacy under the site's coverage policy (knowledge/policies), in SQL.

As ``core.engine._Run._stimulator``: the policy is judged only when a stimulator gate rule puts a
stimulator in question (otherwise the episode is not a candidate); a pathway holds when every
criterion holds (Kleene AND), and the episode is a candidate when any pathway holds, not one when
none can, unknown otherwise (Kleene OR). A pathway that holds is listed among the fired ids as
``policy:pathway``, as the engine's provenance lists it.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass

from fusionwatch.core.compiled import CompiledPathway, Knowledge
from fusionwatch.core.site import Site
from fusionwatch.screen.compiler import ConditionCompiler


@dataclass(frozen=True, slots=True)
class Pathway:
    """One pathway of the site's policy: its id as the engine traces it, and its column."""

    compiled: CompiledPathway

    @property
    def id(self) -> str:
        return self.compiled.id

    @property
    def column(self) -> str:
        return "path__" + re.sub(r"[^a-z0-9_]", "_", self.id.replace(":", "__"))

    def sql(self, compiler: ConditionCompiler) -> str:
        parts = [compiler.sql(c.criterion.when) for c in self.compiled.criteria]
        return "(" + " AND ".join(parts) + ")"


def pathways(kb: Knowledge, site: Site) -> tuple[Pathway, ...]:
    """The pathways of the site's policy, in the policy's order."""
    return tuple(Pathway(p) for p in kb.policies[site.stimulator_policy].pathways)


def candidate_sql(in_question: str, found: Sequence[Pathway]) -> str:
    """``result.stimulator_candidate``: FALSE out of question, else any pathway (three-valued)."""
    if not found:
        return "FALSE"
    held = " OR ".join(f"{p.column} IS TRUE" for p in found)
    open_ = " OR ".join(f"{p.column} IS NULL" for p in found)
    return (
        f"(CASE WHEN NOT {in_question} THEN FALSE WHEN {held} THEN TRUE"
        f" WHEN {open_} THEN NULL ELSE FALSE END)"
    )
