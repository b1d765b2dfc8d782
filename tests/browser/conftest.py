"""Browser tests: Debian's Chromium, driven by Playwright, against a real server on a free port.

The app is served by werkzeug in a thread for the whole session, on ``http://localhost:<port>``:
``localhost`` (not 127.0.0.1) because WebAuthn refuses IP addresses, and BASE_URL says the same
origin so passkeys are bound to the relying party ID "localhost". CSRF protection stays on: the
browser goes through the real forms. Each test gets a fresh browser context (pytest-playwright's
``context`` and ``page`` fixtures), so no cookie or service worker leaks from one test to the next.
"""

from __future__ import annotations

import itertools
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask_migrate import upgrade
from playwright.sync_api import BrowserContext, CDPSession, ConsoleMessage, Page, expect
from support.apps import make_app
from werkzeug.serving import BaseWSGIServer, make_server

from app.extensions import db

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_MISSING = (
    f"Chromium not found at {CHROMIUM}: install it with `apt-get update && apt-get install -y chromium` "
    "to run the browser tests"
)
# We run as root in containers (no sandbox then), with no GPU, and the networking flags stop
# Chromium from calling Google's services, which only fill the log with refused connections.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 10_000

# In production the live pages ask for the partner's changes every 5 seconds; here every PROBE_MS,
# and each change must arrive well within LIVE_MS.
PROBE_MS = 300
LIVE_MS = 10_000
# Set on the window once the page is open: still there at the end means nothing reloaded the page.
MARK_LOADED = "window.__openedOnce = true"
STILL_LOADED = "window.__openedOnce === true"
PROBE_SETTINGS = ("GROUND_RULES_PROBE_MS", "LIVE_PROBE_MS")
# Assertions wait as long as actions do: a loaded CI machine is slower than a quiet laptop.
expect.set_options(timeout=TIMEOUT_MS)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Without Chromium the browser tests are skipped with a hint, except in CI, where they must run."""
    if item.get_closest_marker("browser") is None or os.path.exists(CHROMIUM):
        return
    if os.environ.get("CI"):
        pytest.fail(f"CI is set, so the browser tests may not be skipped. {CHROMIUM_MISSING}", pytrace=False)
    pytest.skip(CHROMIUM_MISSING)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Under pytest-xdist (``--dist loadgroup``) every browser test runs on one worker, one after
    another: one Chromium and one live server, while the other workers take the rest of the suite.
    Two Chromiums at once on a small machine only slow each other (and every other test) down."""
    for item in items:
        if item.get_closest_marker("browser") is not None:
            item.add_marker(pytest.mark.xdist_group("browser"))


@pytest.fixture(scope="session")
def browser_type_launch_args() -> dict:
    """Replaces pytest-playwright's: Debian's Chromium instead of a downloaded one."""
    return {"executable_path": CHROMIUM, "headless": True, "args": CHROMIUM_ARGS}


# --- The live server -------------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    id: int
    name: str
    email: str


@dataclass(frozen=True)
class PairInfo:
    id: int
    mentor: Person
    mentee: Person

    @property
    def url(self) -> str:
        return f"/pairs/{self.id}"


class LiveServer:
    """The running app, and the few ways tests put data into it (as the CLI would)."""

    _numbers = itertools.count(1)

    def __init__(self, app: Flask, url: str) -> None:
        self.app = app
        self.url = url

    def create_user(self, name: str) -> Person:
        from app.models import User

        with self.app.app_context():
            user = User(name=name, email=f"browser{next(self._numbers)}@example.org")
            db.session.add(user)
            db.session.commit()
            return Person(user.id, user.name, user.email)

    def create_pair(self, mentor: str = "Maya Okafor", mentee: str = "Harold Finch") -> PairInfo:
        """A program with one pair: ``mentor`` and ``mentee`` are the two people's names."""
        from app.models import Pair, Program, User

        with self.app.app_context():
            n = next(self._numbers)
            program = Program(
                name=f"Browser cohort {n}",
                starts_on=date.today() - timedelta(days=7),
                ends_on=date.today() + timedelta(days=90),
            )
            people = [
                User(name=name, email=f"browser{n}-{role}@example.org")
                for role, name in (("mentor", mentor), ("mentee", mentee))
            ]
            pair = Pair.create(program, mentor=people[0], mentee=people[1])
            db.session.add(pair)
            db.session.commit()
            return PairInfo(pair.id, *(Person(u.id, u.name, u.email) for u in people))

    def sign_in_url(self, person: Person) -> str:
        """A fresh one-time sign-in link, as `flask login-link` prints it."""
        from app.auth import links
        from app.models import User

        with self.app.app_context():
            url = links.issue(db.session.get(User, person.id))
            db.session.commit()
            return url


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    # Bind first (port 0: the system picks a free one), then build the app for that exact origin.
    server: BaseWSGIServer = make_server("localhost", 0, _not_ready, threaded=True)
    url = f"http://localhost:{server.server_port}"
    # Always a fresh SQLite file, even when TEST_DATABASE_URL points the rest of the suite at
    # PostgreSQL: this server commits for real from its own threads, whereas the other tests share
    # that database through one connection and roll each test back. Writing to it from here would
    # leave rows behind for them (and a second connection could wait on their open transaction).
    database = Path(tmp_path_factory.mktemp("browser-db")) / "twoway-browser.sqlite3"
    app = make_app(f"sqlite:///{database}", environ={"BASE_URL": url}, TESTING=False, WTF_CSRF_ENABLED=True)
    with app.app_context():
        upgrade()
    server.app = app
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(app, url)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
        with app.app_context():
            db.engine.dispose()


