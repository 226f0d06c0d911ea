"""The clinician workspace: sign-in, lockout, CSRF, patients, evaluations, reports, audit."""

import datetime as dt
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select

from conftest import NOW, PASSWORD, Clock, csrf, session_token, sign_in
from fusionwatch.store.database import Database
from fusionwatch.store.tables import AssessmentRecord, AuditEvent

EXAMPLES = Path(__file__).parents[2] / "examples"
EVALUATION = {
    "surgery.months_since": "14",
    "surgery.region": "lumbar",
    "surgery.levels": "L4-L5",
    "signs.mechanical_pain": "yes",
    "signs.improved_then_worse": "yes",
    "signs.focal_pain": "yes",
    "risk.nicotine": "current",
    "exam.strength": "normal",
    "imaging.fusion_status": "nonunion",
    **{
        f"emergency.{name}": "no"
        for name in (
            "new_weakness",
            "bladder_bowel_loss",
            "saddle_numbness",
            "fever_chills_worse_pain",
            "draining_wound",
            "unbearable_pain_neuro",
            "breathing_difficulty",
            "one_leg_swelling",
        )
    },
}


def add_patient(client: TestClient, token: str, name: str = "Test Patient One") -> str:
    response = client.post(
        "/patients",
        data={"csrf_token": client.cookies["fw_csrf"], "session_csrf": token, "display_name": name},
    )
    assert response.status_code == 200, response.text
    return str(response.url.path)


def evaluate(client: TestClient, path: str, data: dict[str, str]) -> tuple[int, str, str]:
    token = session_token(client.get(f"{path}/evaluate").text)
    response = client.post(
        f"{path}/evaluate",
        data={"csrf_token": client.cookies["fw_csrf"], "session_csrf": token, **data},
    )
    return response.status_code, response.text, str(response.url.path)


