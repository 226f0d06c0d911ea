"""CT grading scales and bridging answers: what each says for or against bony bridging.

Only scales whose grade text is in the evidence brief are used (section 6): Bridwell I-IV, the
modified Brantigan-Steffee categories and the Mayfield CT scale.
"""

from fusionwatch.core.imaging import Brantigan, Bridwell, LevelFindings, Mayfield
from fusionwatch.core.vocab import Answer

CT = "fine-cut CT with multiplanar views recommended"
FACET = "lack of facet fusion more suggestive than absent posterolateral bone"

# Higher is more bridged; used to see progress between serial studies on the same scale.
BRIDWELL_SCORE = {Bridwell.I: 4, Bridwell.II: 3, Bridwell.III: 2, Bridwell.IV: 1}
MAYFIELD_SCORE = {Mayfield.I: 5, Mayfield.II: 4, Mayfield.III: 3, Mayfield.IV: 2, Mayfield.V: 1}
BRANTIGAN_SCORE = {grade: 6 - i for i, grade in enumerate(Brantigan)}
_BRIDGED_BRANTIGAN = {Brantigan.BRIDGED_AT_SURGICAL_DENSITY, Brantigan.BRIDGED_AT_LEAST_HALF}

Signs = list[tuple[str, str, str]]


def score(f: LevelFindings) -> tuple[str, int] | None:
    """The scale used and the level's rank on it (None when nothing was graded)."""
    if f.bridwell is not None:
        return "bridwell", BRIDWELL_SCORE[f.bridwell]
    if f.mayfield is not None:
        return "mayfield", MAYFIELD_SCORE[f.mayfield]
    if f.brantigan is not None:
        return "brantigan", BRANTIGAN_SCORE[f.brantigan]
    answers = (f.interbody_bridging, f.posterolateral_bridging, f.facet_bridging)
    if all(a.truth is None for a in answers):
        return None
    return "bridging", sum(a is Answer.YES for a in answers)


def bridging_signs(f: LevelFindings) -> tuple[Signs, Signs]:
    """Signs for and against bony bridging on one CT, each with its source."""
    pro: Signs = []
    con: Signs = []
    if f.bridwell is not None:
        side = pro if f.bridwell in {Bridwell.I, Bridwell.II} else con
        side.append((f"Bridwell grade {f.bridwell.value}", "bridwell_scale", "grades I-IV"))
    if f.brantigan is not None:
        side = pro if f.brantigan in _BRIDGED_BRANTIGAN else con
        side.append(
            (f"modified Brantigan-Steffee: {f.brantigan.value}", "brantigan_scale", "7 steps")
        )
    if f.mayfield is not None:
        side = pro if f.mayfield in {Mayfield.I, Mayfield.II} else con
        side.append((f"Mayfield CT grade {f.mayfield.value}", "mayfield_scale", "grades I-V"))
    if f.interbody_bridging is Answer.YES or f.facet_bridging is Answer.YES:
        pro.append(("continuous bridging bone on CT", "duits2024", "continuity of bony bridging"))
    elif f.posterolateral_bridging is Answer.YES and f.facet_bridging is not Answer.NO:
        pro.append(("posterolateral bridging bone on CT", "choudhri2014", FACET))
    answers = (f.interbody_bridging, f.posterolateral_bridging, f.facet_bridging)
    given = [a for a in answers if a.truth is not None]
    if f.facet_bridging is Answer.NO or (given and all(a is Answer.NO for a in given)):
        con.append(("no bridging bone where it was sought", "choudhri2014", FACET))
    if f.cage_lucency is Answer.YES:
        con.append(("lucency around the cage", "duits2024", "radiolucency around the cage"))
    return pro, con
