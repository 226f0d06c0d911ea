"""CDS Hooks contract: discovery, cards, 412, feedback and the JWT rules of the spec."""

import datetime as dt
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from fastapi.testclient import TestClient
from sqlalchemy import select
from tests.web.conftest import NOW, Clock

from fusionwatch.core.compiled import Knowledge
from fusionwatch.fhir.caseexport import export_case
from fusionwatch.fhir.panels import VISIT, components, panel_code
from fusionwatch.files.case import parse_data
from fusionwatch.settings import Settings
from fusionwatch.store.database import Database
from fusionwatch.store.tables import CdsFeedback
from fusionwatch.web.app import create_app

HERE = Path(__file__).parent
FHIR = HERE.parent / "fhir"
BASE = "http://127.0.0.1"
SERVICE = f"{BASE}/cds-services/fusionwatch-nonunion"
EHR = "https://ehr.example.org"
JSON = {"content-type": "application/json"}
RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP384R1())


def _pem(key: Any) -> str:
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return public.decode()


def token(key: Any = RSA_KEY, alg: str = "RS384", **claims: Any) -> str:
    stamp = int(NOW.replace(tzinfo=dt.UTC).timestamp())
    body = {"iss": EHR, "aud": SERVICE, "exp": stamp + 300, "iat": stamp, "jti": str(uuid.uuid4())}
    return jwt.encode(body | claims, key, algorithm=alg, headers={"kid": "k1", "typ": "JWT"})


def bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


@pytest.fixture
def cds(database: Database, kb: Knowledge, clock: Clock) -> Iterator[TestClient]:
    issuers = {EHR: _pem(RSA_KEY), "https://other.example.org": _pem(EC_KEY)}
    settings = Settings(
        database_url=database.url, cds_hooks_issuers=issuers, cds_hooks_base_url=BASE
    )
    with TestClient(create_app(settings, db=database, kb=kb, clock=clock), base_url=BASE) as c:
        yield c


def spec_request() -> dict[str, Any]:
    return json.loads((HERE / "cds-hooks-patient-view.json").read_text())


def warning_request() -> dict[str, Any]:
    """The spec's sample request, prefetch: a post-fusion patient with warning signs."""
    request = spec_request()
    bundle = json.loads((FHIR / "bundle-post-fusion.json").read_text())
    resources = [e["resource"] for e in bundle["entry"]]
    patient = next(r for r in resources if r["resourceType"] == "Patient") | {"id": "1288992"}

    def search(kind: str) -> dict[str, Any]:
        found = [{"resource": r} for r in resources if r["resourceType"] == kind]
        return {"resourceType": "Bundle", "type": "searchset", "entry": found}

    request["prefetch"] = {
        "patient": patient,
        "fusions": search("Procedure"),
        "conditions": search("Condition"),
        "observations": search("Observation"),
    }
    return request


def test_discovery_lists_the_patient_view_service(cds: TestClient, kb: Knowledge) -> None:
    services = cds.get("/cds-services").json()["services"]
    assert [(s["hook"], s["id"]) for s in services] == [("patient-view", "fusionwatch-nonunion")]
    service = services[0]
    assert service["description"]
    assert service["title"]
    assert set(service["prefetch"]) >= {"patient", "fusions", "conditions", "surveys"}
    assert "icd-10-cm|M96.0" in service["prefetch"]["conditions"]
    assert "55705006" in service["prefetch"]["fusions"]
    assert "loinc.org|97909-6" in service["prefetch"]["observations"]
    assert all("{{context.patientId}}" in t for t in service["prefetch"].values())


