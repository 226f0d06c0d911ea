"""Site settings chosen once for a deployment reach the API, CDS Hooks cards and the web pages."""

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests.web.conftest import Clock, csrf, sign_in
from tests.web.test_cdshooks import BASE, warning_request

from fusionwatch.core.compiled import Knowledge
from fusionwatch.settings import Settings
from fusionwatch.store.database import Database
from fusionwatch.web.app import create_app

CASE: dict[str, Any] = {
    "surgery": {
        "months_since": 3,
        "levels": ["L4-L5"],
        "region": "lumbar",
        "fusion_planned": "yes",
        "prior_failed_fusion_same_site": "no",
    },
    "signs": {"mechanical_pain": "yes"},
    "risk": {"nicotine": "current"},
    "imaging": {"fusion_status": "not_yet_fused"},
}


@pytest.fixture(params=["ncd_150_2", "bcbsa_7_01_85"])
def site(
    request: pytest.FixtureRequest, database: Database, kb: Knowledge, clock: Clock
) -> Iterator[tuple[str, TestClient]]:
    settings = Settings(
        database_url=database.url,
        stimulator_policy=request.param,
        motion_cutoff_deg=4,
        cds_hooks_require_jwt=False,
    )
    with TestClient(create_app(settings, db=database, kb=kb, clock=clock), base_url=BASE) as c:
        yield request.param, c


def test_the_api_result_uses_and_names_the_site_policy(site: tuple[str, TestClient]) -> None:
    policy, client = site
    result = client.post("/api/v1/assess?as_of=2026-11-23", json=CASE).json()
    assert result["stimulator"]["policy"] == policy
    assert result["provenance"]["settings"] == {"stimulator_policy": policy, "motion_cutoff_deg": 4}
    # A current smoker with a fusion planned: a BCBSA candidate, not a Medicare one.
    assert result["stimulator"]["candidate"] is (policy == "bcbsa_7_01_85")


def test_the_cds_hooks_card_names_the_site_settings(site: tuple[str, TestClient]) -> None:
    policy, client = site
    response = client.post("/cds-services/fusionwatch-nonunion", json=warning_request())
    [card] = response.json()["cards"]
    assert f"stimulator_policy {policy}" in card["detail"]


def test_the_settings_page_shows_the_site_choices(site: tuple[str, TestClient]) -> None:
    policy, client = site
    assert client.get("/settings", follow_redirects=False).status_code in {302, 303, 401}
    sign_in(client)
    page = client.get("/settings").text
    assert policy in page
    assert "FUSIONWATCH_STIMULATOR_POLICY" in page


def test_an_unknown_policy_stops_the_app_at_start(database: Database, kb: Knowledge) -> None:
    settings = Settings(database_url=database.url, stimulator_policy="my_insurer")
    with pytest.raises(ValueError, match="FUSIONWATCH_STIMULATOR_POLICY"):
        create_app(settings, db=database, kb=kb)


TITLES = {
    "ncd_150_2": "Medicare NCD 150.2 Osteogenic Stimulation",
    "bcbsa_7_01_85": "BCBSA model policy 7.01.85: electrical stimulation of the spine",
}


def test_the_workspace_page_judges_under_the_site_policy(site: tuple[str, TestClient]) -> None:
    from tests.web.test_web_workspace import add_patient, evaluate

    policy, client = site
    path = add_patient(client, sign_in(client))
    status, html, _ = evaluate(client, path, {"extra_case_data": json.dumps(CASE)})
    assert status == 200, html
    assert "Bone-stimulator candidacy" in html
    # The same smoker with a fusion planned: a BCBSA candidate, not a Medicare one.
    verdict = "Candidate" if policy == "bcbsa_7_01_85" else "Not a candidate"
    assert f"{TITLES[policy]}: {verdict}" in html


def test_the_site_names_its_urgent_advice_line_on_the_patient_pages(
    database: Database, kb: Knowledge, clock: Clock
) -> None:
    """FUSIONWATCH_URGENT_LINE: the "not sure" advice names the site's line, in either language,
    and the settings page shows it."""
    settings = Settings(database_url=database.url, urgent_line="NHS 111")
    app = create_app(settings, db=database, kb=kb, clock=clock)
    answers = {f"emergency.{q}": "no" for q in EMERGENCY_QUESTIONS}
    answers["emergency.new_weakness"] = "not_sure"
    with TestClient(app, base_url=BASE) as client:
        for lang, said in (
            ("en", "or call NHS 111 if you cannot reach them"),
            ("es", "o a NHS 111"),
        ):
            form = {"csrf_token": csrf(client), "lang": lang, **answers}
            page = client.post("/check/emergency", data=form)
            assert page.status_code == 200
            assert said in page.text
            assert "urgent advice line" not in page.text
        sign_in(client)
        assert "FUSIONWATCH_URGENT_LINE" in client.get("/settings").text


EMERGENCY_QUESTIONS = (
    "new_weakness",
    "bladder_bowel_loss",
    "saddle_numbness",
    "fever_chills_worse_pain",
    "draining_wound",
    "unbearable_pain_neuro",
    "breathing_difficulty",
    "one_leg_swelling",
)
