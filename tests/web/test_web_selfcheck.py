"""The patient self-check over HTTP: emergency first, steps, field errors, result, PDF, privacy."""

import json
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from conftest import csrf
from fusionwatch.core.compiled import Knowledge
from fusionwatch.store.database import Database
from fusionwatch.store.tables import AssessmentRecord, AuditEvent, Patient

NO_EMERGENCY = {
    "emergency.new_weakness": "no",
    "emergency.bladder_bowel_loss": "no",
    "emergency.saddle_numbness": "no",
    "emergency.fever_chills_worse_pain": "no",
    "emergency.draining_wound": "no",
    "emergency.unbearable_pain_neuro": "no",
    "emergency.breathing_difficulty": "no",
    "emergency.one_leg_swelling": "no",
}
SURGERY = {"surgery.months_since": "8", "surgery.region": "lumbar", "person.age": "58"}
SYMPTOMS = {
    "signs.mechanical_pain": "yes",
    "signs.improved_then_worse": "yes",
    "signs.worsening_began_month": "5",
    "signs.focal_pain": "yes",
    "pain.axial": "7",
}
HEALTH = {"risk.nicotine": "current", "risk.diabetes": "no"}


def post(client: TestClient, step: str, data: dict[str, str]) -> str:
    response = client.post(f"/check/{step}", data={"csrf_token": csrf(client), **data})
    assert response.status_code == 200, response.text[:2000]
    return response.text


def hidden(html: str) -> dict[str, str]:
    """The answers a page carries forward, as the browser would send them back."""
    return dict(re.findall(r'<input type="hidden" name="([a-z_.]+)" value="([^"]*)">', html))


def test_the_first_screen_asks_every_emergency_question_and_nothing_else(
    client: TestClient, kb: Knowledge
) -> None:
    html = client.get("/check").text
    emergency = [f.id for f in kb.data.facts if "emergency" in f.groups]
    assert len(emergency) == 8
    for fact in emergency:
        assert f'name="{fact}"' in html
    assert 'name="signs.' not in html
    assert 'name="surgery.' not in html


@pytest.mark.parametrize("question", sorted(NO_EMERGENCY))
def test_any_yes_goes_straight_to_the_emergency_page(client: TestClient, question: str) -> None:
    html = post(client, "emergency", {**NO_EMERGENCY, question: "yes"})
    assert "Get emergency care now" in html
    assert "emergency department" in html
    assert 'action="/check/surgery"' not in html


def test_no_to_every_emergency_question_moves_on_to_the_surgery(client: TestClient) -> None:
    html = post(client, "emergency", NO_EMERGENCY)
    assert "Your surgery" in html
    assert 'name="surgery.months_since"' in html
    assert hidden(html)["emergency.new_weakness"] == "no"


def test_the_whole_self_check_reaches_an_explained_result(client: TestClient) -> None:
    html = post(client, "health", {**NO_EMERGENCY, **SURGERY, **SYMPTOMS, **HEALTH})
    assert "See a spine specialist soon" in html
    assert "Chance that the fusion has not healed" in html
    assert "Questions for my doctor" in html
    assert "Where this comes from" in html
    assert "does not take the place of advice" in html
    assert "Download PDF" in html


def test_unanswered_emergency_questions_never_give_a_reassuring_result(
    client: TestClient,
) -> None:
    answers = {**NO_EMERGENCY, **SURGERY, "signs.mechanical_pain": "no"}
    del answers["emergency.saddle_numbness"]
    html = post(client, "health", answers)
    assert "Keep your planned check-ups" not in html
    assert "Answer these urgent questions first" in html
    assert "numbness or pins and needles between your legs" in html


def test_a_bad_value_is_shown_next_to_its_field_and_answers_are_kept(client: TestClient) -> None:
    response = client.post(
        "/check/surgery",
        data={"csrf_token": csrf(client), **NO_EMERGENCY, "surgery.months_since": "abc"},
    )
    assert response.status_code == 422
    html = response.text
    assert 'id="f-surgery-months_since-error"' in html
    assert "please type a number" in html
    assert 'value="abc"' in html
    assert hidden(html)["emergency.one_leg_swelling"] == "no"