def test_warning_signs_give_a_warning_card(cds: TestClient) -> None:
    response = cds.post(
        "/cds-services/fusionwatch-nonunion", json=warning_request(), headers=bearer(token())
    )
    assert response.status_code == 200, response.text
    [card] = response.json()["cards"]
    assert card["indicator"] == "warning"
    assert len(card["summary"]) < 140
    assert card["source"]["label"]
    assert card["source"]["topic"]["code"].startswith("FW-")
    assert "Why:" in card["detail"]
    [link] = card["links"]
    assert link["type"] == "smart"
    assert link["url"] == f"{BASE}/patients?fhir_patient=1288992"
    assert card["selectionBehavior"] == "any"
    request = card["suggestions"][0]["actions"][0]["resource"]
    assert request["resourceType"] == "ServiceRequest"
    assert request["subject"] == {"reference": "Patient/1288992"}
    assert all(r["display"] for r in card["overrideReasons"])


def test_the_card_says_what_in_the_record_was_not_used(cds: TestClient) -> None:
    response = cds.post(
        "/cds-services/fusionwatch-nonunion", json=warning_request(), headers=bearer(token())
    )
    detail = response.json()["cards"][0]["detail"]
    assert "From the record, not used:" in detail
    assert "- Observation/vitd-nmol: cannot assess: unit nmol/L is not UCUM ng/mL" in detail


def test_a_resource_found_by_two_prefetch_searches_is_read_once(cds: TestClient) -> None:
    visit = {
        "resourceType": "Observation",
        "id": "visit-6",
        "status": "final",
        "code": panel_code(VISIT),
        "subject": {"reference": "Patient/1288992"},
        "component": components(VISIT, {"month": 6, "odi": 30}),
    }
    request = warning_request()
    request["prefetch"]["observations"]["entry"].append({"resource": visit})
    request["prefetch"]["surveys"] = {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [{"resource": visit}],
    }
    # Read twice, the visit would be two visits at the same time point: an input error.
    response = cds.post("/cds-services/fusionwatch-nonunion", json=request, headers=bearer(token()))
    assert response.status_code == 200, response.text


def test_emergency_is_critical(cds: TestClient) -> None:
    request = warning_request()
    saddle = {
        "resourceType": "Observation",
        "id": "saddle",
        "status": "final",
        "code": {
            "coding": [
                {
                    "system": "https://fusionwatch.example/fhir/CodeSystem/fact",
                    "code": "emergency.saddle_numbness",
                }
            ]
        },
        "valueBoolean": True,
    }
    request["prefetch"]["surveys"] = saddle
    response = cds.post("/cds-services/fusionwatch-nonunion", json=request, headers=bearer(token()))
    assert response.json()["cards"][0]["indicator"] == "critical"


def test_the_specs_own_request_is_412_without_a_fhir_query(cds: TestClient) -> None:
    response = cds.post(
        "/cds-services/fusionwatch-nonunion", json=spec_request(), headers=bearer(token())
    )
    assert response.status_code == 412
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert "fusions" in outcome["issue"][0]["diagnostics"]


def test_unknown_service_is_404(cds: TestClient) -> None:
    response = cds.post("/cds-services/nope", json=warning_request(), headers=bearer(token()))
    assert response.status_code == 404
    assert response.json()["resourceType"] == "OperationOutcome"


def test_feedback_is_stored(cds: TestClient, database: Database) -> None:
    feedback = {
        "feedback": [
            {
                "card": "9368d37b-283f-44a0-93ea-547cebab93ed",
                "outcome": "accepted",
                "acceptedSuggestions": [{"id": "e56e1945-20b3-4393-8503-a1a20fd73152"}],
                "outcomeTimestamp": "2026-11-23T11:58:00Z",
            },
            {
                "card": "9368d37b-283f-44a0-93ea-547cebab93ed",
                "outcome": "overridden",
                "overrideReason": {
                    "reason": {"code": "already-evaluated", "display": "Already seen"},
                    "userComment": "seen last week",
                },
            },
        ]
    }
    response = cds.post(
        "/cds-services/fusionwatch-nonunion/feedback", json=feedback, headers=bearer(token())
    )
    assert response.status_code == 200, response.text
    with database.session() as s:
        rows = s.scalars(select(CdsFeedback).order_by(CdsFeedback.id)).all()
        stored = [(r.outcome, r.accepted_suggestions, r.override_code, r.issuer) for r in rows]
    assert stored == [
        ("accepted", ["e56e1945-20b3-4393-8503-a1a20fd73152"], None, EHR),
        ("overridden", [], "already-evaluated", EHR),
    ]


