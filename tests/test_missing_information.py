"""Missing information, checked by brute force: listed items change the result, others do not.

On generated cases, every open input is answered every possible way (each choice, yes and no, a
grid over a number's range plus the values either side of each threshold) and the case is assessed
again in full. An item in ``missing_information`` must change the triage, the suspicion band or a
recommendation, in the way it states; an open input left out must change none of them (a follow-up
question whose parent is not answered yet is left out on purpose and skipped here).
"""

import random
import re
from collections.abc import Iterator
from typing import Any

import pytest

from fusionwatch.core import engine
from fusionwatch.core.case import Case
from fusionwatch.core.compiled import Knowledge
from fusionwatch.core.engine import assess, case_facts
from fusionwatch.core.knowledge import Compare, FactType, Known
from fusionwatch.core.logic import leaves
from fusionwatch.core.results import Assessment
from fusionwatch.core.vocab import Answer
from fusionwatch.files.case import parse_data
from fusionwatch.intake.questionnaire import other_questions, should_ask
from fusionwatch.knowledge import load_labels
from tests.conftest import AS_OF

SCHEMA = Case.model_json_schema()
SKIPPED = {"surgery.date", "surgery.months_since", "surgery.levels", "imaging.studies"}
SKIPPED |= {"follow_up", "risk.nicotine_quit_date", "label", "surgery.operations"}
SKIPPED |= {"infection.temperature", "infection.temperature_unit"}
LEVELS = (["L4-L5"], ["L5-S1"], ["L4-S1"], ["L3-S1"], ["L2-S1"])

Outcome = tuple[str, str, frozenset[str]]


def _field(fact: str) -> dict[str, Any]:
    section, name = fact.rsplit(".", 1)
    model = SCHEMA["$defs"]
    title = {"surgery": "Surgery", "person": "Person", "signs": "Signs", "pain": "Pain"}
    title |= {"emergency": "Emergency", "exam": "Exam", "risk": "Risk", "care": "Care"}
    title |= {"imaging": "Imaging", "pain.clues": "Clues", "infection": "Infection"}
    prop: dict[str, Any] = model[title[section]]["properties"][name]
    return next((p for p in prop.get("anyOf", [prop]) if p.get("type") != "null"), prop)


def _domain(kb: Knowledge, fact: str) -> list[object]:
    """Every answer an input can take (numbers: a grid plus each threshold's sides)."""
    definition = kb.facts[fact]
    if definition.type is FactType.ANSWER:
        return ["yes", "no"]
    field = _field(fact)
    if "$ref" in field:
        enum = SCHEMA["$defs"][field["$ref"].rsplit("/", 1)[1]]["enum"]
        return [v for v in enum if v not in {"unknown", "not_examined"}]
    if definition.type is FactType.NUMBER:
        low, high = field["minimum"], field["maximum"]
        grid = {low + (high - low) * i / 12 for i in range(13)}
        for t in _thresholds(kb, fact):
            grid |= {t - 0.5, t, t + 0.5}
        grid = {v for v in grid if low <= v <= high}
        if field["type"] == "integer":
            ints = {round(v) for v in grid} | {int(v) - 1 for v in grid}
            return sorted(v for v in ints if low <= v <= high)
        return sorted(grid)
    return []


def _thresholds(kb: Knowledge, fact: str) -> set[float]:
    found = set()
    conditions = [r.when for r in kb.data.rules] + [
        c.when for p in kb.data.policies for pw in p.pathways for c in pw.criteria
    ]
    for cond in conditions:
        for leaf in leaves(cond):
            if isinstance(leaf, Compare) and leaf.fact == fact:
                found |= {kb.thresholds[ref] for _, ref in leaf.bounds()}
    for table in kb.data.tables:
        if table.input == fact:
            refs = [r for row in table.rows for r in (row.gt, row.gte, row.lt, row.lte) if r]
            found |= {kb.thresholds[ref] for ref in refs}
    return found


def _moot(kb: Knowledge, fact: str) -> set[str]:
    """Steps that only ask for this answer ('record the exam'): not a change of plan."""
    return {r.id for r in kb.data.rules for leaf in leaves(r.when) if leaf == Known(known=fact)}


def _set(data: dict[str, Any], fact: str, value: object) -> dict[str, Any]:
    copy = {k: dict(v) if isinstance(v, dict) else v for k, v in data.items()}
    *path, name = fact.split(".")
    node = copy
    for part in path:
        node[part] = dict(node.get(part, {}))
        node = node[part]
    node[name] = value
    return copy