def test_the_case_model_rules_are_shown_on_the_form(client: TestClient) -> None:
    response = client.post(
        "/check/surgery",
        data={"csrf_token": csrf(client), **NO_EMERGENCY, "surgery.months_since": "-3"},
    )
    assert response.status_code == 422
    assert "f-surgery-months_since-error" in response.text


def test_back_returns_to_the_previous_step_with_answers(client: TestClient) -> None:
    html = post(client, "symptoms", {**NO_EMERGENCY, **SURGERY, "go": "back"})
    assert 'action="/check/surgery"' in html
    assert 'value="8"' in html


def test_pdf_summary_is_a_pdf(client: TestClient) -> None:
    data = {"csrf_token": csrf(client), **NO_EMERGENCY, **SURGERY, **SYMPTOMS, **HEALTH}
    response = client.post("/check-summary.pdf", data=data)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert len(response.content) > 10_000


def test_answers_file_holds_the_answers_as_a_case(client: TestClient) -> None:
    data = {"csrf_token": csrf(client), **NO_EMERGENCY, **SURGERY}
    response = client.post("/check-answers.json", data=data)
    case = json.loads(response.text)
    assert case["surgery"] == {"months_since": 8, "region": "lumbar"}
    assert "attachment" in response.headers["content-disposition"]


def test_forms_without_the_browser_token_are_refused(client: TestClient) -> None:
    client.get("/check")
    response = client.post("/check/emergency", data=NO_EMERGENCY)
    assert response.status_code == 403
    forged = client.post("/check/emergency", data={"csrf_token": "forged", **NO_EMERGENCY})
    assert forged.status_code == 403


def test_the_self_check_stores_nothing(client: TestClient, database: Database) -> None:
    post(client, "health", {**NO_EMERGENCY, **SURGERY, **SYMPTOMS, **HEALTH})
    data = {"csrf_token": csrf(client), **NO_EMERGENCY, **SURGERY}
    client.post("/check-summary.pdf", data=data)
    with database.session() as s:
        for table in (Patient, AssessmentRecord, AuditEvent):
            assert s.scalar(select(func.count()).select_from(table)) == 0


def test_pages_carry_security_headers(client: TestClient) -> None:
    response = client.get("/check")
    assert response.headers["cache-control"] == "no-store"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie


def test_unknown_step_is_a_friendly_404(client: TestClient) -> None:
    response = client.post("/check/nowhere", data={"csrf_token": csrf(client)})
    assert response.status_code == 404
    assert "no such page" in response.text


def test_each_step_answers_with_a_redirect_so_back_never_resends_a_form(
    client: TestClient,
) -> None:
    token = csrf(client)
    response = client.post(
        "/check/emergency", data={"csrf_token": token, **NO_EMERGENCY}, follow_redirects=False
    )
    assert response.status_code == 303
    target = response.headers["location"]
    assert target.startswith("/check/surgery?")
    page = client.get(target)  # what Back (or a reload) fetches: a plain GET
    assert page.status_code == 200
    assert 'action="/check/surgery"' in page.text
    assert hidden(page.text)["emergency.saddle_numbness"] == "no"
    last = client.post(
        "/check/health",
        data={"csrf_token": token, **NO_EMERGENCY, **SURGERY, **SYMPTOMS, **HEALTH},
        follow_redirects=False,
    )
    assert last.headers["location"].startswith("/check/result?")
    result = client.get(last.headers["location"])
    assert "See a spine specialist soon" in result.text
    back = client.get("/check/health?" + last.headers["location"].split("?", 1)[1])
    assert 'value="current" checked' in back.text  # Back from the result keeps the answers


