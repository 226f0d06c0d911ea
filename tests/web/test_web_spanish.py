"""The self-check in Spanish over HTTP: language choice, emergency, "not sure", a full walk, the
PDF, and no English string on any Spanish patient page (decision 0013)."""

import io
import re
from html.parser import HTMLParser

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader
from tests.leaks import ENGLISH
from tests.web.test_web_selfcheck import HEALTH, NO_EMERGENCY, SURGERY, SYMPTOMS

from conftest import csrf
from fusionwatch.web.language import choose


class _Visible(HTMLParser):
    """The text a reader sees, leaving out what is marked English on purpose (lang="en")."""

    VOID = frozenset({"input", "br", "meta", "link", "img", "hr", "progress"})

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[bool] = []
        self.parts: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.VOID:
            return
        english = dict(attrs).get("lang") == "en" or tag in {"script", "style", "title"}
        self.stack.append(english)
        self.skip += english

    def handle_endtag(self, tag: str) -> None:
        if tag in self.VOID or not self.stack:
            return
        self.skip -= self.stack.pop()

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.parts.append(data)


def visible(html: str) -> str:
    parser = _Visible()
    parser.feed(html)
    return re.sub(r"\s+", " ", " ".join(parser.parts))


def assert_spanish(html: str) -> None:
    assert '<html lang="es">' in html
    text = visible(html)
    leaked = sorted(s for s in ENGLISH if s in text)
    assert leaked == []


def go(client: TestClient, step: str, data: dict[str, str]) -> str:
    form = {"csrf_token": csrf(client), "lang": "es", **data}
    response = client.post(f"/check/{step}", data=form)
    assert response.status_code == 200, response.text[:2000]
    assert "lang=es" in str(response.url)
    return response.text


@pytest.mark.parametrize(
    ("chosen", "query", "header", "expected"),
    [
        (None, None, None, "en"),
        (None, None, "es-MX,es;q=0.9,en;q=0.5", "es"),
        (None, None, "fr, de;q=0.5", "en"),
        (None, None, "es;q=0, en", "en"),
        (None, "es", "en", "es"),
        (None, "en", "es", "en"),
        ("en", "es", "es", "en"),
        ("es", None, "en", "es"),
        (None, "xx", "es", "es"),
    ],
)
def test_the_language_is_the_switch_then_the_address_then_the_browser(
    chosen: str | None, query: str | None, header: str | None, expected: str
) -> None:
    assert choose(chosen, query, header, ("en", "es")) == expected


def test_accept_language_gives_spanish_and_the_switch_offers_english(client: TestClient) -> None:
    html = client.get("/check", headers={"accept-language": "es-ES,es;q=0.9"}).text
    assert_spanish(html)
    assert 'hreflang="en"' in html
    assert "Primero, unas preguntas urgentes" in html


def test_an_emergency_in_spanish(client: TestClient) -> None:
    html = go(client, "emergency", {**NO_EMERGENCY, "emergency.saddle_numbness": "yes"})
    assert_spanish(html)
    assert "Busque atención de urgencia ahora" in html
    assert "ano" in visible(html)
    assert 'lang="en"' in html
    assert "For the clinician: Emergency" in html


def test_not_sure_in_spanish_gives_same_day_advice(client: TestClient) -> None:
    html = go(client, "emergency", {**NO_EMERGENCY, "emergency.new_weakness": "not_sure"})
    assert_spanish(html)
    assert "Llame hoy a su equipo de cirugía" in html
    assert "Seguir con las preguntas" in html
    # No country's line by default: the neutral wording, in Spanish (FUSIONWATCH_URGENT_LINE).
    assert "o a la línea de consejo médico urgente de su zona" in visible(html)
    assert "NHS" not in visible(html)


def test_a_blank_urgent_question_is_explained_in_spanish(client: TestClient) -> None:
    answers = {k: v for k, v in NO_EMERGENCY.items() if k != "emergency.one_leg_swelling"}
    form = {"csrf_token": csrf(client), "lang": "es", **answers}
    response = client.post("/check/emergency", data=form)
    assert response.status_code == 422
    assert_spanish(response.text)
    assert "aún sin responder" in response.text