def _not_ready(_environ, start_response):
    start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
    return [b"The test app is not built yet."]


@pytest.fixture
def quick_probes(live_server: LiveServer) -> Iterator[None]:
    """The probe intervals are settings rendered into the pages: short here, so nothing waits 5 s."""
    before = {key: live_server.app.config[key] for key in PROBE_SETTINGS}
    live_server.app.config.update(dict.fromkeys(PROBE_SETTINGS, PROBE_MS))
    yield
    live_server.app.config.update(before)


@pytest.fixture(scope="session")
def base_url(live_server: LiveServer) -> str:
    """pytest-playwright gives every context this base URL, so tests can `page.goto("/auth/sign-in")`."""
    return live_server.url


# --- Per test ----------------------------------------------------------------------------------

# Violations of the Content-Security-Policy are reported to the console, but only as text; this
# makes each one an unmistakable console error, whatever Chromium's wording.
REPORT_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  console.error(`CSP violation: ${event.violatedDirective} blocked ${event.blockedURI || "inline code"} in ${event.sourceFile || event.documentURI}:${event.lineNumber}`);
});
"""


@pytest.fixture
def context(context: BrowserContext) -> BrowserContext:
    context.set_default_timeout(TIMEOUT_MS)
    context.add_init_script(REPORT_CSP_VIOLATIONS)
    return context


@pytest.fixture
def page_errors(page: Page) -> list[str]:
    """Console errors (CSP violations included) and uncaught exceptions on ``page``, as text."""
    return collect_page_errors(page)


def collect_page_errors(page: Page) -> list[str]:
    """A list that fills with ``page``'s console errors and uncaught exceptions from now on."""
    errors: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(f"console: {message.text} (at {message.location.get('url') or page.url})")

    page.on("console", on_console)
    page.on("pageerror", lambda error: errors.append(f"uncaught: {error}"))
    return errors


# An iPhone 12 to 15's screen, in CSS pixels.
PHONE_VIEWPORT = {"width": 390, "height": 844}


@dataclass(frozen=True)
class Phone:
    """One person's own browser (own cookies), signed in; ``errors`` as ``page_errors`` gives them."""

    person: Person
    page: Page
    errors: list[str]


@pytest.fixture
def phone(new_context: Callable[..., BrowserContext], live_server: LiveServer) -> Callable[[Person], Phone]:
    """``phone(person)`` opens a separate phone-sized browser context with ``person`` signed in
    through a one-time sign-in link, for tests where two people use Twoway at the same time.
    Keyword arguments go to the context (``timezone_id="Europe/Berlin"``, say)."""

    def open_phone(person: Person, **options) -> Phone:
        context = new_context(viewport=PHONE_VIEWPORT, **options)
        context.set_default_timeout(TIMEOUT_MS)
        context.add_init_script(REPORT_CSP_VIOLATIONS)
        page = context.new_page()
        errors = collect_page_errors(page)
        page.goto(live_server.sign_in_url(person))
        page.get_by_role("button", name=f"Continue as {person.name}").click()
        expect(page.get_by_role("heading", name=f"Welcome, {person.name.split()[0]}")).to_be_visible()
        return Phone(person, page, errors)

    return open_phone


@dataclass(frozen=True)
class VirtualAuthenticator:
    """DevTools' virtual platform authenticator, attached to one page through ``cdp``."""

    cdp: CDPSession
    id: str

    def credentials(self) -> list[dict]:
        """The passkeys it holds, private keys included (``WebAuthn.getCredentials``)."""
        return self.cdp.send("WebAuthn.getCredentials", {"authenticatorId": self.id})["credentials"]

    def add_credential(self, credential: dict) -> None:
        self.cdp.send("WebAuthn.addCredential", {"authenticatorId": self.id, "credential": credential})

    def remove(self) -> None:
        """Take it away, as if the person put their phone down."""
        self.cdp.send("WebAuthn.removeVirtualAuthenticator", {"authenticatorId": self.id})


def _add_virtual_authenticator(page: Page) -> VirtualAuthenticator:
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    result = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    return VirtualAuthenticator(cdp, result["authenticatorId"])


@pytest.fixture
def attach_authenticator() -> Callable[[Page], VirtualAuthenticator]:
    """``attach_authenticator(page)`` gives ``page`` a virtual platform authenticator that creates
    and uses passkeys and verifies the person without any prompt, like a phone whose screen lock
    was just passed. It stays attached across navigations in that page."""
    return _add_virtual_authenticator
