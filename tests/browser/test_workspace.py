"""The clinician workspace in a real browser: sign-in, a patient, an evaluation, the report."""

import io
import re
from itertools import count

import pytest
from playwright.sync_api import Page, expect
from pypdf import PdfReader

from tests.browser.conftest import CLINICIAN, PASSWORD, Tab

pytestmark = pytest.mark.browser

PATIENT_NUMBER = count(1)


def sign_in_through_redirect(tab: Tab) -> Page:
    page = tab.page
    page.goto("/patients")
    expect(page).to_have_url(re.compile(r"/login(\?.*)?$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Clinician sign-in")
    tab.check("1-login")
    page.get_by_label("Username").fill(CLINICIAN)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/patients$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Patients")
    expect(page.get_by_role("button", name=f"Sign out {CLINICIAN}")).to_be_visible()
    return page


def add_patient(tab: Tab, name: str) -> int:
    page = tab.page
    tab.check("2-patients")
    page.get_by_label("Name or label").fill(name)
    page.get_by_label(re.compile("^Reference")).fill(f"REF-{name[-3:]}")
    page.get_by_role("button", name="Add patient").click()
    expect(page).to_have_url(re.compile(r"/patients/\d+$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(name)
    tab.check("3-patient-new")
    return int(page.url.rsplit("/", 1)[1])


def evaluate(tab: Tab) -> int:
    """Fill a few fields of a new evaluation, save it, and return the assessment's id."""
    page = tab.page
    page.get_by_role("link", name="New evaluation").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Evaluation")
    tab.check("4-evaluate")
    form = page.locator("form.evaluation")
    form.locator('[data-fact="surgery.months_since"] input').fill("9")
    form.locator('[data-fact="surgery.region"]').get_by_role(
        "radio", name="lumbar", exact=True
    ).check()
    for fact in ("signs.mechanical_pain", "signs.improved_then_worse", "signs.instability"):
        form.locator(f'[data-fact="{fact}"]').get_by_role("radio", name="Yes", exact=True).check()
    for fact in form.locator('[data-fact^="emergency."]').evaluate_all(
        "els => els.map(e => e.dataset.fact)"
    ):
        form.locator(f'[data-fact="{fact}"]').get_by_role("radio", name="No", exact=True).check()
    page.get_by_role("button", name="Assess and save").click()
    expect(page).to_have_url(re.compile(r"/assessments/\d+$"))
    return int(page.url.rsplit("/", 1)[1])


def test_clinician_signs_in_evaluates_a_patient_and_gets_the_report(desktop: Tab) -> None:
    page = sign_in_through_redirect(desktop)
    name = f"Browser Patient {next(PATIENT_NUMBER):03d}"
    patient_id = add_patient(desktop, name)
    expect(page.get_by_text("No assessments yet.")).to_be_visible()
    assessment_id = evaluate(desktop)

    triage = page.locator("section.triage h2")
    expect(triage).to_have_text(re.compile(r"^(Prompt referral|Routine|Emergency|Urgent)$"))
    # Three core signs at nine months, emergencies ruled out: this must not be routine.
    expect(triage).to_have_text("Prompt referral")
    # The note comes first and names the patient; the full assessment waits in a fold.
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"Clinical note: {name}")
    expect(page.locator("details.detail")).not_to_have_attribute("open", "")
    expect(page.get_by_role("heading", name=re.compile("^Nonunion suspicion: "))).to_be_visible()
    expect(page.get_by_role("heading", name="Sources")).to_be_visible()
    sources = page.locator("ol.sources > li")
    expect(sources.first).to_be_visible()
    assert sources.count() >= 2
    expect(page.locator("main")).to_contain_text("Months since fusion: 9")
    desktop.check("5-assessment")

    report = page.get_by_role("link", name="Clinician report (PDF)")
    href = report.get_attribute("href")
    assert href == f"/assessments/{assessment_id}/report.pdf"
    response = page.request.get(href)  # shares the browser's session cookie
    assert response.ok, response.status
    assert response.headers["content-type"] == "application/pdf"
    body = response.body()
    assert body.startswith(b"%PDF"), body[:20]
    assert len(body) > 5_000, len(body)
    first_page = PdfReader(io.BytesIO(body)).pages[0].extract_text()
    assert f"Clinical note: {name}" in first_page
    assert "Plan" in first_page
    # Clicking the link downloads the same report.
    with page.expect_download() as info:
        report.click()
    assert info.value.suggested_filename == f"fusionwatch-assessment-{assessment_id}.pdf"
    assert info.value.path().read_bytes().startswith(b"%PDF")

    # The patient's page and the list now show the saved assessment.
    page.get_by_role("link", name=re.compile(f"^← {name}")).click()
    expect(page).to_have_url(re.compile(f"/patients/{patient_id}$"))
    history = page.locator("table.list tbody tr")
    expect(history).to_have_count(1)
    expect(history.first).to_contain_text("Prompt referral")
    desktop.check("6-patient-assessed")
    page.get_by_role("link", name="Patients", exact=True).click()
    row = page.locator("table.list tbody tr", has_text=name)
    expect(row).to_contain_text("Prompt referral")
    desktop.check("7-patients-list")

    page.get_by_role("link", name="Audit log").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Audit log")
    log = page.locator("table.list tbody")
    expect(log).to_contain_text("create")
    expect(log).to_contain_text(f"assessment {assessment_id}")
    desktop.check("8-audit")

    page.get_by_role("button", name=f"Sign out {CLINICIAN}").click()
    expect(page).to_have_url(re.compile(r"/login$"))
    page.goto("/patients")
    expect(page).to_have_url(re.compile(r"/login(\?.*)?$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Clinician sign-in")
    # The report is no longer reachable either.
    assert page.request.get(href, max_redirects=0).status in {302, 303, 401, 403}


def test_wrong_password_is_refused_with_a_message(desktop: Tab) -> None:
    page = desktop.page
    page.goto("/login")
    page.get_by_label("Username").fill(CLINICIAN)
    page.get_by_label("Password").fill("not-the-right-password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("The username or password is not right")
    expect(page.get_by_label("Username")).to_have_value(CLINICIAN)
    desktop.check("login-refused")
    page.goto("/patients")
    expect(page).to_have_url(re.compile(r"/login(\?.*)?$"))


def test_imaging_and_scores_typed_in_the_browser_carry_forward_unchanged(desktop: Tab) -> None:
    """A real browser: studies and visits through the form, then a new evaluation sent as is."""
    page = sign_in_through_redirect(desktop)
    add_patient(desktop, f"Rows Patient {next(PATIENT_NUMBER):03d}")
    page.get_by_role("link", name="New evaluation").click()
    form = page.locator("form.evaluation")
    form.locator('[data-fact="surgery.months_since"] input').fill("14")
    region = form.locator('[data-fact="surgery.region"]')
    region.get_by_role("radio", name="lumbar", exact=True).check()
    page.get_by_role("button", name="Add another level to study 1").click()
    page.get_by_label("Modality").select_option("ct")
    page.locator("#f-imaging-studies-0-months_since").fill("12")
    page.locator("#f-imaging-studies-0-levels-0-level").fill("L4-L5")
    page.locator("#f-imaging-studies-0-levels-0-bridwell").select_option("III")
    page.locator("#f-imaging-studies-0-levels-0-screw_broken").select_option("no")
    page.locator("#f-imaging-studies-0-levels-1-level").fill("L5-S1")
    page.locator("#f-imaging-studies-0-levels-1-interbody_bridging").select_option("yes")
    page.get_by_role("button", name="Add another score visit").click()
    page.locator("#f-follow_up-0-baseline").check()
    page.locator("#f-follow_up-0-odi").fill("50")
    page.locator("#f-follow_up-1-month").fill("12")
    page.locator("#f-follow_up-1-odi").fill("44")
    desktop.check("rows-1-form")
    page.get_by_role("button", name="Assess and save").click()
    expect(page).to_have_url(re.compile(r"/assessments/\d+$"))
    first = page.locator("main").inner_text()
    assert "Imaging by level" in first  # the note's per-level table, on screen
    # The score trajectories sit in the folded full assessment (report view, decision 0011).
    assert "Recovery over time" in (page.locator("details.detail").text_content() or "")

    page.get_by_role("link", name=re.compile("^← Rows Patient")).click()
    page.get_by_role("link", name="New evaluation").click()
    expect(page.locator("#f-imaging-studies-0-levels-1-level")).to_have_value("L5-S1")
    expect(page.locator("#f-follow_up-1-odi")).to_have_value("44")
    desktop.check("rows-2-carried")
    page.get_by_role("button", name="Assess and save").click()
    expect(page).to_have_url(re.compile(r"/assessments/\d+$"))
    second = page.locator("main").inner_text()
    # The same assessment, apart from the record's own number and time.
    strip = re.compile(r"Assessment \d+|assessments/\d+|\d{4}-\d{2}-\d{2} \d{2}:\d{2}(:\d{2})?")
    assert strip.sub("", second) == strip.sub("", first)


HISTORY = """
surgery:
  operations:
    - {kind: revision, date: 2021-03-15, levels: [L4-L5], reason: nonunion}
    - {kind: extension, date: 2025-10-01, levels: [T10-L4]}
imaging:
  studies:
    - modality: ct
      date: 2026-10-01
      levels: [{level: L4-L5, interbody_bridging: "yes", bridwell: "I"}]
    - modality: flexion_extension
      date: 2026-10-01
      levels: [{level: L5-S1, angle_deg: 11, translation_mm: 3.5}]
"""


@pytest.mark.parametrize("tab_name", ["desktop", "mobile"])
def test_history_and_adjacent_segment_are_shown_apart(
    tab_name: str, request: pytest.FixtureRequest
) -> None:
    tab: Tab = request.getfixturevalue(tab_name)
    page = sign_in_through_redirect(tab)
    add_patient(tab, f"History Patient {next(PATIENT_NUMBER):03d}")
    page.get_by_role("link", name="New evaluation").click()
    form = page.locator("form.evaluation")
    form.locator('[data-fact="surgery.date"] input').fill("2019-04-10")
    form.locator('[data-fact="surgery.region"]').get_by_role("radio", name="thoracolumbar").check()
    form.locator('[data-fact="surgery.levels"] input').fill("L4-L5")
    page.get_by_label("More case data (JSON or YAML)").fill(HISTORY)
    page.get_by_role("button", name="Assess and save").click()
    expect(page).to_have_url(re.compile(r"/assessments/\d+$"))
    main = page.locator("main")
    expect(main).to_contain_text("counted from the last operation at the fused levels")
    expect(main).to_contain_text("extension at T10-L4 (2025-10-01)")
    # The note's imaging table keeps the adjacent segment on its own row, apart from the fusion.
    adjacent = page.get_by_role("cell", name="Next to the fusion (not part of the fusion status)")
    expect(adjacent).to_be_visible()
    expect(page.get_by_role("cell", name=re.compile(r"^L5-S1 below"))).to_be_visible()
    tab.check("9-history-adjacent")
