"""Real-browser fixtures: a live server on a temporary SQLite file, headless Chromium, page checks.

Every page a flow visits goes through `Tab.check`: a full-page screenshot in
artefacts/screenshots/, an axe-core scan that fails on serious or critical violations, no
horizontal scrolling at phone width, and no errors in the browser console (such as a blocked
script or style under the content security policy).
"""

import json
import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import uvicorn
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Playwright,
    Request,
    Response,
    ViewportSize,
    sync_playwright,
)

from fusionwatch.core.compiled import Knowledge
from fusionwatch.settings import Settings
from fusionwatch.store import accounts, records, teams
from fusionwatch.store.access import Role, Scope
from fusionwatch.store.database import Database
from fusionwatch.web.app import create_app
from fusionwatch.web.context import utc_now

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "artefacts" / "screenshots"
AXE = ROOT / "artefacts" / "axe"
CLINICIAN = "dr-browser"
COLLEAGUE = "dr-colleague"
# A clinician of another team, and a patient of browser-team they may open only by breaking
# the glass (tests/browser/test_break_glass.py).
VISITOR = "dr-visitor"
GLASS_PATIENT, GLASS_REFERENCE = "Synthetic Glasspatient", "BT-GLASS-0001"
PASSWORD = "a-long-browser-test-password"
MOBILE: ViewportSize = {"width": 360, "height": 800}
DESKTOP: ViewportSize = {"width": 1280, "height": 900}
BLOCKING_IMPACTS = {"serious", "critical"}
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str | None:
    configured = os.environ.get("FUSIONWATCH_CHROMIUM")
    if configured:
        return configured if Path(configured).is_file() else None
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").is_file() else None


# --- the live server -----------------------------------------------------------------------


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory, kb: Knowledge) -> Iterator[str]:
    """The real app under uvicorn in a background thread; yields its base URL."""
    path = tmp_path_factory.mktemp("browser") / "fusionwatch.sqlite3"
    db = Database(f"sqlite:///{path}")
    db.migrate()
    with db.session() as s:
        accounts.add_user(s, CLINICIAN, PASSWORD, utc_now())
        teams.add_team(s, "browser-team", utc_now())
        teams.set_member(s, "browser-team", CLINICIAN, Role.ADMINISTRATOR)
        # A colleague with an API token, for the team administration page.
        accounts.add_user(s, COLLEAGUE, PASSWORD, utc_now())
        teams.set_member(s, "browser-team", COLLEAGUE, Role.CLINICIAN)
        accounts.create_token(
            s,
            username=COLLEAGUE,
            name="ehr-bridge",
            scopes=frozenset({Scope.READ}),
            now=utc_now(),
            expires_at=None,
        )
        accounts.add_user(s, VISITOR, PASSWORD, utc_now())
        teams.add_team(s, "visiting-team", utc_now())
        teams.set_member(s, "visiting-team", VISITOR, Role.CLINICIAN)
        home = teams.team_named(s, "browser-team")
        assert home is not None
        records.add_patient(
            s,
            display_name=GLASS_PATIENT,
            reference=GLASS_REFERENCE,
            user_id=accounts.user_named(s, CLINICIAN).id,
            now=utc_now(),
            team_id=home.id,
        )
    app = create_app(Settings(database_url=db.url), db=db, kb=kb)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", ws="none", lifespan="off"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
        db.close()


