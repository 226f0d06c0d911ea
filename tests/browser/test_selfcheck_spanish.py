"""The self-check in Spanish in a real browser: the emergency path with the keyboard alone at
360 px, axe on every Spanish page, the walk without JavaScript, screenshots at 360 and 1280 px."""

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect

from tests.browser.conftest import DESKTOP, MOBILE, Tab
from tests.browser.test_selfcheck import answer, emergency_questions, heading, question

pytestmark = pytest.mark.browser

STEPS = {
    "emergency": "Primero, unas preguntas urgentes",
    "surgery": "Su operación",
    "symptoms": "Cómo se siente ahora",
    "health": "Su salud y sus cuidados",
}
EMERGENCY = "Busque atención de urgencia ahora"
NOT_EMERGENCY = {"Llame hoy a su equipo de cirugía", "Vea pronto a un especialista de columna"}
NOT_EMERGENCY |= {"Siga con sus revisiones previstas"}


def _spanish_tab(
    browser: Browser, base_url: str, viewport: ViewportSize, name: str, *, javascript: bool = True
) -> Iterator[Tab]:
    """A page whose browser asks for Spanish (Accept-Language: es-ES), as a Spanish phone does."""
    context = browser.new_context(
        base_url=base_url,
        viewport=viewport,
        accept_downloads=True,
        java_script_enabled=javascript,
        locale="es-ES",
    )
    yield Tab(context.new_page(), name, javascript=javascript)
    context.close()


@pytest.fixture
def movil(browser: Browser, live_server: str, request: pytest.FixtureRequest) -> Iterator[Tab]:
    yield from _spanish_tab(browser, live_server, MOBILE, f"es-patient-{request.node.name}")


@pytest.fixture
def escritorio(browser: Browser, live_server: str, request: pytest.FixtureRequest) -> Iterator[Tab]:
    yield from _spanish_tab(browser, live_server, DESKTOP, f"es-desktop-{request.node.name}")


@pytest.fixture
def sin_script(browser: Browser, live_server: str, request: pytest.FixtureRequest) -> Iterator[Tab]:
    yield from _spanish_tab(
        browser, live_server, MOBILE, f"es-patient-{request.node.name}", javascript=False
    )


def expect_spanish(page: Page) -> None:
    expect(page.locator("html")).to_have_attribute("lang", "es")


def next_step(page: Page, title: str) -> None:
    page.get_by_role("button", name="Seguir", exact=True).click()
    expect(heading(page)).to_have_text(title)
    expect_spanish(page)


def focused(page: Page) -> dict[str, str]:
    return dict(
        page.evaluate(
            "() => ({tag: document.activeElement.tagName, type: document.activeElement.type || '',"
            " name: document.activeElement.name || '', value: document.activeElement.value || '',"
            " text: (document.activeElement.textContent || '').trim()})"
        )
    )


def test_the_switch_gives_spanish_and_the_emergency_path_runs_on_the_keyboard(
    browser: Browser, live_server: str
) -> None:
    """From an English phone: the switch, then every urgent question with keys alone, a yes to
    the last one, and the emergency page, all in Spanish at 360 px."""
    context = browser.new_context(base_url=live_server, viewport=MOBILE, locale="en-GB")
    tab = Tab(context.new_page(), "es-patient-keyboard-emergency")
    page = tab.page
    page.goto("/check")
    expect_spanish_switch = page.get_by_role("link", name="Español")
    for _ in range(10):
        page.keyboard.press("Tab")
        if focused(page)["text"] == "Español":
            break
    expect(expect_spanish_switch).to_be_focused()
    page.keyboard.press("Enter")
    expect(heading(page)).to_have_text(STEPS["emergency"])
    expect_spanish(page)
    tab.check("1-step-emergency")
    facts = emergency_questions(page)
    answered: list[str] = []
    for _ in range(80):
        page.keyboard.press("Tab")
        now = focused(page)
        if now["type"] == "radio" and now["name"] not in answered:
            # Tab lands on "Sí"; the arrow moves to and selects "No", except for the last question.
            if now["name"] != facts[-1]:
                page.keyboard.press("ArrowRight")
                expect(page.locator(f'input[name="{now["name"]}"]:checked')).to_have_value("no")
            else:
                page.keyboard.press("Space")
                expect(page.locator(f'input[name="{now["name"]}"]:checked')).to_have_value("yes")
            answered.append(now["name"])
        elif now["tag"] == "BUTTON" and now["text"] == "Seguir":
            break
    else:
        raise AssertionError(f"Tab never reached «Seguir»; answered {answered}")
    assert answered == facts
    page.keyboard.press("Enter")
    expect(heading(page)).to_have_text(EMERGENCY)
    expect_spanish(page)
    expect(page.get_by_role("alert")).to_contain_text(EMERGENCY)
    expect(page.get_by_text(re.compile(r"Paso \d de \d"))).to_have_count(0)
    # The English clinician line is there, marked as English for screen readers.
    expect(page.locator('[lang="en"]', has_text="For the clinician: Emergency")).to_be_visible()
    tab.check("2-emergency")
    context.close()