def test_feedback_needs_a_known_outcome(cds: TestClient) -> None:
    bad = {"feedback": [{"card": "x", "outcome": "ignored"}]}
    response = cds.post(
        "/cds-services/fusionwatch-nonunion/feedback", json=bad, headers=bearer(token())
    )
    assert response.status_code == 422


def _none_token() -> str:
    return jwt.encode({"iss": EHR, "aud": SERVICE}, None, algorithm="none")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="missing"),
        pytest.param({"Authorization": "Basic abc"}, id="not-bearer"),
        pytest.param(bearer("not.a.jwt"), id="malformed"),
        pytest.param(bearer(_none_token()), id="alg-none"),
        pytest.param(
            bearer(token(key="a-shared-secret-of-at-least-32-bytes!", alg="HS256")), id="hs256"
        ),
        pytest.param(bearer(token(iss="https://evil.example.org")), id="wrong-issuer"),
        pytest.param(
            bearer(token(aud="https://elsewhere.example.org/cds-services/x")), id="wrong-audience"
        ),
        pytest.param(
            bearer(token(exp=int(NOW.replace(tzinfo=dt.UTC).timestamp()) - 3600)), id="expired"
        ),
        pytest.param(bearer(token(key=EC_KEY, alg="ES384")), id="wrong-key-for-issuer"),
        pytest.param(
            bearer(jwt.encode({"iss": EHR, "aud": SERVICE}, RSA_KEY, algorithm="RS384")),
            id="no-exp-iat-jti",
        ),
        pytest.param(
            bearer(token(exp=int(NOW.replace(tzinfo=dt.UTC).timestamp()) + 10 * 365 * 86400)),
            id="ten-year-lifetime",
        ),
    ],
)
def test_calls_without_a_valid_jwt_are_refused(cds: TestClient, headers: dict[str, str]) -> None:
    response = cds.post(
        "/cds-services/fusionwatch-nonunion", json=warning_request(), headers=headers
    )
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["resourceType"] == "OperationOutcome"


def test_a_replayed_token_is_refused(cds: TestClient) -> None:
    same = bearer(token())
    assert (
        cds.post(
            "/cds-services/fusionwatch-nonunion", json=warning_request(), headers=same
        ).status_code
        == 200
    )
    assert (
        cds.post(
            "/cds-services/fusionwatch-nonunion", json=warning_request(), headers=same
        ).status_code
        == 401
    )


def test_es384_from_another_allowed_issuer_is_accepted(cds: TestClient) -> None:
    signed = token(key=EC_KEY, alg="ES384", iss="https://other.example.org")
    response = cds.post(
        "/cds-services/fusionwatch-nonunion", json=warning_request(), headers=bearer(signed)
    )
    assert response.status_code == 200


def test_jwt_is_required_by_default() -> None:
    assert Settings().cds_hooks_require_jwt is True


def test_local_mode_runs_without_jwt(database: Database, kb: Knowledge, clock: Clock) -> None:
    settings = Settings(database_url=database.url, cds_hooks_require_jwt=False)
    with TestClient(create_app(settings, db=database, kb=kb, clock=clock), base_url=BASE) as c:
        response = c.post("/cds-services/fusionwatch-nonunion", json=warning_request())
    assert response.status_code == 200


def test_a_quiet_chart_gives_no_card(cds: TestClient) -> None:
    request = warning_request()
    request["prefetch"] = {
        "patient": request["prefetch"]["patient"],
        "fusions": request["prefetch"]["fusions"],
        "surveys": {
            "resourceType": "Bundle",
            "type": "searchset",
            "entry": [
                {
                    "resource": {
                        "resourceType": "Observation",
                        "id": f"e{n}",
                        "status": "final",
                        "code": {
                            "coding": [
                                {
                                    "system": "https://fusionwatch.example/fhir/CodeSystem/fact",
                                    "code": fact,
                                }
                            ]
                        },
                        "valueBoolean": False,
                    }
                }
                for n, fact in enumerate(EMERGENCY_FACTS)
            ],
        },
    }
    response = cds.post("/cds-services/fusionwatch-nonunion", json=request, headers=bearer(token()))
    # Every emergency question answered no and nothing else recorded: nothing changes care.
    assert response.status_code == 200, response.text
    assert response.json() == {"cards": []}


