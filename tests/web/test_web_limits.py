"""Bounded work per request: big bodies, YAML bombs, NUL characters and huge ids get a quick 4xx."""

import datetime as dt
import resource
import threading
import time
from collections.abc import Iterator

from fastapi.testclient import TestClient
from tests.test_cli_bad_files import ALIAS_BOMB

from conftest import NOW, PASSWORD, api_token, csrf, session_token, sign_in
from fusionwatch.store import accounts
from fusionwatch.store.access import Scope
from fusionwatch.store.accounts import LoginPolicy
from fusionwatch.store.database import Database

MB = 1024 * 1024


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _chunks(total: int, size: int = 64 * 1024) -> Iterator[bytes]:
    sent = 0
    while sent < total:
        yield b"x" * size
        sent += size


def test_a_100_mb_body_is_refused_before_it_is_read(client: TestClient) -> None:
    before, started = _rss_mb(), time.perf_counter()
    declared = client.post(
        "/api/v1/assess",
        content=b"{" + b" " * (100 * MB) + b"}",
        headers={"content-type": "application/json"},
    )
    assert declared.status_code == 413
    assert "bytes" in declared.json()["title"]
    # Streamed without a length: refused as soon as the count passes the limit.
    streamed = client.post(
        "/api/v1/assess",
        content=_chunks(100 * MB),
        headers={"content-type": "application/json"},
    )
    assert streamed.status_code == 413
    assert time.perf_counter() - started < 5
    # The 100 MB test body itself is in this process once; nothing more was kept.
    assert _rss_mb() - before < 250


def test_cds_hooks_have_their_own_larger_limit(client: TestClient) -> None:
    body = b'{"hook": "patient-view", "pad": "' + b"x" * (2 * MB) + b'"}'
    api = client.post("/api/v1/assess", content=body, headers={"content-type": "application/json"})
    assert api.status_code == 413
    cds = client.post(
        "/cds-services/fusionwatch-pseudarthrosis",
        content=body,
        headers={"content-type": "application/json"},
    )
    assert cds.status_code != 413


def test_the_yaml_alias_bomb_in_the_evaluation_form_is_a_field_error(
    client: TestClient,
) -> None:
    token = sign_in(client)
    created = client.post(
        "/patients",
        data={"csrf_token": client.cookies["fw_csrf"], "session_csrf": token, "display_name": "B"},
    )
    path = str(created.url.path)
    token = session_token(client.get(f"{path}/evaluate").text)
    before, started = _rss_mb(), time.perf_counter()
    response = client.post(
        f"{path}/evaluate",
        data={
            "csrf_token": client.cookies["fw_csrf"],
            "session_csrf": token,
            "extra_case_data": ALIAS_BOMB,
        },
    )
    assert response.status_code == 422
    assert "aliases" in response.text
    assert time.perf_counter() - started < 3
    assert _rss_mb() - before < 50


def test_nul_characters_are_refused_with_422(client: TestClient, database: Database) -> None:
    auth = {"authorization": f"Bearer {api_token(database, Scope.READ, Scope.WRITE)}"}
    named = client.post("/api/v1/patients", json={"display_name": "a\u0000b"}, headers=auth)
    assert named.status_code == 422
    assert client.get("/api/v1/patients?q=a%00b", headers=auth).status_code == 422
    login = client.post(
        "/login",
        data={"csrf_token": csrf(client, "/login"), "username": "al\x00ice", "password": "x"},
    )
    assert login.status_code == 422


def test_ids_beyond_64_bits_are_422_and_unknown_ids_404(
    client: TestClient, database: Database
) -> None:
    auth = {"authorization": f"Bearer {api_token(database, Scope.READ)}"}
    sign_in(client)
    for huge in (2**63, 2**64, 10**30):
        assert client.get(f"/api/v1/patients/{huge}", headers=auth).status_code == 422
        assert client.get(f"/api/v1/assessments/{huge}", headers=auth).status_code == 422
        assert client.get(f"/patients/{huge}").status_code == 422
        assert client.get(f"/assessments/{huge}/report.pdf").status_code == 422
    assert client.get(f"/api/v1/patients/{2**63 - 1}", headers=auth).status_code == 404
    assert client.get(f"/api/v1/patients/{2**31}", headers=auth).status_code == 404
    assert client.get("/api/v1/patients/0", headers=auth).status_code == 422


def test_api_validation_matches_the_form(client: TestClient, database: Database) -> None:
    auth = {"authorization": f"Bearer {api_token(database, Scope.READ, Scope.WRITE)}"}
    blank = client.post("/api/v1/patients", json={"display_name": "   "}, headers=auth)
    assert blank.status_code == 422
    first = client.post(
        "/api/v1/patients", json={"display_name": "A", "reference": "R-1"}, headers=auth
    )
    assert first.status_code == 201
    again = client.post(
        "/api/v1/patients", json={"display_name": "B", "reference": "R-1"}, headers=auth
    )
    assert again.status_code == 422
    assert again.json()["problems"][0]["field"] == "reference"
    future = client.post(
        f"/api/v1/patients/{first.json()['id']}/assessments",
        json={"case": {}, "as_of": "9999-12-31"},
        headers=auth,
    )
    assert future.status_code == 422
    assert future.json()["problems"][0]["field"] == "as_of"
    token = sign_in(client)
    form = client.post(
        "/patients",
        data={
            "csrf_token": client.cookies["fw_csrf"],
            "session_csrf": token,
            "display_name": "C",
            "reference": "R-1",
        },
    )
    assert form.status_code == 422
    assert "already has this reference" in form.text