# --- the browser ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    executable = chromium_path()
    if executable is None:
        message = (
            "Chromium is not installed, so the browser tests cannot run. Install it with "
            "`apt-get install -y --no-install-recommends chromium` (or `make test`), or point "
            "FUSIONWATCH_CHROMIUM at a Chromium binary."
        )
        if os.environ.get("CI"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


def _context(
    browser: Browser, base_url: str, viewport: ViewportSize, *, javascript: bool = True
) -> BrowserContext:
    return browser.new_context(
        base_url=base_url,
        viewport=viewport,
        accept_downloads=True,
        java_script_enabled=javascript,
        locale="en-GB",
    )


class Tab:
    """One browser page; checks and photographs every page a test visits, keeps console errors."""

    def __init__(self, page: Page, prefix: str, *, javascript: bool = True) -> None:
        self.page = page
        self.prefix = prefix
        # axe-core needs timers and promises, which never run in a page with scripts disabled;
        # those pages are scanned in the tests that have JavaScript on.
        self.javascript = javascript
        self.console_errors: list[str] = []
        self.visited: list[str] = []
        self.documents: list[str] = []
        page.on("console", self._console)
        page.on("request", self._request)
        page.on("response", self._response)
        page.on("pageerror", lambda err: self.console_errors.append(f"page error: {err}"))

    def _console(self, message: ConsoleMessage) -> None:
        # Failed loads are judged in _response: a 422 page for a form error is intended.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.console_errors.append(f"{message.text} ({message.location.get('url', '')})")

    def _response(self, response: Response) -> None:
        request = response.request
        # The app has no favicon; the browser's automatic request for it is not a page error.
        if (
            response.status >= 400
            and request.resource_type != "document"
            and not request.url.endswith("/favicon.ico")
        ):
            self.console_errors.append(
                f"{response.status} for {request.resource_type} {request.url}"
            )

    def _request(self, request: Request) -> None:
        # The pages the browser loaded, in order, as "METHOD /path".
        if request.is_navigation_request() and request.frame == self.page.main_frame:
            self.documents.append(f"{request.method} {urlsplit(request.url).path}")

    def check(self, name: str, *, axe: bool = True) -> None:
        page = self.page
        page.wait_for_load_state("load")
        self.visited.append(name)
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{self.prefix}-{name}.png"), full_page=True)
        # The first screen alone: what a person sees before scrolling.
        page.screenshot(path=str(SHOTS / f"{self.prefix}-{name}.first-screen.png"))
        viewport = page.viewport_size
        if viewport and viewport["width"] <= MOBILE["width"]:
            assert_no_horizontal_scroll(page, name)
        if axe and self.javascript:
            assert_accessible(page, f"{self.prefix}-{name}")
        assert not self.console_errors, f"{name}: browser console errors: {self.console_errors}"


def assert_no_horizontal_scroll(page: Page, name: str) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    client = page.evaluate("document.documentElement.clientWidth")
    if width > client:
        wide = page.evaluate(
            """(limit) => Array.from(document.querySelectorAll('body *'))
                .filter(e => e.getBoundingClientRect().right > limit + 1)
                .slice(0, 8)
                .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
                     + (e.className && typeof e.className === 'string'
                        ? '.' + e.className.trim().split(/\\s+/).join('.') : ''))""",
            client,
        )
        raise AssertionError(
            f"{name}: page scrolls sideways at {client}px (content is {width}px wide); "
            f"too wide: {wide}"
        )


def assert_accessible(page: Page, name: str) -> None:
    results = Axe().run(page)
    assert results.response.get("testEngine", {}).get("name") == "axe-core", "axe did not run"
    violations = results.response["violations"]
    # Every finding, minor ones included, is kept for review next to the screenshots.
    AXE.mkdir(parents=True, exist_ok=True)
    (AXE / f"{name}.json").write_text(json.dumps(violations, indent=2))
    blocking = [v for v in violations if v.get("impact") in BLOCKING_IMPACTS]
    if blocking:
        lines = [f"{name}: {len(blocking)} serious/critical accessibility violation(s):"]
        for v in blocking:
            targets = [", ".join(n["target"]) for n in v["nodes"][:6]]
            lines.append(f"  [{v['impact']}] {v['id']}: {v['help']} ({v['helpUrl']})")
            lines.extend(f"      at {t}" for t in targets)
        raise AssertionError("\n".join(lines))


def _tab(context: BrowserContext, prefix: str, *, javascript: bool = True) -> Tab:
    return Tab(context.new_page(), prefix, javascript=javascript)


@pytest.fixture
def mobile(browser: Browser, live_server: str, request: pytest.FixtureRequest) -> Iterator[Tab]:
    """A phone-sized page, as a patient would use it."""
    context = _context(browser, live_server, MOBILE)
    yield _tab(context, f"patient-{request.node.name}")
    context.close()


@pytest.fixture
def desktop(browser: Browser, live_server: str, request: pytest.FixtureRequest) -> Iterator[Tab]:
    """A desktop-sized page, as a clinician would use it."""
    context = _context(browser, live_server, DESKTOP)
    yield _tab(context, f"clinician-{request.node.name}")
    context.close()


@pytest.fixture
def no_script(browser: Browser, live_server: str, request: pytest.FixtureRequest) -> Iterator[Tab]:
    """A phone-sized page with JavaScript switched off."""
    context = _context(browser, live_server, MOBILE, javascript=False)
    yield _tab(context, f"patient-{request.node.name}", javascript=False)
    context.close()


@pytest.fixture
def narrow_clinician(
    browser: Browser, live_server: str, request: pytest.FixtureRequest
) -> Iterator[Tab]:
    """A phone-sized page for the clinician pages (for the layout check)."""
    context = _context(browser, live_server, MOBILE)
    yield _tab(context, f"narrow-{request.node.name}")
    context.close()


def sign_in(tab: Tab, next_path: str = "/patients") -> None:
    page = tab.page
    page.goto(f"/login?next={next_path}")
    page.get_by_label("Username").fill(CLINICIAN)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"**{next_path}")