def test_pages_need_a_signed_in_clinician(client: TestClient) -> None:
    for path in ("/patients", "/patients/1", "/assessments/1", "/audit", "/patients/1/evaluate"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/login")


def test_wrong_password_is_refused_without_saying_which_part_was_wrong(
    client: TestClient,
) -> None:
    token = csrf(client, "/login")
    for username in ("alice", "nobody"):
        response = client.post(
            "/login", data={"csrf_token": token, "username": username, "password": "wrong-one!"}
        )
        assert response.status_code == 401
        assert "username or password is not right" in response.text


def test_repeated_failures_lock_the_account_for_a_while(client: TestClient, clock: Clock) -> None:
    token = csrf(client, "/login")
    for _ in range(5):
        client.post("/login", data={"csrf_token": token, "username": "alice", "password": "x"})
    locked = client.post(
        "/login", data={"csrf_token": token, "username": "alice", "password": PASSWORD}
    )
    assert locked.status_code == 401
    assert "locked" in locked.text
    clock.now = NOW + dt.timedelta(minutes=16)
    assert sign_in(client)


def test_session_cookie_is_http_only_and_same_site(client: TestClient) -> None:
    token = csrf(client, "/login")
    response = client.post(
        "/login",
        data={"csrf_token": token, "username": "alice", "password": PASSWORD},
        follow_redirects=False,
    )
    cookie = response.headers["set-cookie"]
    assert response.status_code == 303
    assert "fw_session=" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Secure" not in cookie  # plain http on loopback


def test_session_cookie_is_secure_over_https(database: Database, clock: Clock) -> None:
    from fusionwatch.settings import Settings
    from fusionwatch.web.app import create_app

    app = create_app(Settings(database_url=database.url), db=database, clock=clock)
    with TestClient(app, base_url="https://fusionwatch.test") as secure_client:
        token = csrf(secure_client, "/login")
        response = secure_client.post(
            "/login",
            data={"csrf_token": token, "username": "alice", "password": PASSWORD},
            follow_redirects=False,
        )
    assert "Secure" in response.headers["set-cookie"]


def test_a_login_redirect_never_leaves_the_site(client: TestClient) -> None:
    token = csrf(client, "/login")
    response = client.post(
        "/login",
        data={
            "csrf_token": token,
            "username": "alice",
            "password": PASSWORD,
            "next": "//evil.example/",
        },
        follow_redirects=False,
    )
    assert response.headers["location"] == "/patients"


def test_signed_in_forms_need_the_session_token(client: TestClient) -> None:
    sign_in(client)
    response = client.post(
        "/patients", data={"csrf_token": client.cookies["fw_csrf"], "display_name": "X"}
    )
    assert response.status_code == 403


def test_record_a_patient_evaluate_and_print(client: TestClient, database: Database) -> None:
    token = sign_in(client)
    path = add_patient(client, token)
    status, html, where = evaluate(client, path, EVALUATION)
    assert status == 200, html
    assert where.startswith("/assessments/")
    assert '<h2 id="answer-title">Prompt referral</h2>' in html
    assert "Nonunion suspicion: High" in html
    assert "Sources" in html
    assert "FW-" in html
    patient_page = client.get(path).text
    assert "L4-L5" in patient_page
    assert "Prompt referral" in patient_page
    pdf = client.get(f"{where}/report.pdf")
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    with database.session() as s:
        record = s.scalars(select(AssessmentRecord)).one()
        assert record.triage == "prompt_referral"
        assert record.case_data["surgery"]["levels"] == ["L4-L5"]
        assert record.knowledge_version == record.result["provenance"]["knowledge_version"]


def test_a_new_evaluation_starts_from_the_last_one(client: TestClient) -> None:
    token = sign_in(client)
    path = add_patient(client, token)
    evaluate(client, path, EVALUATION)
    form = client.get(f"{path}/evaluate").text
    assert 'value="14"' in form
    assert 'name="signs.mechanical_pain" value="yes" checked' in form


def test_invalid_evaluation_shows_errors_and_stores_nothing(
    client: TestClient, database: Database
) -> None:
    token = sign_in(client)
    path = add_patient(client, token)
    status, html, _ = evaluate(
        client, path, {**EVALUATION, "surgery.levels": "L7-L8", "pain.axial": "eleven"}
    )
    assert status == 422
    assert "f-pain-axial-error" in html
    assert 'value="eleven"' in html
    status, html, _ = evaluate(client, path, {**EVALUATION, "surgery.levels": "L7-L8"})
    assert status == 422
    assert "f-surgery-levels-error" in html
    with database.session() as s:
        assert s.scalars(select(AssessmentRecord)).all() == []


def test_extra_case_data_is_merged_and_checked(client: TestClient) -> None:
    token = sign_in(client)
    path = add_patient(client, token)
    status, html, _ = evaluate(
        client, path, {**EVALUATION, "extra_case_data": "imaging: {nerve_compression: maybe}"}
    )
    assert status == 422
    assert "imaging.nerve_compression" in html
    status, _, _ = evaluate(
        client, path, {**EVALUATION, "extra_case_data": "person: {bmi_unknown_field: 1}"}
    )
    assert status == 422
    status, _, where = evaluate(
        client, path, {**EVALUATION, "extra_case_data": '{"person": {"age": 61}}'}
    )
    assert status == 200
    assert where.startswith("/assessments/")


def test_patient_name_is_required(client: TestClient) -> None:
    token = sign_in(client)
    response = client.post(
        "/patients",
        data={"csrf_token": client.cookies["fw_csrf"], "session_csrf": token, "display_name": " "},
    )
    assert response.status_code == 422
    assert "Give a name or label" in response.text


def test_audit_log_records_who_viewed_and_changed_what(
    client: TestClient, database: Database
) -> None:
    token = sign_in(client)
    path = add_patient(client, token)
    _, _, where = evaluate(client, path, EVALUATION)
    client.get(f"{where}/report.pdf")
    with database.session() as s:
        events = [(e.actor, e.action, e.object_type) for e in s.scalars(select(AuditEvent))]
    assert ("alice", "login", "user") in events
    assert ("alice (web)", "create", "patient") in events
    assert ("alice (web)", "view", "patient") in events
    assert ("alice (web)", "create", "assessment") in events
    assert ("alice (web)", "print", "assessment") in events
    page = client.get("/audit").text
    assert "print" in page
    assert "Test Patient One" not in page


def test_logout_ends_the_session(client: TestClient) -> None:
    token = sign_in(client)
    client.post("/logout", data={"csrf_token": client.cookies["fw_csrf"], "session_csrf": token})
    assert client.get("/patients", follow_redirects=False).status_code == 303


def test_sessions_expire(client: TestClient, clock: Clock) -> None:
    sign_in(client)
    clock.now = NOW + dt.timedelta(hours=9)
    assert client.get("/patients", follow_redirects=False).status_code == 303


def test_missing_records_are_404_pages(client: TestClient) -> None:
    sign_in(client)
    assert client.get("/patients/999").status_code == 404
    missing = client.get("/assessments/999")
    assert missing.status_code == 404
    assert "Back to the patients" in missing.text
    assert "Sign out alice" in missing.text


def test_follow_up_scores_show_their_pattern_and_chart(client: TestClient) -> None:
    import yaml

    case = yaml.safe_load(EXAMPLES.joinpath("follow-up", "case-with-scores.yaml").read_text())
    token = sign_in(client)
    path = add_patient(client, token)
    extra = yaml.safe_dump({"follow_up": case["follow_up"]})
    form = {f"surgery.{k}": str(v) for k, v in case["surgery"].items() if k != "levels"}
    status, html, where = evaluate(client, path, {**form, "extra_case_data": extra})
    assert status == 200, html
    assert "Recovery over time" in html
    assert "improved, then worsened" in html
    assert f'src="{where}/chart.svg"' in html
    chart = client.get(f"{where}/chart.svg")
    assert chart.headers["content-type"] == "image/svg+xml"
    assert b'id="series-odi"' in chart.content
    assert b'id="mcid-band-odi"' in chart.content
    report = client.get(f"{where}/report.pdf")
    assert report.content.startswith(b"%PDF")
    form_again = client.get(f"{path}/evaluate").text
    assert 'name="follow_up.0.odi" value="52"' in form_again  # scores kept for the next visit


def test_imaging_levels_concordance_and_stimulator_are_shown(client: TestClient) -> None:
    import yaml

    case = yaml.safe_load(EXAMPLES.joinpath("imaging-ct-and-motion-films.yaml").read_text())
    token = sign_in(client)
    path = add_patient(client, token)
    status, html, where = evaluate(
        client, path, {"extra_case_data": yaml.safe_dump(case, sort_keys=False)}
    )
    assert status == 200, html
    assert "Imaging by level" in html
    assert "L4-L5" in html
    assert "nonunion" in html
    assert "Imaging and symptoms together" in html
    assert "Bone-stimulator candidacy" in html
    assert "Policy: Medicare NCD 150.2 Osteogenic Stimulation: Candidate" in html
    assert client.get(f"{where}/report.pdf").content.startswith(b"%PDF")


def test_ehr_link_opens_the_patient_with_that_reference(client: TestClient) -> None:
    token = sign_in(client)
    missing = client.get("/patients?fhir_patient=1288992")
    assert "No patient has the reference" in missing.text
    assert 'value="1288992"' in missing.text
    response = client.post(
        "/patients",
        data={
            "csrf_token": client.cookies["fw_csrf"],
            "session_csrf": token,
            "display_name": "From the EHR",
            "reference": "1288992",
        },
    )
    # An EHR launching a `smart` link appends SMART launch parameters; they are not used.
    opened = client.get(
        "/patients?fhir_patient=1288992&launch=x1&iss=https%3A%2F%2Fehr.test%2Ffhir"
    )
    assert opened.url.path == response.url.path
    assert "From the EHR" in opened.text


def test_sign_in_keeps_the_ehr_link(client: TestClient) -> None:
    first = client.get("/patients?fhir_patient=abc-1", follow_redirects=False)
    assert first.headers["location"] == "/login?next=%2Fpatients%3Ffhir_patient%3Dabc-1"
    form = client.get(first.headers["location"]).text
    assert 'name="next" value="/patients?fhir_patient=abc-1"' in form
    response = client.post(
        "/login",
        data={
            "csrf_token": client.cookies["fw_csrf"],
            "username": "alice",
            "password": PASSWORD,
            "next": "/patients?fhir_patient=abc-1",
        },
        follow_redirects=False,
    )
    assert response.headers["location"] == "/patients?fhir_patient=abc-1"


def test_operation_history_and_adjacent_levels_are_shown(client: TestClient) -> None:
    import yaml

    case = yaml.safe_load(EXAMPLES.joinpath("history-extension-adjacent.yaml").read_text())
    token = sign_in(client)
    path = add_patient(client, token)
    surgery = case["surgery"]
    extra = yaml.safe_dump(
        {"surgery": {"operations": surgery["operations"]}, "imaging": case["imaging"]}
    )
    form = {
        "surgery.date": str(surgery["date"]),
        "surgery.region": surgery["region"],
        "surgery.levels": ", ".join(surgery["levels"]),
    }
    status, html, _ = evaluate(client, path, {**form, "extra_case_data": extra})
    assert status == 200, html
    assert "counted from the last operation at the fused levels: extension at T10-L4" in html
    assert "Next to the fusion (not part of the fusion status)" in html
    assert "L5-S1 (below)" in html
    form_again = client.get(f"{path}/evaluate").text
    assert "operations" in form_again  # the history is kept in the JSON box for the next visit
    assert 'name="surgery.operations"' not in form_again


def test_the_footer_speaks_to_whoever_reads_the_page(client: TestClient) -> None:
    # A patient on the self-check is told it does not replace their doctor; a signed-in
    # clinician is told what the tool is, not to see a doctor.
    public = " ".join(client.get("/").text.split())
    assert "It does not replace your doctor" in public
    sign_in(client)
    workspace = " ".join(client.get("/patients").text.split())
    assert "decision support" in workspace
    assert "It does not replace your doctor" not in workspace