def _generate(kb: Knowledge, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    data: dict[str, Any] = {}
    if rng.random() < 0.85:
        data["surgery"] = {"months_since": round(rng.uniform(0.5, 36), 1)}
    if rng.random() < 0.8:
        data.setdefault("surgery", {})["levels"] = rng.choice(LEVELS)
        data["surgery"]["region"] = (
            "lumbosacral" if "S1" in data["surgery"]["levels"][0] else "lumbar"
        )
    for fact in kb.data.facts:
        if fact.derived or fact.id in SKIPPED or fact.id == "surgery.region":
            continue
        if rng.random() < (0.55 if fact.id.startswith("emergency.") else 0.6):
            continue
        domain = _domain(kb, fact.id)
        if not domain:
            continue
        # Emergency answers mostly "no", so that the rest of the result has something to show.
        value = "no" if fact.id.startswith("emergency.") else rng.choice(domain)
        data = _set(data, fact.id, value)
    return _possible(data)


def _possible(data: dict[str, Any]) -> dict[str, Any]:
    """Keep answers that count time since surgery within that time (others are refused)."""
    months = data.get("surgery", {}).get("months_since")
    if months is None:
        return data
    if data.get("care", {}).get("rehab_weeks", 0) > months * 4:
        data = _set(data, "care.rehab_weeks", int(months * 4))
    if data.get("signs", {}).get("worsening_began_month", 0) > months:
        data = _set(data, "signs.worsening_began_month", int(months))
    return data


def _outcome(result: Assessment, moot: set[str]) -> Outcome:
    plan = frozenset(c.rule for c in result.recommendations) - moot
    return result.triage.level, result.suspicion.level, plan


def _quick(kb: Knowledge, data: dict[str, Any]) -> Assessment:
    return assess(parse_data(data, AS_OF), kb, AS_OF)


def _open_inputs(kb: Knowledge, data: dict[str, Any]) -> Iterator[tuple[str, list[object]]]:
    env = case_facts(parse_data(data, AS_OF), kb, AS_OF)
    if env.get("derived.months_since_surgery") is None:
        yield (
            "surgery.date",
            [
                ("surgery.months_since", m)
                for m in (1, 2.9, 3, 5.9, 6, 8.9, 9, 11.9, 12, 18, 24, 36)
            ],
        )
    if env.get("derived.level_count") is None:
        yield "surgery.levels", [("surgery.levels", lv) for lv in LEVELS]
    for fact in kb.data.facts:
        if fact.derived or fact.id in SKIPPED or env.get(fact.id) is not None:
            continue
        if fact.ask_if is not None and kb.compile(fact.ask_if).run(env) is not True:
            continue
        if fact.id == "surgery.region" and env.get("derived.level_count") is not None:
            continue  # the levels fix the region (a mismatch is refused as an input error)
        yield fact.id, [(fact.id, v) for v in _domain(kb, fact.id)]


def _claims(item_changes: tuple[str, ...]) -> Iterator[tuple[list[str], str]]:
    for line in item_changes:
        match = re.fullmatch(r"if (.+?): (.+)", line)
        assert match, line
        yield match.group(1).split(" or "), match.group(2)


def _value_for(kb: Knowledge, fact: str, words: str) -> object:
    """A value inside the range an item names ("≥ 9 and < 12", "< 30", "yes", "former")."""
    definition = kb.facts[fact]
    if definition.type is FactType.ANSWER:
        return words
    if definition.type is FactType.CHOICE:
        return words.replace(" ", "_")
    if words == "any value":
        return _domain(kb, fact)[0]
    integer = _field(fact)["type"] == "integer"
    step = 1 if integer else 0.05
    bound = words.split(" and ", maxsplit=1)[0]
    op, number = bound.split(" ")
    value = float(number)
    value = {"≥": value, "≤": value, ">": value + step, "<": value - step}[op]
    return int(value) if integer else value


def _holds(kb: Knowledge, result: Assessment, change: str) -> bool:
    if change.startswith("triage "):
        return result.triage.level.replace("_", " ") == change.removeprefix("triage ")
    if change.startswith("suspicion "):
        return result.suspicion.level == change.removeprefix("suspicion ")
    titles = {c.title for c in result.recommendations}
    for part in change.split("; "):
        verb, title = part.split(" ", 1)
        present = title.strip("'") in titles
        if present != (verb == "adds"):
            return False
    return True


@pytest.mark.parametrize("seed", range(24))
def test_listed_items_change_the_result_and_others_do_not(
    kb: Knowledge, seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = _generate(kb, seed)
    listed = {m.fact: m for m in _quick(kb, data).missing_information}
    # The oracle assessments skip their own what-if work: only triage, band and plan are compared.
    monkeypatch.setattr(engine, "what_would_change", lambda *args: ())
    base = _quick(kb, data)
    for fact, trials in _open_inputs(kb, data):
        moot = _moot(kb, fact)
        changed = []
        for target, value in trials:
            try:
                result = _quick(kb, _possible(_set(data, target, value)))
            except Exception:
                continue
            if _outcome(result, moot) != _outcome(base, moot):
                changed.append(value)
        if fact in listed:
            assert changed, f"seed {seed}: {fact} is listed but no answer changes the result"
            if fact.startswith("surgery."):
                continue
            for values, change in _claims(listed[fact].changes):
                for words in values:
                    trial = _quick(kb, _set(data, fact, _value_for(kb, fact, words)))
                    assert _holds(kb, trial, change), f"seed {seed}: {fact} if {words}: {change}"
        else:
            assert not changed, f"seed {seed}: {fact} is not listed but {changed} change the result"


def test_hba1c_is_not_asked_before_diabetes(kb: Knowledge) -> None:
    data = {"surgery": {"months_since": 8, "levels": ["L4-L5"], "region": "lumbar"}}
    data["signs"] = {"mechanical_pain": "yes"}
    unknown = [m.fact for m in assess(parse_data(data, AS_OF), kb, AS_OF).missing_information]
    assert "risk.diabetes" in unknown
    assert "risk.hba1c_percent" not in unknown
    data["risk"] = {"diabetes": "yes"}
    known = [m.fact for m in assess(parse_data(data, AS_OF), kb, AS_OF).missing_information]
    assert "risk.hba1c_percent" in known


def test_items_say_which_way_and_come_biggest_first(kb: Knowledge) -> None:
    data = {"surgery": {"months_since": 8, "levels": ["L4-L5"], "region": "lumbar"}}
    items = assess(parse_data(data, AS_OF), kb, AS_OF).missing_information
    saddle = next(m for m in items if m.fact == "emergency.saddle_numbness")
    assert saddle.stakes == "emergency"
    assert "if yes: triage emergency" in saddle.changes
    ranks = [("emergency", "urgency", "suspicion", "plan").index(m.stakes) for m in items]
    assert ranks == sorted(ranks)


def test_a_sparse_case_lists_far_fewer_than_every_unknown(kb: Knowledge) -> None:
    """The probe: a sparse case used to list every unknown fact a rule reads (42 items)."""
    data = {
        "surgery": {"months_since": 14, "levels": ["L4-L5"], "region": "lumbar"},
        "emergency": dict.fromkeys(
            ("new_weakness", "bladder_bowel_loss", "saddle_numbness", "fever_chills_worse_pain"),
            "no",
        )
        | dict.fromkeys(
            ("draining_wound", "unbearable_pain_neuro", "breathing_difficulty", "one_leg_swelling"),
            "no",
        ),
        "signs": {"mechanical_pain": "yes", "improved_then_worse": "yes"},
        "risk": {"diabetes": "no"},
    }
    result = assess(parse_data(data, AS_OF), kb, AS_OF)
    items = result.missing_information
    # Diabetes answered no: HbA1c is not asked, and no item claims a change it does not make.
    assert "risk.hba1c_percent" not in {m.fact for m in items}
    for item in items:
        assert item.changes, item.fact
        if item.stakes in {"emergency", "urgency"}:
            assert all("triage" in line for line in item.changes if line.startswith("if "))


def test_a_narrower_question_under_a_broader_no_is_answered_no(kb: Knowledge) -> None:
    """facts.yaml implied_no: 'no clicking' answers 'clicking with worsening pain'; the emergency
    question about a leaking or opening wound answers both wound questions. A well person was
    told the result depended on 'does that clicking come with pain'."""
    data: dict[str, Any] = {
        "surgery": {"months_since": 14, "levels": ["L4-L5"], "region": "lumbar"},
        "emergency": {"draining_wound": "no"},
        "signs": {"clicking": "no"},
    }
    result = assess(parse_data(data, AS_OF), kb, AS_OF)
    named = {m.fact for m in (*result.missing_information, *result.triage.depends_on)}
    implied = {"signs.clicking_with_worsening_pain", "infection.wound_drainage"}
    assert not implied & named
    assert "clicking" not in result.suspicion.patient_explanation
    env = case_facts(parse_data(data, AS_OF), kb, AS_OF)
    assert env["infection.wound_opening"] is False
    # A 'yes', or a 'not sure' about the narrower question, is kept.
    data["signs"] = {"clicking": "yes"}
    data["infection"] = {"wound_drainage": "not_sure"}
    env = case_facts(parse_data(data, AS_OF), kb, AS_OF)
    assert env["signs.clicking_with_worsening_pain"] is None
    assert env["infection.wound_drainage"] is None
    assert env["derived.emergency_not_sure"] == 1


def test_the_self_check_does_not_ask_a_narrower_question_after_a_broader_no(
    kb: Knowledge,
) -> None:
    [question] = [
        q for q in other_questions(kb, "patient") if q.fact.id == "infection.wound_drainage"
    ]
    assert should_ask(kb, question, {})
    assert should_ask(kb, question, {"emergency.draining_wound": Answer.NOT_SURE})
    assert not should_ask(kb, question, {"emergency.draining_wound": Answer.NO})


def test_the_temperature_unit_is_not_asked_without_a_reading(kb: Knowledge) -> None:
    """'Was that reading in °C or °F?' was listed to a person who gave no reading: it is a
    follow-up of the reading now, in the reports' open questions and the self-check alike."""
    labels = load_labels("en")
    assert not labels.asked_when("infection.temperature_unit", {})
    assert labels.asked_when("infection.temperature_unit", {"infection.temperature": 38.5})
    [unit] = [
        q for q in other_questions(kb, "patient") if q.fact.id == "infection.temperature_unit"
    ]
    assert not should_ask(kb, unit, {})
    assert should_ask(kb, unit, {"infection.temperature": 38.5})