def test_a_number_error_is_explained_in_spanish(client: TestClient) -> None:
    go(client, "emergency", NO_EMERGENCY)
    form = {"csrf_token": csrf(client), "lang": "es", **NO_EMERGENCY, "person.age": "abc"}
    response = client.post("/check/surgery", data=form)
    assert response.status_code == 422
    assert_spanish(response.text)
    assert "escriba un número" in response.text


def test_a_number_out_of_range_gives_its_range_in_spanish(client: TestClient) -> None:
    answers = {**NO_EMERGENCY, **SURGERY, "pain.axial": "11"}
    form = {"csrf_token": csrf(client), "lang": "es", **answers}
    response = client.post("/check/symptoms", data=form)
    assert response.status_code == 422
    assert_spanish(response.text)
    assert "debe estar entre 0 y 10" in response.text


def test_a_whole_walk_in_spanish_and_its_pdf(client: TestClient) -> None:
    pages = [go(client, "emergency", NO_EMERGENCY)]
    answers = {**NO_EMERGENCY, **SURGERY}
    pages.append(go(client, "surgery", answers))
    answers |= SYMPTOMS
    pages.append(go(client, "symptoms", answers))
    answers |= HEALTH
    result = go(client, "health", answers)
    for html in [*pages, result]:
        assert_spanish(html)
    assert "Su resultado" in result
    assert "8 meses" in result
    pdf = client.post(
        "/check-summary.pdf", data={"csrf_token": csrf(client), "lang": "es", **answers}
    )
    assert pdf.status_code == 200
    reader = PdfReader(io.BytesIO(pdf.content))
    first = reader.pages[0].extract_text()
    assert "Qué hacer" in first or "Cuándo" in first
    assert "For the clinician" in "".join(p.extract_text() for p in reader.pages)
    assert re.search(r"\d{1,2} de [a-z]+ de \d{4}", first)


# A decimal written with a point ("38.5"); version numbers ("0.1.0", "2026.12.1") are not decimals.
DECIMAL_POINT = re.compile(r"(?<![\d.])\d+\.\d+(?![\d.])")


def test_typed_decimals_read_with_a_decimal_comma_on_the_page_and_in_the_pdf(
    client: TestClient,
) -> None:
    """Numbers a person typed (with a comma or a point) come back in Spanish form everywhere:
    the answers table, a rule's text that quotes one, the unit given in its own question."""
    answers = {**NO_EMERGENCY, **SURGERY, "surgery.months_since": "8,5"}
    answers |= {**SYMPTOMS, "signs.worsening_began_month": "4.5"}
    answers |= {"infection.temperature": "38,5", "infection.temperature_unit": "C"}
    answers |= HEALTH
    result = go(client, "health", answers)
    shown = visible(result)
    assert "8,5 meses" in shown
    # FW rule text, value filled in
    assert "unos 4,5 meses después de su última operación de fusión" in shown
    assert "38,5 °C (Celsius)" in shown
    assert DECIMAL_POINT.findall(shown) == []
    pdf = client.post(
        "/check-summary.pdf", data={"csrf_token": csrf(client), "lang": "es", **answers}
    )
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "8,5 meses" in text
    assert "38,5 °C" in text
    assert DECIMAL_POINT.findall(text) == []


def test_a_decimal_where_a_whole_number_is_asked_says_so_in_spanish(client: TestClient) -> None:
    answers = {**NO_EMERGENCY, **SURGERY, "pain.axial": "6,5"}
    form = {"csrf_token": csrf(client), "lang": "es", **answers}
    response = client.post("/check/symptoms", data=form)
    assert response.status_code == 422
    assert_spanish(response.text)
    assert "escriba un número entero, sin decimales" in response.text


def test_a_page_that_does_not_exist_says_so_in_spanish(client: TestClient) -> None:
    for address in ("/check/nowhere?lang=es", "/nowhere?lang=es"):
        response = client.get(address)
        assert response.status_code == 404
        assert_spanish(response.text)
        assert "Esta página no existe." in response.text
        assert 'aria-label="Principal"' in response.text
