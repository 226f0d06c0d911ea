"""The team administration page in a real browser: at phone and desktop width, by keyboard."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import COLLEAGUE, Tab, sign_in

pytestmark = pytest.mark.browser


def test_an_administrator_changes_a_role_with_the_keyboard_alone(desktop: Tab) -> None:
    page = desktop.page
    sign_in(desktop)
    page.get_by_role("link", name="Team administration").click()
    expect(page).to_have_url(re.compile(r"/teams/\d+/admin$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Administration: browser-team")
    expect(page.get_by_role("heading", name=COLLEAGUE)).to_be_visible()
    expect(page.get_by_role("cell", name="ehr-bridge", exact=False)).to_be_visible()
    desktop.check("admin-1-page")
    # Keyboard only: Tab to the colleague's role, choose "Read only", Tab to its button, Enter.
    select = page.get_by_label(f"Role of {COLLEAGUE}")
    for _ in range(60):
        page.keyboard.press("Tab")
        if select.evaluate("e => e === document.activeElement"):
            break
    expect(select).to_be_focused()
    select.select_option("read_only")  # the value a keyboard user reaches with the arrow keys
    page.keyboard.press("Tab")
    button = page.get_by_role("button", name=f"Change role of {COLLEAGUE}")
    expect(button).to_be_focused()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/admin\?done=role$"))
    expect(page.get_by_role("status")).to_have_text("The role was changed.")
    expect(page.get_by_label(f"Role of {COLLEAGUE}")).to_have_value("read_only")
    desktop.check("admin-2-changed")
    # Put the colleague back for the other tests of this session.
    page.get_by_label(f"Role of {COLLEAGUE}").select_option("clinician")
    page.get_by_role("button", name=f"Change role of {COLLEAGUE}").click()
    expect(page.get_by_label(f"Role of {COLLEAGUE}")).to_have_value("clinician")


def test_the_administration_page_fits_a_phone(narrow_clinician: Tab) -> None:
    page = narrow_clinician.page
    sign_in(narrow_clinician, "/admin")
    expect(page.get_by_role("heading", level=1)).to_have_text("Administration: browser-team")
    narrow_clinician.check("admin-narrow")
    # A refused change says so, in an alert, and the page still fits.
    page.get_by_role("button", name="Add member").click()  # required field: the browser stops it
    page.get_by_label("Username").fill("nobody-here")
    page.get_by_role("button", name="Add member").click()
    expect(page.get_by_role("alert")).to_contain_text("no account with that username")
    narrow_clinician.check("admin-narrow-refused")
