"""Break the glass in a real browser, at phone and desktop width: from the EHR link's 404 to
the form, a refused blank reason, the patient with the banner, and the administrators' view."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import (
    CLINICIAN,
    GLASS_PATIENT,
    GLASS_REFERENCE,
    PASSWORD,
    VISITOR,
    Tab,
    sign_in,
)

pytestmark = pytest.mark.browser
REASON = "Seen in the emergency department; the patient's own team cannot be reached tonight."


def _visitor(tab: Tab) -> None:
    page = tab.page
    page.goto("/login")
    page.get_by_label("Username").fill(VISITOR)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/patients$"))


@pytest.mark.parametrize("width", ["narrow", "desktop"])
def test_a_clinician_of_another_team_breaks_the_glass(
    width: str, narrow_clinician: Tab, desktop: Tab
) -> None:
    tab = narrow_clinician if width == "narrow" else desktop
    page = tab.page
    _visitor(tab)
    page.goto(f"/patients?fhir_patient={GLASS_REFERENCE}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Patients")
    # 404, as for a reference nobody has (an access from an earlier run shows in the banner).
    expect(page.locator(".warning-box")).to_contain_text("No patient has the reference")
    tab.check("glass-1-ehr-link-404")
    page.get_by_role("link", name="ask for emergency access").click()
    expect(page.get_by_label("Patient reference (MRN)")).to_have_value(GLASS_REFERENCE)
    tab.check("glass-2-form")
    page.get_by_label("Kind of reason").select_option("emergency")
    page.get_by_label("Reason", exact=True).fill("   ")
    page.get_by_role("button", name="Record the reason and open the patient").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Reason: Give the reason for emergency access: it is required.")
    expect(page.get_by_label("Reason", exact=True)).to_have_attribute("aria-invalid", "true")
    tab.check("glass-3-blank-reason")
    page.get_by_label("Reason", exact=True).fill(REASON)
    page.get_by_role("button", name="Record the reason and open the patient").click()
    expect(page).to_have_url(re.compile(r"/patients/\d+$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(GLASS_PATIENT)
    banner = page.locator(".glass-banner")
    expect(banner).to_contain_text("Emergency access (break the glass) is on")
    expect(banner).to_contain_text("Read only.")
    expect(page.get_by_role("link", name="New evaluation")).to_have_count(0)
    tab.check("glass-4-banner")


def test_the_patients_team_administrators_see_the_glass_broken(desktop: Tab) -> None:
    page = desktop.page
    _visitor(desktop)
    page.goto(f"/break-glass?reference={GLASS_REFERENCE}")
    page.get_by_label("Kind of reason").select_option("on_call")
    page.get_by_label("Reason", exact=True).fill(REASON)
    page.get_by_role("button", name="Record the reason and open the patient").click()
    expect(page).to_have_url(re.compile(r"/patients/\d+$"))
    page.context.clear_cookies()
    sign_in(desktop, "/admin")
    section = page.locator("ul.glass-events li").first
    expect(section).to_contain_text(VISITOR)
    expect(section).to_contain_text(REASON)
    expect(section).to_contain_text("access lasts until")
    desktop.check("glass-5-admin")
    assert CLINICIAN in page.locator("header").inner_text()
