"""At phone width (360 px) no page scrolls sideways; the checks themselves can fail."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import CLINICIAN, PASSWORD, Tab, assert_accessible

pytestmark = pytest.mark.browser


def test_clinician_pages_fit_a_phone(narrow_clinician: Tab) -> None:
    """Tab.check asserts scrollWidth <= 360 on every page of a phone-sized tab."""
    tab = narrow_clinician
    page = tab.page
    page.goto("/patients")
    tab.check("login")
    page.get_by_label("Username").fill(CLINICIAN)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/patients$"))
    page.get_by_label("Name or label").fill("Narrow Screen Patient with a rather long name")
    page.get_by_role("button", name="Add patient").click()
    expect(page).to_have_url(re.compile(r"/patients/\d+$"))
    tab.check("patient")
    page.get_by_role("link", name="New evaluation").click()
    tab.check("evaluate")
    page.locator('[data-fact="surgery.months_since"] input').fill("14")
    page.locator('[data-fact="signs.focal_pain"]').get_by_role("radio", name="Yes").check()
    page.get_by_role("button", name="Assess and save").click()
    expect(page).to_have_url(re.compile(r"/assessments/\d+$"))
    tab.check("assessment")
    page.get_by_role("link", name=re.compile("^← Narrow Screen Patient")).click()
    tab.check("patient-assessed")
    page.goto("/patients")
    tab.check("patients")
    # The list itself does not scroll sideways either: one block per patient on a phone.
    table = page.locator("table.list")
    assert table.evaluate("t => t.scrollWidth <= t.clientWidth"), "the patient list scrolls"
    expect(table.locator('td[data-label="Latest triage"]').first).to_be_visible()
    page.goto("/audit")
    tab.check("audit")
    page.goto("/patients/999999")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    tab.check("not-found")


def test_evaluation_error_state_is_shown_and_accessible(narrow_clinician: Tab) -> None:
    tab = narrow_clinician
    page = tab.page
    page.goto("/login")
    page.get_by_label("Username").fill(CLINICIAN)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_label("Name or label").fill("Error State Patient")
    page.get_by_role("button", name="Add patient").click()
    page.get_by_role("link", name="New evaluation").click()
    months = page.locator('[data-fact="surgery.months_since"] input')
    months.fill("abc")
    page.get_by_role("button", name="Assess and save").click()
    expect(page.locator(".error-summary")).to_be_visible()
    expect(months).to_have_value("abc")
    expect(months).to_have_attribute("aria-invalid", "true")
    tab.check("evaluate-error")


def _bad_page(page: Page, html: str) -> None:
    page.set_content(f'<!doctype html><html lang="en"><head><title>t</title></head><body>{html}')


def test_the_page_checks_catch_known_problems(mobile: Tab) -> None:
    """Guards against a checker that silently passes everything."""
    page = mobile.page
    _bad_page(page, '<main><input type="text"><p style="color:#ccc">faint</p></main>')
    with pytest.raises(AssertionError, match="label"):
        assert_accessible(page, "self-test-bad-form")
    _bad_page(page, '<main><div style="width:900px">too wide</div></main>')
    with pytest.raises(AssertionError, match="scrolls sideways"):
        mobile.check("self-test-too-wide", axe=False)