def test_30_concurrent_wrong_guesses_are_checked_at_most_the_limit(database: Database) -> None:
    """Each guess reserves its check atomically before the slow hash; the lock then holds."""
    policy = LoginPolicy(5, dt.timedelta(minutes=15))
    checked: list[bool] = []
    lock, hashing = threading.Lock(), threading.Semaphore(2)

    def guess(n: int) -> None:
        with database.session() as s:
            target = accounts.begin_login(s, "alice", f"10.0.0.{n}", NOW, policy)
        with lock:
            checked.append(target.allowed)
        with hashing:  # the app bounds concurrent password checks the same way
            verified = accounts.verify_password(target.password_hash, "wrong-password!")
        with database.session() as s:
            accounts.finish_login(s, target, f"10.0.0.{n}", "wrong-password!", verified)

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(30)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(checked) == 30
    assert sum(checked) <= policy.max_failures
    with database.session() as s:
        outcome, _ = accounts.login(s, "alice", PASSWORD, NOW, policy)
    assert outcome.value == "locked"


def test_locked_and_unknown_accounts_get_the_same_answer(client: TestClient) -> None:
    token = csrf(client, "/login")
    for _ in range(5):
        client.post("/login", data={"csrf_token": token, "username": "alice", "password": "x"})
    answers = {}
    for username in ("alice", "nobody-here"):
        started = time.perf_counter()
        response = client.post(
            "/login", data={"csrf_token": token, "username": username, "password": PASSWORD}
        )
        page = response.text.replace(f'value="{username}"', "")
        answers[username] = (response.status_code, page, time.perf_counter() - started)
    assert answers["alice"][:2] == answers["nobody-here"][:2]
    # Both paths run one argon2 check: the times are of the same order.
    slow, fast = sorted(a[2] for a in answers.values())[::-1]
    assert slow < fast * 3 + 0.05


def test_sign_in_is_throttled_per_address(database: Database) -> None:
    policy = LoginPolicy(5, NOW - NOW, address_max_failures=3)
    with database.session() as s:
        for name in ("u1", "u2", "u3", "u4"):
            accounts.login(s, name, "guess", NOW, policy, address="192.0.2.9")
        outcome, _ = accounts.login(s, "alice", PASSWORD, NOW, policy, address="192.0.2.9")
        assert outcome.value == "locked"
        outcome, _ = accounts.login(s, "alice", PASSWORD, NOW, policy, address="192.0.2.10")
        assert outcome.value == "ok"


def test_hsts_is_sent_only_when_secure_cookies_are_on(
    database: Database, kb: object, clock: object, client: TestClient
) -> None:
    from fusionwatch.settings import Settings
    from fusionwatch.web.app import create_app

    assert "strict-transport-security" not in client.get("/").headers
    settings = Settings(database_url=database.url, secure_cookies=True)
    app = create_app(settings, db=database, kb=kb, clock=clock)  # type: ignore[arg-type]
    with TestClient(app, base_url="https://127.0.0.1") as secure:
        assert secure.get("/").headers["strict-transport-security"].startswith("max-age=")


def test_an_idle_session_ends(client: TestClient, clock: object) -> None:
    sign_in(client)
    clock.now = NOW + dt.timedelta(minutes=20)  # type: ignore[attr-defined]
    assert client.get("/patients", follow_redirects=False).status_code == 200
    clock.now = NOW + dt.timedelta(minutes=49)  # type: ignore[attr-defined]
    assert client.get("/patients", follow_redirects=False).status_code == 200
    clock.now = NOW + dt.timedelta(minutes=49 + 31)  # type: ignore[attr-defined]
    assert client.get("/patients", follow_redirects=False).status_code == 303


def test_api_docs_are_served_locally_under_a_csp(client: TestClient) -> None:
    page = client.get("/api/docs")
    assert page.status_code == 200
    assert "https://" not in page.text
    policy = page.headers["content-security-policy"]
    assert "script-src 'self';" in policy
    assert policy.count("content-security-policy") == 0
    assert client.get("/api/docs/assets/swagger-ui-bundle.js").status_code == 200
    assert client.get("/static/api-docs.js").status_code == 200


def test_every_openapi_ref_resolves(client: TestClient) -> None:
    document = client.get("/api/v1/openapi.json").json()
    refs: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str):
                refs.append(ref)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(document)
    schemas = document["components"]["schemas"]
    assert refs
    assert [r for r in refs if r.removeprefix("#/components/schemas/") not in schemas] == []
