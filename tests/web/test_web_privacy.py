"""Patient data never reaches the application log, even when something goes wrong."""

import logging

import pytest
from fastapi.testclient import TestClient
from test_web_workspace import EVALUATION, add_patient, evaluate

from conftest import csrf, sign_in

MARKER = "Zebulon Quartermaine"


def test_no_patient_data_in_logs(client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    token = sign_in(client)
    path = add_patient(client, token, name=MARKER)
    evaluate(client, path, {**EVALUATION, "surgery.levels": "L4-L5, L5-S1"})
    evaluate(client, path, {**EVALUATION, "pain.axial": "eleven"})
    client.post("/check/health", data={"csrf_token": csrf(client), "surgery.levels": "L9-L10"})
    client.post("/api/v1/assess", json={"person": {"age": 4711}})
    # The test's own HTTP client logs the addresses it calls (the self-check's answers travel in
    # them, decision 0012); the application's logs are the ones that must stay clean.
    text = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("httpx"))
    for secret in (MARKER, "L5-S1", "eleven", "L9-L10", "4711"):
        assert secret not in text


def test_unexpected_errors_log_the_type_but_not_the_content(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    def boom() -> None:
        raise ValueError(f"patient {MARKER} broke something")

    client.app.add_api_route("/api/v1/boom", boom)  # type: ignore[attr-defined]
    client.app.add_api_route("/boom", boom)  # type: ignore[attr-defined]
    caplog.set_level(logging.DEBUG)
    for path in ("/api/v1/boom", "/boom"):
        response = client.get(path)
        assert response.status_code == 500
        assert MARKER not in response.text
        assert "Something went wrong on our side" in response.text
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "unexpected ValueError" in text
    assert MARKER not in text


def test_a_key_error_bug_is_a_plain_500_not_a_404_that_echoes_the_key(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    def buggy() -> None:
        raise KeyError(f"{MARKER}-secret-key")

    client.app.add_api_route("/api/v1/buggy", buggy)  # type: ignore[attr-defined]
    client.app.add_api_route("/buggy", buggy)  # type: ignore[attr-defined]
    caplog.set_level(logging.DEBUG)
    for path in ("/api/v1/buggy", "/buggy"):
        response = client.get(path)
        assert response.status_code == 500, path
        assert MARKER not in response.text
        assert "secret-key" not in response.text
        assert "Something went wrong on our side" in response.text
    # The page (not the API's JSON) also speaks Spanish, marked as such.
    assert "<div lang='es'><h2>Lo sentimos</h2>" in response.text
    assert "unexpected KeyError" in "\n".join(r.getMessage() for r in caplog.records)


def test_the_projects_own_not_found_error_is_a_404(client: TestClient) -> None:
    sign_in(client)
    page = client.get("/patients/987654")
    assert page.status_code == 404
    assert "There is no such patient." in page.text
    assert "987654" not in page.text
    step = client.post("/check/no-such-step", data={"csrf_token": csrf(client)})
    assert step.status_code == 404