EMERGENCY_FACTS = (
    "emergency.new_weakness",
    "emergency.bladder_bowel_loss",
    "emergency.saddle_numbness",
    "emergency.fever_chills_worse_pain",
    "emergency.draining_wound",
    "emergency.unbearable_pain_neuro",
    "emergency.breathing_difficulty",
    "emergency.one_leg_swelling",
)


def test_jwt_checking_refuses_to_start_without_a_base_url(
    database: Database, kb: Knowledge, clock: Clock
) -> None:
    """The audience must never come from the Host header of the request."""
    from fusionwatch.cdshooks.service import ConfigurationError

    settings = Settings(database_url=database.url, cds_hooks_issuers={EHR: _pem(RSA_KEY)})
    with pytest.raises(ConfigurationError, match="BASE_URL"):
        create_app(settings, db=database, kb=kb, clock=clock)


def test_a_token_for_another_host_is_refused_whatever_the_host_header(cds: TestClient) -> None:
    other = "https://other-deployment.example.org/cds-services/fusionwatch-nonunion"
    response = cds.post(
        "/cds-services/fusionwatch-nonunion",
        json=warning_request(),
        headers={**bearer(token(aud=other)), "host": "other-deployment.example.org"},
    )
    assert response.status_code == 401


def test_replay_memory_holds_across_workers_and_restarts(
    database: Database, kb: Knowledge, clock: Clock
) -> None:
    settings = Settings(
        database_url=database.url, cds_hooks_issuers={EHR: _pem(RSA_KEY)}, cds_hooks_base_url=BASE
    )
    same = bearer(token())
    with TestClient(create_app(settings, db=database, kb=kb, clock=clock), base_url=BASE) as one:
        first = one.post("/cds-services/fusionwatch-nonunion", json=warning_request(), headers=same)
        assert first.status_code == 200
    # A second worker (or the same one after a restart): a new app on the same database.
    again = Database(database.url)
    with TestClient(create_app(settings, db=again, kb=kb, clock=clock), base_url=BASE) as two:
        second = two.post(
            "/cds-services/fusionwatch-nonunion", json=warning_request(), headers=same
        )
    again.close()
    assert second.status_code == 401


