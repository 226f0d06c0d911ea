"""The patient self-check in a real browser, at phone size: emergency stop, full run, PDF."""

import re

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.browser.conftest import SHOTS, Tab

pytestmark = pytest.mark.browser

STEP_TITLES = {
    "emergency": "First, some urgent questions",
    "surgery": "Your surgery",
    "symptoms": "How you feel now",
    "health": "Your health and care",
}
TRIAGE_HEADINGS = {
    "Get emergency care now",
    "See a spine specialist soon",
    "Keep your planned check-ups",
}


def question(page: Page, fact: str) -> Locator:
    return page.locator(f'[data-fact="{fact}"]')


def answer(page: Page, fact: str, label: str) -> None:
    """Pick the radio button with this visible label in the question about `fact`."""
    radio = question(page, fact).get_by_role("radio", name=label, exact=True)
    radio.check()
    expect(radio).to_be_checked()


def heading(page: Page) -> Locator:
    return page.get_by_role("heading", level=1)


def start(tab: Tab) -> Page:
    page = tab.page
    page.goto("/")
    expect(heading(page)).to_have_text("Still in pain after a spinal fusion?")
    tab.check("1-home")
    page.get_by_role("link", name="Start the self-check").click()
    expect(heading(page)).to_have_text(STEP_TITLES["emergency"])
    expect(page.get_by_text("Step 1 of 4")).to_be_visible()
    return page


def emergency_questions(page: Page) -> list[str]:
    facts: list[str] = page.locator('[data-fact^="emergency."]').evaluate_all(
        "els => els.map(e => e.dataset.fact)"
    )
    assert len(facts) >= 5, facts
    return facts


def answer_no_to_emergencies(page: Page) -> None:
    for fact in emergency_questions(page):
        answer(page, fact, "No")


def next_step(page: Page, title: str) -> None:
    page.get_by_role("button", name="Continue").click()
    expect(heading(page)).to_have_text(title)


def assert_answer_on_the_first_screen(page: Page) -> None:
    """What to do, by when, the top reasons and the PDF button, all before any scrolling."""
    page.evaluate("window.scrollTo(0, 0)")
    height = (page.viewport_size or {"height": 0})["height"]
    answer_box = page.locator("section.answer")
    parts = {
        "disposition": answer_box.locator("h1"),
        "time frame": answer_box.locator(".when"),
        "first reason": answer_box.locator("ul.reasons li").first,
        "PDF button": page.get_by_role("button", name="Download PDF for my appointment"),
        "save button": page.get_by_role("button", name="Save my answers"),
    }
    expect(parts["time frame"]).to_contain_text("By when:")
    for name, part in parts.items():
        expect(part).to_be_visible()
        box = part.bounding_box()
        assert box is not None, name
        assert box["y"] + box["height"] <= height, f"{name} is below the first screen: {box}"
    reasons = answer_box.locator("ul.reasons li")
    assert 1 <= reasons.count() <= 3
    last = reasons.nth(reasons.count() - 1).bounding_box()
    assert last is not None
    assert last["y"] + last["height"] <= height, "the last top reason is below the first screen"