def walk(tab: Tab, *, pdf: bool = True) -> Page:
    """The whole self-check, every page photographed and (with JavaScript) scanned by axe."""
    page = tab.page
    page.goto("/")
    expect(heading(page)).to_have_text("¿Sigue con dolor después de una fusión vertebral?")
    expect_spanish(page)
    tab.check("1-home")
    page.get_by_role("link", name="Empezar la autoevaluación").click()
    expect(heading(page)).to_have_text(STEPS["emergency"])
    expect(page.get_by_text("Paso 1 de 4")).to_be_visible()
    for fact in emergency_questions(page):
        answer(page, fact, "No")
    tab.check("2-step-emergency")
    next_step(page, STEPS["surgery"])
    page.get_by_label(re.compile("cuántos meses", re.I)).fill("8")
    answer(page, "surgery.region", "Parte baja de la espalda")
    answer(page, "surgery.instrumented", "Sí")
    tab.check("3-step-surgery")
    next_step(page, STEPS["symptoms"])
    answer(page, "signs.mechanical_pain", "Sí")
    answer(page, "signs.improved_then_worse", "Sí")
    follow_up = question(page, "signs.worsening_began_month")
    expect(follow_up).to_be_visible()
    follow_up.get_by_role("textbox").fill("4")
    answer(page, "signs.focal_pain", "No lo sé")
    tab.check("4-step-symptoms")
    next_step(page, STEPS["health"])
    answer(page, "risk.nicotine", "Sí, ahora")
    answer(page, "risk.diabetes", "No")
    tab.check("5-step-health")
    page.get_by_role("button", name="Ver mi resultado").click()
    title = page.locator("section.triage h1").inner_text().strip()
    assert title in NOT_EMERGENCY, title
    expect_spanish(page)
    expect(page.get_by_role("heading", name="Preguntas para mi médico")).to_be_visible()
    tab.check("6-result")
    if pdf:
        with page.expect_download() as info:
            page.get_by_role("button", name="Descargar el PDF para mi cita").click()
        assert info.value.path().read_bytes().startswith(b"%PDF")
    return page


def test_every_spanish_page_passes_axe_at_phone_width(movil: Tab) -> None:
    walk(movil)
    assert movil.visited == [f"{n}-{s}" for n, s in enumerate(_PAGES, 1)]


def test_every_spanish_page_passes_axe_on_a_desktop(escritorio: Tab) -> None:
    walk(escritorio, pdf=False)


def test_the_spanish_self_check_works_without_javascript(sin_script: Tab) -> None:
    page = walk(sin_script)
    # Without the script nothing is hidden, and the language stayed Spanish through every post.
    expect(page.locator("html")).to_have_attribute("lang", "es")


def test_not_sure_in_spanish_gives_same_day_advice_in_the_browser(movil: Tab) -> None:
    page = movil.page
    page.goto("/check")
    facts = emergency_questions(page)
    for fact in facts:
        answer(page, fact, "No lo sé" if fact == facts[0] else "No")
    page.get_by_role("button", name="Seguir", exact=True).click()
    expect(heading(page)).to_have_text("Llame hoy a su equipo de cirugía")
    expect_spanish(page)
    expect(page.get_by_text("la línea de consejo médico urgente de su zona").first).to_be_visible()
    movil.check("advice")
    page.get_by_role("button", name="Seguir con las preguntas").click()
    expect(heading(page)).to_have_text(STEPS["surgery"])


_PAGES = ("home", "step-emergency", "step-surgery", "step-symptoms", "step-health", "result")