def test_the_jwt_is_checked_before_the_body_is_parsed(cds: TestClient) -> None:
    response = cds.post(
        "/cds-services/fusionwatch-nonunion",
        content=b"{not json at all",
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 401
    bad_body = cds.post(
        "/cds-services/fusionwatch-nonunion",
        content=b"{not json at all",
        headers={"content-type": "application/json", **bearer(token())},
    )
    assert bad_body.status_code == 400
    assert bad_body.json()["resourceType"] == "OperationOutcome"


@pytest.mark.parametrize("bad_id", [["a", "b"], {"x": 1}, 7, None])
def test_a_malformed_prefetch_id_is_a_note_not_a_500(cds: TestClient, bad_id: Any) -> None:
    request = warning_request()
    entries = request["prefetch"]["observations"]["entry"]
    entries.append({"resource": {**entries[0]["resource"], "id": bad_id}})
    entries.append({"resource": {**entries[0]["resource"], "id": bad_id}})
    response = cds.post("/cds-services/fusionwatch-nonunion", json=request, headers=bearer(token()))
    assert response.status_code == 200, response.text
    assert "cannot assess" in response.json()["cards"][0]["detail"]


def test_cds_calls_and_refusals_are_audited(cds: TestClient, database: Database) -> None:
    from fusionwatch.store.tables import AuditEvent

    cds.post("/cds-services/fusionwatch-nonunion", json=warning_request(), headers=bearer(token()))
    cds.post("/cds-services/fusionwatch-nonunion", json=warning_request())
    with database.session() as s:
        events = s.scalars(select(AuditEvent).where(AuditEvent.action == "cds_call")).all()
        assert [e.outcome for e in events] == ["ok", "denied"]
        assert events[0].actor == f"cds {EHR}"


def _prefetch_of(case_data: dict[str, Any], kb: Knowledge) -> dict[str, Any]:
    """A patient-view request whose prefetch holds exactly one synthetic case's record."""
    case = parse_data(case_data, NOW.date())
    entries = export_case(case, kb, "1288992")["entry"]
    request = spec_request()

    def search(kind: str) -> dict[str, Any]:
        found = [e for e in entries if e["resource"]["resourceType"] == kind]
        return {"resourceType": "Bundle", "type": "searchset", "entry": found}

    request["prefetch"] = {
        "patient": next(
            e["resource"] for e in entries if e["resource"]["resourceType"] == "Patient"
        ),
        "fusions": search("Procedure"),
        "observations": search("Observation"),
    }
    return request


_FUSED = {"surgery": {"date": "2025-06-02", "region": "lumbar", "levels": ["L4-L5"]}}


def test_a_fused_patient_with_nothing_else_gets_no_card(cds: TestClient, kb: Knowledge) -> None:
    """Emergency questions nobody asked are not, by themselves, a reason to warn (issue 11)."""
    request = _prefetch_of(_FUSED, kb)
    response = cds.post("/cds-services/fusionwatch-nonunion", json=request, headers=bearer(token()))
    assert response.status_code == 200, response.text
    assert response.json() == {"cards": []}


def test_a_nonunion_on_ct_gets_a_warning_card(cds: TestClient, kb: Knowledge) -> None:
    ct = {
        "modality": "ct",
        "date": "2026-07-01",
        "levels": [{"level": "L4-L5", "interbody_bridging": "no", "bridwell": "IV"}],
    }
    request = _prefetch_of({**_FUSED, "imaging": {"studies": [ct]}}, kb)
    response = cds.post("/cds-services/fusionwatch-nonunion", json=request, headers=bearer(token()))
    [card] = response.json()["cards"]
    assert card["indicator"] == "warning"
    assert "FW-SUSP-" in card["detail"]


def test_an_adjacent_segment_finding_alone_is_not_a_warning(cds: TestClient, kb: Knowledge) -> None:
    films = {
        "modality": "flexion_extension",
        "date": "2026-07-01",
        "levels": [{"level": "L3-L4", "angle_deg": 9.0, "translation_mm": 1.0}],
    }
    request = _prefetch_of({**_FUSED, "imaging": {"studies": [films]}}, kb)
    response = cds.post("/cds-services/fusionwatch-nonunion", json=request, headers=bearer(token()))
    assert response.json() == {"cards": []}


def test_size_and_nul_refusals_are_operation_outcomes(database: Database, kb: Knowledge) -> None:
    """Found by the schemathesis run: a NUL in a CDS body was answered with an HTML page, and
    the size limit with the API's problem body; CDS Hooks refusals are OperationOutcomes."""
    settings = Settings(
        database_url=database.url, cds_hooks_require_jwt=False, max_cds_body_bytes=1000
    )
    with TestClient(create_app(settings, db=database, kb=kb), base_url=BASE) as c:
        nul = c.post(SERVICE, content=b'{"hook": "a\\u0000b"}', headers=JSON)
        declared = c.post(SERVICE, content=b"[" + b" " * 2000 + b"]", headers=JSON)
        streamed = c.post(SERVICE, content=iter([b"[", b" " * 2000, b"]"]), headers=JSON)
    for response, status in ((nul, 422), (declared, 413), (streamed, 413)):
        assert response.status_code == status
        assert response.headers["content-type"] == "application/json"
        assert response.json()["resourceType"] == "OperationOutcome"
