"""Clinical vignettes: whole cases with the result the article and evidence call for.

Each ``tests/cases/*.yaml`` file holds one case and its expected triage, suspicion and rules.
Expectations were written from the source article and evidence brief, not copied from the engine;
a vignette where the engine is believed clinically wrong carries ``xfail_reason`` and runs as a
strict xfail, so fixing the rule turns it into a failure that asks for the marker to be removed.
"""

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml

from fusionwatch.core.compiled import Knowledge
from fusionwatch.core.engine import assess
from fusionwatch.core.results import Assessment
from fusionwatch.core.site import DEFAULT_SITE, Site
from fusionwatch.files.case import parse_data

CASES_DIR = Path(__file__).parent / "cases"
MIN_VIGNETTES = 40
REQUIRED_SECTIONS = frozenset(
    {"emergency", "referral", "revision", "risk_factors", "nonsurgical", "signs", "diagnosis"}
)
EXPECT_KEYS = frozenset(
    {"triage", "suspicion", "rules_fired", "rules_not_fired"}
    | {"missing_first", "unanswered_emergency"}
    | {"levels", "stimulator_candidate", "concordance"}
)


def _load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict), f"{path.name}: a vignette must be a mapping"
    return data


VIGNETTES = {path.stem: _load(path) for path in sorted(CASES_DIR.glob("*.yaml"))}


def _params() -> list[Any]:
    params = []
    for stem, vignette in VIGNETTES.items():
        reason = vignette.get("xfail_reason")
        marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
        params.append(pytest.param(vignette, id=stem, marks=marks))
    return params


def _as_of(value: object) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def _site(vignette: dict[str, Any]) -> Site:
    """A vignette may name the site's choices (stimulator policy, motion cut-off)."""
    if "site" not in vignette:
        return DEFAULT_SITE
    return Site(**dict(vignette["site"]))


def _fired(result: Assessment) -> set[str]:
    """Every rule that fired: triage and suspicion reasons, caps, generators, recommendations."""
    fired = {t.rule for t in result.provenance.rules if t.outcome == "fires"}
    parts = (
        result.triage.reasons,
        result.suspicion.reasons,
        result.suspicion.limited_by,
        result.pain_generators,
        result.recommendations,
    )
    return fired | {c.rule for part in parts for c in part}


@pytest.mark.parametrize("vignette", _params())
def test_vignette(kb: Knowledge, vignette: dict[str, Any]) -> None:
    expect: dict[str, Any] = vignette["expect"]
    assert set(expect) <= EXPECT_KEYS, f"unknown expectation keys {set(expect) - EXPECT_KEYS}"
    as_of = _as_of(vignette["as_of"])
    result = assess(parse_data(vignette["case"], as_of), kb, as_of, _site(vignette))
    fired = _fired(result)
    missing = [m.fact for m in result.missing_information]
    unanswered = [m.fact for m in result.triage.unanswered_emergency]
    about = (
        f"{vignette['title']}\n  triage={result.triage.level} suspicion={result.suspicion.level}"
        f"\n  fired={sorted(fired)}\n  missing={missing[:5]} unanswered={unanswered}"
    )

    assert result.triage.level == expect["triage"], f"triage differs: {about}"
    assert result.suspicion.level == expect["suspicion"], f"suspicion differs: {about}"
    absent = sorted(set(expect.get("rules_fired", [])) - fired)
    assert not absent, f"expected rules did not fire {absent}: {about}"
    unwanted = sorted(set(expect.get("rules_not_fired", [])) & fired)
    assert not unwanted, f"rules fired that should not {unwanted}: {about}"
    if "missing_first" in expect:
        first = missing[0] if missing else None
        assert first == expect["missing_first"], f"first missing fact is {first}: {about}"
    if "unanswered_emergency" in expect:
        assert unanswered == expect["unanswered_emergency"], f"unanswered differ: {about}"
    _check_imaging(result, expect, about)


def _check_imaging(result: Assessment, expect: dict[str, Any], about: str) -> None:
    """Per-level statuses, the concordance statements and the stimulator candidacy."""
    if "levels" in expect:
        assert result.imaging is not None, f"no imaging result: {about}"
        found = {lv.level: lv.status for lv in result.imaging.levels}
        assert found == expect["levels"], f"level statuses {found}: {about}"
    if "concordance" in expect:
        found_rules = [c.rule for c in result.concordance]
        assert found_rules == expect["concordance"], f"concordance {found_rules}: {about}"
    if "stimulator_candidate" in expect:
        assert result.stimulator is not None
        got = result.stimulator.candidate
        assert got is expect["stimulator_candidate"], f"stimulator candidate {got}: {about}"


def test_vignettes_cover_the_article(kb: Knowledge) -> None:
    assert len(VIGNETTES) >= MIN_VIGNETTES, f"only {len(VIGNETTES)} vignettes"
    manifest_sections = set(kb.data.manifest.sections)
    rule_sections = {rule.section for rule in kb.data.rules}
    covered = {str(v["section"]) for v in VIGNETTES.values()}
    uncovered = sorted((rule_sections | REQUIRED_SECTIONS) - covered)
    assert not uncovered, f"no vignette for article sections {uncovered}"
    assert covered <= manifest_sections, f"unknown sections {covered - manifest_sections}"
    for stem, vignette in VIGNETTES.items():
        for key in ("title", "section", "rationale", "as_of", "case", "expect"):
            assert key in vignette, f"{stem}: missing {key!r}"
