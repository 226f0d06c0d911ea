"""A bounded schemathesis run against the JSON API and the CDS Hooks service (in-process ASGI).

Every operation of the OpenAPI document gets schema-valid requests and, where something can be
made invalid, schema-violating ones; every answer must be a documented status with a documented
content type and a body that fits its documented schema, and never a 5xx. The API is called
with a real read+write token of a team administrator, the CDS service with a fresh signed JWT
per call (the spec's setting). Derandomized: the same requests on every run, so CI is stable.

Two of schemathesis' checks are left out, on purpose:
- ``positive_data_acceptance``: the case model has rules across fields that JSON Schema cannot
  say (a follow-up visit needs a date or a month, not both), so some schema-valid cases are
  rightly refused with a 422 naming the field;
- ``negative_data_rejection``: unknown and repeated query parameters are ignored, as HTTP
  servers usually do, rather than refused.
"""

import datetime as dt
import json
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
import schemathesis
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance
from tests.web.conftest import NOW, Clock, api_token

from fusionwatch.cdshooks.discovery import SERVICE_ID
from fusionwatch.core.compiled import Knowledge
from fusionwatch.settings import Settings
from fusionwatch.store.access import Scope
from fusionwatch.store.database import Database
from fusionwatch.web.app import create_app

EXAMPLES = Path(__file__).parents[2] / "examples"
# schemathesis' in-process client sends this host; the JWT audience must name it.
BASE = f"http://{asgi.HOST}"
EHR = "https://ehr.example.org"
KEY = ec.generate_private_key(ec.SECP256R1())
# Requests per operation and mode: 16 operations, 2 modes (the discovery GET has nothing to
# make invalid and takes no body, so it gets one request) -> about 1,800 requests.
EXAMPLES_PER_RUN = 60
MINIMUM_REQUESTS = 1_000
EXCLUDED = [positive_data_acceptance, negative_data_rejection]


def _pem() -> str:
    public = KEY.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return public.decode()


def _cds_jwt() -> str:
    stamp = int(NOW.replace(tzinfo=dt.UTC).timestamp())
    claims = {
        "iss": EHR,
        "aud": f"{BASE}/cds-services/{SERVICE_ID}",
        "iat": stamp,
        "exp": stamp + 300,
        "jti": str(uuid.uuid4()),
    }
    return jwt.encode(claims, KEY, algorithm="ES256")


@pytest.fixture
def app(database: Database, kb: Knowledge, clock: Clock) -> Iterator[FastAPI]:
    settings = Settings(
        database_url=database.url, cds_hooks_issuers={EHR: _pem()}, cds_hooks_base_url=BASE
    )
    application = create_app(settings, db=database, kb=kb, clock=clock)
    yield application
    asgi.shutdown_lifespans()


def _seed(app: FastAPI, token: str) -> None:
    """A few patients with assessments, so that small generated ids find real records."""
    case = json.loads((EXAMPLES / "referral-smoker-mechanical-pain.json").read_text())
    auth = {"Authorization": f"Bearer {token}"}
    with TestClient(app, base_url=BASE) as client:
        for n in range(3):
            made = client.post(
                "/api/v1/patients", json={"display_name": f"Synthetic {n}"}, headers=auth
            )
            assert made.status_code == 201, made.text
            path = f"/api/v1/patients/{made.json()['id']}/assessments"
            stored = client.post(path, json={"case": case}, headers=auth)
            assert stored.status_code == 201, stored.text


def _fuzz(operation: Any, mode: GenerationMode, bearer: Callable[[], str]) -> tuple[int, str]:
    """Run one operation in one mode; returns the number of requests and the failure, if any."""
    sent = 0

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES_PER_RUN,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        nonlocal sent
        sent += 1
        case.call_and_validate(
            headers={"Authorization": f"Bearer {bearer()}"}, excluded_checks=EXCLUDED
        )

    try:
        run()
    except Unsatisfiable:
        return sent, ""  # nothing in this operation can be made invalid
    except (Exception, BaseExceptionGroup) as failure:  # schemathesis' FailureGroup is a Base…
        return sent, str(failure)
    return sent, ""


def test_schemathesis_finds_no_5xx_and_no_schema_violation(
    app: FastAPI, database: Database
) -> None:
    token = api_token(database, Scope.READ, Scope.WRITE)
    _seed(app, token)
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    counts: dict[str, int] = {}
    failures: list[str] = []
    started = time.perf_counter()
    for result in schema.get_all_operations():
        operation = result.ok()
        cds = operation.path.startswith("/cds-services")
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            name = f"{mode.value} {operation.method.upper()} {operation.path}"
            counts[name], failure = _fuzz(operation, mode, _cds_jwt if cds else lambda: token)
            if failure:
                failures.append(f"{name}:\n{failure}")
    took = time.perf_counter() - started
    total = sum(counts.values())
    print(f"schemathesis: {total} requests in {took:.1f} s")
    assert not failures, "\n\n".join(failures)
    assert total >= MINIMUM_REQUESTS, counts