def test_a_blank_urgent_question_stops_the_step_and_says_not_sure_is_an_answer(
    client: TestClient,
) -> None:
    answers = dict(NO_EMERGENCY)
    del answers["emergency.breathing_difficulty"]
    response = client.post("/check/emergency", data={"csrf_token": csrf(client), **answers})
    assert response.status_code == 422
    html = response.text
    assert "This urgent question has no answer yet" in html
    assert "choose <strong>Not sure</strong>: that is an answer too" in html
    assert 'href="#f-emergency-breathing_difficulty"' in html
    assert 'value="no" checked' in html  # the other answers are kept
    blank = client.post("/check/emergency", data={"csrf_token": csrf(client)})
    assert blank.status_code == 422
    assert "These urgent questions have no answer yet" in blank.text
    unsure = dict.fromkeys(NO_EMERGENCY, "unknown")
    moved = client.post(
        "/check/emergency", data={"csrf_token": csrf(client), **unsure}, follow_redirects=False
    )
    assert moved.status_code == 303  # "not sure" is an answer


@pytest.mark.parametrize(
    ("step", "answers", "field", "reason"),
    [
        (
            "health",
            {"risk.nicotine": "former", "risk.nicotine_quit_date": "2027-02-01"},
            "risk-nicotine_quit_date",
            "is after today (2026-11-23)",
        ),
        (
            "health",
            {"surgery.months_since": "30", "care.rehab_weeks": "500"},
            "care-rehab_weeks",
            "500 weeks of rehab is longer than the time since surgery (about 130 weeks)",
        ),
        (
            "symptoms",
            {"surgery.months_since": "3", "signs.improved_then_worse": "yes",
             "signs.worsening_began_month": "8"},
            "signs-worsening_began_month",
            "month 8 is later than the time since surgery (about 3 months)",
        ),
    ],
)  # fmt: skip
def test_impossible_answers_are_refused_with_a_reason(
    client: TestClient, step: str, answers: dict[str, str], field: str, reason: str
) -> None:
    data = {"csrf_token": csrf(client), **NO_EMERGENCY, **answers}
    response = client.post(f"/check/{step}", data=data)
    assert response.status_code == 422
    assert f'id="f-{field}-error"' in response.text
    assert reason in response.text


def test_saved_answers_can_be_loaded_back(client: TestClient) -> None:
    token = csrf(client)
    data = {"csrf_token": token, **NO_EMERGENCY, **SURGERY, **SYMPTOMS, **HEALTH}
    saved = client.post("/check-answers.json", data=data).content
    response = client.post(
        "/check-load",
        data={"csrf_token": token},
        files={"answers": ("my-fusion-answers.json", saved, "application/json")},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"].startswith("/check/emergency?")
    first = client.get(response.headers["location"]).text
    assert 'name="emergency.new_weakness" value="no" checked' in first
    carried = hidden(first)
    assert carried["surgery.months_since"] == "8"
    assert carried["risk.nicotine"] == "current"
    result = client.post("/check/health", data={"csrf_token": token, **carried, **NO_EMERGENCY})
    assert "See a spine specialist soon" in result.text


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "Choose the file you saved before"),
        (b"%PDF-1.7 not json", "This is not a saved answers file"),
        (b'{"hello": "world"}', "This file holds no answers from this self-check"),
        (b"{" + b" " * 70_000 + b"}", "larger than a saved answers file can be (64 KB)"),
    ],
)
def test_a_file_that_is_not_saved_answers_is_refused_in_plain_words(
    client: TestClient, content: bytes, message: str
) -> None:
    response = client.post(
        "/check-load",
        data={"csrf_token": csrf(client)},
        files={"answers": ("answers.json", content, "application/json")},
    )
    assert response.status_code == 422
    assert "The saved answers could not be loaded" in response.text
    assert message in response.text


def test_one_yes_reaches_the_emergency_page_even_with_other_urgent_questions_blank(
    client: TestClient,
) -> None:
    html = post(client, "emergency", {"emergency.saddle_numbness": "yes"})
    assert "Get emergency care now" in html


def test_the_symptoms_step_asks_what_needs_a_call_within_a_day_first(client: TestClient) -> None:
    """Fever, the wound, swallowing and a fall came after some twenty sign and pain questions."""
    html = client.get("/check/symptoms").text
    names = re.findall(r'name="([a-z_]+\.[a-z_]+)"', html)
    order = list(dict.fromkeys(names))
    assert order.index("infection.fever") < order.index("signs.mechanical_pain")
    assert order.index("recovery.swallowing_trouble") < order.index("signs.mechanical_pain")
    assert order.index("recovery.recent_fall") < order.index("pain.axial")