def test_yes_to_an_urgent_question_stops_the_check_at_once(mobile: Tab) -> None:
    page = start(mobile)
    mobile.check("2-step-emergency")
    # Every urgent question is on the first screen, before anything else is asked.
    assert page.locator("[data-fact]").count() == len(emergency_questions(page))
    answer(page, "emergency.new_weakness", "Yes")
    page.get_by_role("button", name="Continue").click()

    expect(heading(page)).to_have_text("Get emergency care now")
    expect(page.locator(".triage.emergency")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("Get emergency care now")
    # The reason given is the weakness the person reported.
    expect(page.locator(".conclusions")).to_contain_text(re.compile("weakness", re.I))
    # No later step was shown: the browser loaded only home, step 1 and the emergency answer
    # (the answer to the post is a redirect to the result's address, decision 0012).
    assert mobile.documents == ["GET /", "GET /check", "POST /check/emergency", "GET /check/result"]
    expect(page.get_by_text(re.compile(r"Step \d of \d"))).to_have_count(0)
    for title in list(STEP_TITLES.values())[1:]:
        expect(page.get_by_text(title)).to_have_count(0)
    assert page.locator('input[name="surgery.months_since"]').count() == 0
    mobile.check("3-emergency")


def test_full_self_check_gives_a_result_and_a_pdf(mobile: Tab) -> None:
    page = start(mobile)
    answer_no_to_emergencies(page)
    mobile.check("2-step-emergency-answered")
    next_step(page, STEP_TITLES["surgery"])
    expect(page.get_by_text("Step 2 of 4")).to_be_visible()

    page.get_by_label(re.compile("how many months ago", re.I)).fill("8")
    answer(page, "surgery.region", "Low back")
    answer(page, "surgery.instrumented", "Yes")
    mobile.check("3-step-surgery")
    next_step(page, STEP_TITLES["symptoms"])

    # The follow-up question only shows once the answer it depends on is given.
    follow_up = question(page, "signs.worsening_began_month")
    expect(follow_up).to_be_hidden()
    answer(page, "signs.mechanical_pain", "Yes")
    answer(page, "signs.improved_then_worse", "Yes")
    expect(follow_up).to_be_visible()
    follow_up.get_by_role("textbox").fill("4")
    answer(page, "signs.focal_pain", "Yes")
    mobile.check("4-step-symptoms")
    next_step(page, STEP_TITLES["health"])

    answer(page, "risk.nicotine", "Yes, now")
    answer(page, "risk.diabetes", "No")
    mobile.check("5-step-health")
    page.get_by_role("button", name="See my result").click()

    triage = page.locator("section.triage h1")
    expect(triage).to_be_visible()
    title = triage.inner_text().strip()
    assert title in TRIAGE_HEADINGS - {"Get emergency care now"}, title
    assert_answer_on_the_first_screen(page)
    expect(page.get_by_role("heading", name="Questions for my doctor")).to_be_visible()
    expect(page.locator(".ask_doctor li").first).to_be_visible()
    # The detail is there, folded, after the summary.
    expect(page.locator("details.detail")).not_to_have_attribute("open", "")
    notice = page.locator("p.notice")
    expect(notice).to_be_visible()
    expect(notice).to_contain_text(re.compile(r"\w{4,}"))
    # Smoking was reported, so it should be named among the things that affect bone healing.
    expect(page.locator("main")).to_contain_text(re.compile("smok|nicotine", re.I))
    mobile.check("6-result")

    with page.expect_download() as info:
        page.get_by_role("button", name="Download PDF for my appointment").click()
    download = info.value
    assert download.suggested_filename.endswith(".pdf")
    saved = SHOTS.parent / "downloads" / "patient-summary.pdf"
    saved.parent.mkdir(parents=True, exist_ok=True)
    download.save_as(saved)
    data = saved.read_bytes()
    assert data.startswith(b"%PDF"), data[:20]
    assert len(data) > 5_000, len(data)


def test_a_wrong_number_is_shown_next_to_its_field_and_answers_are_kept(mobile: Tab) -> None:
    page = start(mobile)
    answer_no_to_emergencies(page)
    next_step(page, STEP_TITLES["surgery"])
    months = page.get_by_label(re.compile("how many months ago", re.I))
    months.fill("abc")
    answer(page, "surgery.region", "Low back")
    page.get_by_role("button", name="Continue").click()

    # Still on the same step, with the error next to the field and in a summary at the top.
    expect(heading(page)).to_have_text(STEP_TITLES["surgery"])
    field = question(page, "surgery.months_since")
    expect(field).to_have_class(re.compile(r"\bhas-error\b"))
    error = field.locator(".error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("Please check")
    expect(months).to_have_value("abc")
    expect(months).to_have_attribute("aria-invalid", "true")
    described = months.get_attribute("aria-describedby") or ""
    assert error.get_attribute("id") in described.split()
    summary = page.locator(".error-summary")
    expect(summary).to_be_visible()
    expect(summary.get_by_role("link")).to_have_attribute("href", "#f-surgery-months_since")
    # The script moves focus to the summary so it is read out first.
    expect(summary).to_be_focused()
    # Other answers on this step and the earlier step are kept.
    expect(
        question(page, "surgery.region").get_by_role("radio", name="Low back", exact=True)
    ).to_be_checked()
    expect(page.locator('input[type="hidden"][name="emergency.new_weakness"]')).to_have_value("no")
    mobile.check("3-step-surgery-error")

    months.fill("8")
    next_step(page, STEP_TITLES["symptoms"])


def test_urgent_questions_can_be_answered_with_the_keyboard_alone(mobile: Tab) -> None:
    page = mobile.page
    page.goto("/check")
    facts = emergency_questions(page)
    # The first Tab lands on the skip link, which then becomes visible.
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    page.keyboard.press("Enter")

    answered: list[str] = []
    for _ in range(60):
        page.keyboard.press("Tab")
        focused = page.evaluate(
            "() => ({tag: document.activeElement.tagName, type: document.activeElement.type,"
            " name: document.activeElement.name, text: document.activeElement.textContent})"
        )
        if focused["type"] == "radio" and focused["name"] not in answered:
            # Tab lands on the first choice (Yes); the arrow key moves to and selects "No".
            page.keyboard.press("ArrowRight")
            checked = page.locator(f'input[name="{focused["name"]}"]:checked')
            expect(checked).to_have_value("no")
            answered.append(focused["name"])
        elif focused["tag"] == "BUTTON" and "Continue" in focused["text"]:
            break
    else:
        raise AssertionError(f"Tab never reached the Continue button; answered {answered}")
    assert answered == facts
    page.keyboard.press("Enter")
    expect(heading(page)).to_have_text(STEP_TITLES["surgery"])
    expect(page.get_by_text("Step 2 of 4")).to_be_visible()


def test_the_self_check_works_without_javascript(no_script: Tab) -> None:
    page = no_script.page
    assert page.evaluate("1 + 1") == 2  # our own probe still runs; the page's scripts do not
    page.goto("/")
    page.get_by_role("link", name="Start the self-check").click()
    expect(heading(page)).to_have_text(STEP_TITLES["emergency"])
    answer_no_to_emergencies(page)
    next_step(page, STEP_TITLES["surgery"])
    page.get_by_label(re.compile("how many months ago", re.I)).fill("8")
    answer(page, "surgery.region", "Low back")
    next_step(page, STEP_TITLES["symptoms"])
    # Without the script, follow-up questions are simply always shown.
    expect(question(page, "signs.worsening_began_month")).to_be_visible()
    answer(page, "signs.mechanical_pain", "Yes")
    answer(page, "signs.improved_then_worse", "Yes")
    no_script.check("4-step-symptoms-nojs")
    next_step(page, STEP_TITLES["health"])
    answer(page, "risk.nicotine", "Yes, now")
    page.get_by_role("button", name="See my result").click()
    title = page.locator("section.triage h1").inner_text().strip()
    assert title in TRIAGE_HEADINGS - {"Get emergency care now"}, title
    expect(page.get_by_role("heading", name="Questions for my doctor")).to_be_visible()
    no_script.check("6-result-nojs")
    with page.expect_download() as info:
        page.get_by_role("button", name="Download PDF for my appointment").click()
    path = info.value.path()
    assert path.read_bytes().startswith(b"%PDF")


def test_back_and_change_my_answers_keep_what_was_entered(mobile: Tab) -> None:
    page = start(mobile)
    answer_no_to_emergencies(page)
    next_step(page, STEP_TITLES["surgery"])
    page.get_by_label(re.compile("how many months ago", re.I)).fill("8")
    answer(page, "surgery.region", "Low back")
    next_step(page, STEP_TITLES["symptoms"])
    answer(page, "signs.mechanical_pain", "Yes")

    page.get_by_role("button", name="Back").click()
    expect(heading(page)).to_have_text(STEP_TITLES["surgery"])
    expect(page.get_by_label(re.compile("how many months ago", re.I))).to_have_value("8")
    region = question(page, "surgery.region").get_by_role("radio", name="Low back", exact=True)
    expect(region).to_be_checked()
    next_step(page, STEP_TITLES["symptoms"])
    yes = question(page, "signs.mechanical_pain").get_by_role("radio", name="Yes", exact=True)
    expect(yes).to_be_checked()
    next_step(page, STEP_TITLES["health"])
    page.get_by_role("button", name="See my result").click()
    expect(page.get_by_role("heading", name="Questions for my doctor")).to_be_visible()

    page.get_by_role("button", name="Change my answers").click()
    expect(heading(page)).to_have_text(STEP_TITLES["emergency"])
    for fact in emergency_questions(page):
        no = question(page, fact).get_by_role("radio", name="No", exact=True)
        expect(no).to_be_checked()
    next_step(page, STEP_TITLES["surgery"])
    expect(page.get_by_label(re.compile("how many months ago", re.I))).to_have_value("8")


def test_the_browsers_back_button_returns_to_each_step_with_its_answers(mobile: Tab) -> None:
    page = start(mobile)
    answer_no_to_emergencies(page)
    next_step(page, STEP_TITLES["surgery"])
    page.get_by_label(re.compile("how many months ago", re.I)).fill("8")
    next_step(page, STEP_TITLES["symptoms"])
    answer(page, "signs.mechanical_pain", "Yes")
    next_step(page, STEP_TITLES["health"])
    page.get_by_role("button", name="See my result").click()
    expect(page.get_by_role("heading", name="Questions for my doctor")).to_be_visible()

    # The browser's own Back button: each step comes back as it was, with no resubmission prompt.
    for title in ("health", "symptoms", "surgery"):
        page.go_back()
        expect(heading(page)).to_have_text(STEP_TITLES[title])
    expect(page.get_by_label(re.compile("how many months ago", re.I))).to_have_value("8")
    page.go_back()
    expect(heading(page)).to_have_text(STEP_TITLES["emergency"])
    no = question(page, emergency_questions(page)[0]).get_by_role("radio", name="No", exact=True)
    expect(no).to_be_checked()
    page.go_forward()
    expect(heading(page)).to_have_text(STEP_TITLES["surgery"])
    mobile.check("back-button-forward")
    assert all(d.startswith("GET ") for d in mobile.documents[-5:]), mobile.documents


def test_a_blank_urgent_step_says_what_is_unanswered_and_not_sure_moves_on(mobile: Tab) -> None:
    page = start(mobile)
    facts = emergency_questions(page)
    answer(page, facts[0], "No")
    page.get_by_role("button", name="Continue").click()
    expect(heading(page)).to_have_text(STEP_TITLES["emergency"])
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("These urgent questions have no answer yet")
    expect(alert).to_contain_text("Not sure")
    expect(alert.get_by_role("link")).to_have_count(len(facts) - 1)
    mobile.check("blank-urgent-step")
    for fact in facts[1:]:
        answer(page, fact, "Not sure")
    # "Not sure" on an emergency question: same-day advice first (decision 0009), then go on.
    next_step(page, "Contact your surgical team today")
    expect(page.get_by_text("You were not sure about")).to_be_visible()
    page.get_by_role("button", name="Continue with the questions").click()
    expect(heading(page)).to_have_text(STEP_TITLES["surgery"])


def test_an_impossible_answer_is_refused_with_its_reason(mobile: Tab) -> None:
    page = start(mobile)
    answer_no_to_emergencies(page)
    next_step(page, STEP_TITLES["surgery"])
    page.get_by_label(re.compile("how many months ago", re.I)).fill("30")
    next_step(page, STEP_TITLES["symptoms"])
    next_step(page, STEP_TITLES["health"])
    question(page, "care.rehab_weeks").locator("input").fill("500")
    page.get_by_role("button", name="See my result").click()
    expect(heading(page)).to_have_text(STEP_TITLES["health"])
    expect(page.get_by_role("alert")).to_contain_text(
        "500 weeks of rehab is longer than the time since surgery (about 130 weeks)"
    )
    mobile.check("impossible-rehab")


def test_saved_answers_download_and_load_back(mobile: Tab) -> None:
    page = start(mobile)
    answer_no_to_emergencies(page)
    next_step(page, STEP_TITLES["surgery"])
    page.get_by_label(re.compile("how many months ago", re.I)).fill("11")
    answer(page, "surgery.region", "Low back")
    next_step(page, STEP_TITLES["symptoms"])
    answer(page, "signs.mechanical_pain", "Yes")
    next_step(page, STEP_TITLES["health"])
    page.get_by_role("button", name="See my result").click()
    with page.expect_download() as info:
        page.get_by_role("button", name="Save my answers to this device").click()
    saved = SHOTS / "my-fusion-answers.json"
    info.value.save_as(saved)

    fresh = mobile.page.context.new_page()
    fresh.goto("/check")
    fresh.get_by_text("Did you save your answers before?").click()
    fresh.get_by_label(re.compile("Your saved answers file")).set_input_files(saved)
    fresh.get_by_role("button", name="Load my answers").click()
    expect(heading(fresh)).to_have_text(STEP_TITLES["emergency"])
    first = emergency_questions(fresh)[0]
    expect(question(fresh, first).get_by_role("radio", name="No", exact=True)).to_be_checked()
    fresh.get_by_role("button", name="Continue").click()
    expect(fresh.get_by_label(re.compile("how many months ago", re.I))).to_have_value("11")
    fresh.get_by_role("button", name="Continue").click()
    yes = question(fresh, "signs.mechanical_pain").get_by_role("radio", name="Yes", exact=True)
    expect(yes).to_be_checked()
    fresh.close()
