"""Issue 11 on the web: each new finding reaches its tier through the JSON API, the clinician
workspace and CDS Hooks; the self-check gives same-day advice as soon as an emergency question is
answered "not sure"; a stored result from before the urgent tier still displays."""

import html as markup
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from tests.conftest import AS_OF
from tests.findings import FINDINGS, Finding, flat
from tests.web.test_cdshooks import bearer, cds, spec_request, token  # noqa: F401 - fixture
from tests.web.test_web_selfcheck import NO_EMERGENCY, csrf, hidden, post
from tests.web.test_web_workspace import add_patient, evaluate

from conftest import sign_in
from fusionwatch.core.compiled import Knowledge
from fusionwatch.fhir.caseexport import observation
from fusionwatch.files.case import parse_data
from fusionwatch.knowledge import load_labels
from fusionwatch.store.database import Database
from fusionwatch.store.tables import AssessmentRecord

IDS = [f.name for f in FINDINGS]
CARD = {"emergency": "critical", "urgent": "warning", "prompt_referral": "warning"}


def _title(tier: str, reader: str) -> str:
    """The disposition's name for this reader, from the labels catalogue the report view uses."""
    return load_labels().disposition(tier).get(reader)  # type: ignore[arg-type]


@pytest.mark.parametrize("finding", FINDINGS, ids=IDS)
def test_api(client: TestClient, finding: Finding) -> None:
    response = client.post("/api/v1/assess?as_of=2026-11-23", json=finding.case)
    assert response.status_code == 200, response.text
    triage = response.json()["triage"]
    assert triage["level"] == finding.tier
    assert finding.rule in {c["rule"] for c in triage["reasons"]}


def test_workspace(client: TestClient) -> None:
    token_ = sign_in(client)
    path = add_patient(client, token_)
    for finding in FINDINGS:
        status, html, where = evaluate(client, path, flat(finding.case))
        assert status == 200, (finding.name, html[:3000])
        assert where.startswith("/assessments/"), finding.name
        assert f'id="answer-title">{_title(finding.tier, "clinician")}<' in html, finding.name
        # The note names the rule that set the tier by its summary (the view shows no rule ids
        # before the detail, and after an emergency the report stops at the answer).
        api = client.post(f"/api/v1/assess?as_of={AS_OF}", json=finding.case).json()
        summary = next(c["summary"] for c in api["triage"]["reasons"] if c["rule"] == finding.rule)
        assert summary in markup.unescape(html), finding.name


def _prefetch(kb: Knowledge, finding: Finding) -> dict[str, Any]:
    """A fused patient whose record holds only this finding (as coded Observations)."""
    request = spec_request()
    typed = parse_data(finding.case, AS_OF).model_dump(mode="json")
    subject = {"reference": "Patient/1288992"}
    entries = []
    for path in flat(finding.case):
        if path.startswith("surgery."):
            continue  # the fusion Procedure's date gives the time since surgery
        value: Any = typed
        for part in path.split("."):
            value = value[part]
        resource = observation(kb.facts[path], value, subject)
        entries.append({"resource": {"id": path.replace("_", "-")} | resource})
    procedure = {
        "resourceType": "Procedure",
        "id": "fusion",
        "status": "completed",
        "subject": subject,
        "code": {"coding": [{"system": "http://snomed.info/sct", "code": "55705006"}]},
        "performedDateTime": "2025-11-01",
    }
    request["prefetch"] = {
        "patient": {"resourceType": "Patient", "id": "1288992"},
        "fusions": {
            "resourceType": "Bundle",
            "type": "searchset",
            "entry": [{"resource": procedure}],
        },
        "conditions": {"resourceType": "Bundle", "type": "searchset", "entry": []},
        "observations": {"resourceType": "Bundle", "type": "searchset", "entry": entries},
    }
    return request


@pytest.mark.parametrize("finding", FINDINGS, ids=IDS)
def test_cds_hooks(cds: TestClient, kb: Knowledge, finding: Finding) -> None:  # noqa: F811
    request = _prefetch(kb, finding)
    response = cds.post("/cds-services/fusionwatch-nonunion", json=request, headers=bearer(token()))
    assert response.status_code == 200, response.text
    card = response.json()["cards"][0]
    assert card["indicator"] == CARD[finding.tier], card
    assert finding.rule in card["detail"], card["detail"]
    if finding.tier == "urgent":
        assert "same-day" in card["summary"]


def test_self_check_gives_same_day_advice_right_after_the_emergency_screen(
    client: TestClient,
) -> None:
    answers = NO_EMERGENCY | {"emergency.bladder_bowel_loss": "not_sure"}
    html = post(client, "emergency", answers)
    assert "Contact your surgical team today" in html
    assert "You were not sure about" in html
    assert 'action="/check/surgery"' not in html  # nothing else asked before the advice
    carried = hidden(html)
    assert carried["emergency.bladder_bowel_loss"] == "not_sure"
    nxt = post(client, "emergency", carried | {"advised": "1", "go": "next"})
    assert 'action="/check/surgery"' in nxt  # the person may go on
    # Post/Redirect/Get (decision 0012): the advice is a page of its own, fetched with GET.
    sent = client.post(
        "/check/emergency",
        data={"csrf_token": csrf(client), **answers},
        follow_redirects=False,
    )
    assert sent.status_code == 303
    assert sent.headers["location"].startswith("/check/advice?")


@pytest.mark.parametrize("finding", [f for f in FINDINGS if f.patient], ids=lambda f: f.name)
def test_self_check_result_shows_the_tier(client: TestClient, finding: Finding) -> None:
    answers = NO_EMERGENCY | {"surgery.months_since": "8"} | flat(finding.case)
    html = post(client, "health", answers | {"advised": "1"})
    assert _title(finding.tier, "patient") in html, finding.name


def test_a_result_stored_before_the_urgent_tier_still_displays(
    client: TestClient, database: Database
) -> None:
    token_ = sign_in(client)
    path = add_patient(client, token_)
    _, _, where = evaluate(client, path, {"surgery.months_since": "8"})
    with database.session() as s:
        record = s.scalars(select(AssessmentRecord)).one()
        old = json.loads(json.dumps(record.result))
        del old["triage"]["not_sure"], old["triage"]["depends_on"]
        old["suspicion"]["level"] = "low"
        old["provenance"]["knowledge_version"] = "2026.11.5"
        record.result = old
        s.commit()
    page = client.get(where)
    assert page.status_code == 200, page.text[:2000]
    assert f'id="answer-title">{_title("prompt_referral", "clinician")}<' in page.text
    assert "Nonunion suspicion: Low" in page.text
    pdf = client.get(f"{where}/report.pdf")
    assert pdf.content.startswith(b"%PDF")
