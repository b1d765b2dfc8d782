"""How the main pages look to a person on a small phone, in light and in dark mode: axe-core finds
no accessibility violation, no page is wider than the screen, and every control is big enough to
tap; Lighthouse's mobile audit scores accessibility and best practices 1.0. The pages are the demo's
(``app.demo``), so they carry believable text in every state."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from app.extensions import db

from .conftest import CHROMIUM
from .test_phone_layout import CUT_WORDS

pytestmark = pytest.mark.browser

SMALL_PHONE = {"width": 360, "height": 740}
# WCAG 2.2's enhanced target size (2.5.5): 44 by 44 CSS pixels.
TARGET = 44


@dataclass(frozen=True)
class Person:
    id: int
    name: str


@dataclass(frozen=True)
class Demo:
    """The demo program: its admin, and people in pairs whose ground rules are in each state."""

    program_id: int
    join_token: str
    admin: Person
    agreed: tuple[int, Person]  # (pair id, its mentee): agreed, with a journal, goals, a next meeting
    one: tuple[int, Person]  # the mentor has agreed, the mentee not yet
    draft: tuple[int, Person]  # only just begun: nothing agreed, no meeting yet
    changed: tuple[int, Person]  # agreed, then the mentor changed a clause
    meeting_id: int  # one of the first pair's meetings


@pytest.fixture(scope="module")
def demo(live_server) -> Demo:
    from app import demo as demo_data
    from app.ground_rules import agreement
    from app.models import Meeting, Role

    with live_server.app.app_context():
        admin, pairs = demo_data.create_program(4, suffix=secrets.token_hex(2))
        db.session.flush()
        fourth = pairs[3]
        clause = agreement.clauses(fourth.id)[0]
        agreement.save(fourth.member(Role.MENTOR), clause, clause.version, {"body": "Every other Tuesday, at 8:30."})
        db.session.commit()
        meeting_id = db.session.scalar(db.select(Meeting.id).filter_by(pair_id=pairs[0].id).limit(1))
        assert meeting_id is not None

        def mentee(pair) -> tuple[int, Person]:
            user = pair.member(Role.MENTEE).user
            return pair.id, Person(user.id, user.name)

        found = Demo(
            program_id=pairs[0].program_id,
            join_token=pairs[0].program.join_token,
            admin=Person(admin.id, admin.name),
            agreed=mentee(pairs[0]),
            one=mentee(pairs[1]),
            draft=mentee(pairs[2]),
            changed=mentee(pairs[3]),
            meeting_id=meeting_id,
        )
        return found


def pages_of(demo: Demo) -> dict[str, list[str]]:
    """Who opens which pages (None: signed out)."""
    pair, _ = demo.agreed
    p = f"/pairs/{pair}"
    program = f"/admin/programs/{demo.program_id}"
    return {
        "agreed": [
            p,
            f"{p}/ground-rules",
            f"{p}/ground-rules/history",
            f"{p}/ground-rules/print",
            f"{p}/goals",
            f"{p}/goals/history",
            f"{p}/journal",
            f"{p}/journal/new",
            f"{p}/journal/meetings/{demo.meeting_id}",
            f"{p}/journal/meetings/{demo.meeting_id}/edit",
            f"{p}/journal/actions",
            f"{p}/journal/search?q=team",
            f"{p}/next-meeting",
            f"{p}/feedback",
            f"{p}/program",
            f"{p}/close",
            "/",
            "/account/passkeys",
            "/account/recovery-codes",
            "/account/time-zone",
            "/account/notifications",
            "/account/delete",
        ],
        "one": [f"/pairs/{demo.one[0]}", f"/pairs/{demo.one[0]}/ground-rules"],
        "draft": [f"/pairs/{demo.draft[0]}", f"/pairs/{demo.draft[0]}/ground-rules", f"/pairs/{demo.draft[0]}/journal"],
        "changed": [f"/pairs/{demo.changed[0]}/ground-rules"],
        "admin": [
            "/admin",
            f"{program}/dashboard",
            f"{program}/participants",
            f"{program}/pairs",
            f"{program}/settings",
            f"{program}/matching",
            f"{program}/log",
            f"{program}/help",
            f"{program}/admins",
            f"{program}/ending",
            "/admin/programs/new",
        ],
        "nobody": ["/auth/sign-in", "/auth/recovery", f"/join/{demo.join_token}", "/offline"],
    }


@pytest.fixture
def walk(new_context, live_server, demo) -> Iterator:
    """``walk(color_scheme)`` yields (page, url) for every page of ``pages_of``, each person in a
    small phone's browser of their own, signed in through a one-time link."""

    def visits(color_scheme: str) -> Iterator[tuple[Page, str]]:
        people = {"agreed": demo.agreed[1], "one": demo.one[1], "draft": demo.draft[1], "changed": demo.changed[1]}
        people["admin"] = demo.admin
        for who, urls in pages_of(demo).items():
            context = new_context(viewport=SMALL_PHONE, color_scheme=color_scheme)
            page = context.new_page()
            if who != "nobody":
                person = people[who]
                page.goto(live_server.sign_in_url(person))
                page.get_by_role("button", name=f"Continue as {person.name}").click()
                expect(page.get_by_role("heading", name=f"Welcome, {person.name.split()[0]}")).to_be_visible()
            for url in urls:
                response = page.goto(url)
                assert response is not None and response.ok, f"{url} answered {response and response.status}"
                page.wait_for_load_state("load")
                yield page, url
            context.close()

    return visits


# The page's background, as a lightness from 0 (black) to 1 (white): the body's, else the root's.
PAGE_LIGHTNESS = """() => {
  const painted = [document.body, document.documentElement].map((e) => getComputedStyle(e).backgroundColor)
    .find((colour) => !/rgba\\(.*, 0\\)$|transparent/.test(colour));
  const [r, g, b] = painted.match(/[\\d.]+/g).map(Number);
  return (r + g + b) / 765;
}"""


@pytest.mark.parametrize("color_scheme", ["light", "dark"])
def test_axe_finds_no_violation_on_the_main_pages(walk, color_scheme):
    axe = Axe()
    found, wrong_scheme = {}, {}
    for page, url in walk(color_scheme):
        # Transitions finish before axe reads colours.
        page.evaluate("document.getAnimations().forEach((a) => a.finish())")
        # The page follows the scheme: a dark page in dark mode, a light one otherwise.
        if (page.evaluate(PAGE_LIGHTNESS) < 0.5) != (color_scheme == "dark"):
            wrong_scheme[url] = page.evaluate("getComputedStyle(document.body).backgroundColor")
        results = axe.run(page)
        if results.violations_count:
            found[url] = results.generate_report()
    assert not wrong_scheme, f"not in the {color_scheme} scheme: {wrong_scheme}"
    assert not found, "\n\n".join(f"{url}:\n{report}" for url, report in found.items())


# Every link, button, field and summary a person can see that is smaller than TARGET either way.
# A checkbox or radio counts with its label, which takes the tap for it. A link inside a sentence
# (its line holds words besides the links and buttons in it) is WCAG 2.2's inline exception: its
# height is the line's. Markdown a person wrote (a clause, a note) is such text too.
SMALL_TARGETS = """(target) => {
  const interactive = 'a[href], button, input:not([type=hidden]), select, textarea, summary, [role=button]';
  const blockOf = (element) => {
    let block = element.parentElement;
    while (block && getComputedStyle(block).display.startsWith('inline')) block = block.parentElement;
    return block;
  };
  const inSentence = (element) => {
    if (getComputedStyle(element).display !== 'inline') return false;
    const block = blockOf(element).cloneNode(true);
    block.querySelectorAll(interactive).forEach((other) => other.remove());
    return (block.textContent.match(/\\p{L}{2,}/gu) || []).length >= 2;
  };
  const small = [];
  for (const element of document.querySelectorAll(interactive)) {
    if (element.closest('.clause-body, .goal-prose, .notes, .reflection-body, .help-message')) continue;
    if (getComputedStyle(element).visibility === 'hidden') continue;
    const box = element.getBoundingClientRect();
    if (box.width === 0 && box.height === 0) continue;
    if (box.right <= 0) continue;  // the skip link, off screen until it has focus
    const big = (b) => b.width >= target - 0.5 && b.height >= target - 0.5;
    const labels = [...(element.labels || [])].map((label) => label.getBoundingClientRect());
    if (!big(box) && !labels.some(big) && !inSentence(element)) {
      const name = (element.getAttribute('aria-label') || element.textContent || element.name || '').trim().slice(0, 40);
      small.push(`${element.tagName.toLowerCase()} "${name}" ${Math.round(box.width)}x${Math.round(box.height)}`);
    }
  }
  return small;
}"""

# Every panel opened, so a closed one (the CSV import, a clause's menu) is measured too.
OPEN_ALL = "document.querySelectorAll('main details').forEach((d) => { d.open = true; })"


def test_the_main_pages_fit_a_small_phone_and_every_target_is_thumb_sized(walk):
    wide, small = {}, {}
    cut = {}
    for page, url in walk("light"):
        page.evaluate(OPEN_ALL)
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > SMALL_PHONE["width"]:
            wide[url] = width
        if targets := page.evaluate(SMALL_TARGETS, TARGET):
            small[url] = targets
        if words := page.evaluate(CUT_WORDS):
            cut[url] = words
    assert not wide, f"wider than {SMALL_PHONE['width']} px: {wide}"
    assert not cut, f"words cut between letters in a table: {cut}"
    assert not small, "smaller than 44x44 px:\n" + "\n".join(f"{url}: {t}" for url, t in small.items())


# --- Lighthouse --------------------------------------------------------------------------------
# Lighthouse's mobile audit of a few pages, signed in: accessibility and best practices at 1.0.
# Lighthouse is the npm package pinned in tests/lighthouse (``npm ci`` there, as the Makefile's
# ``test`` does); it drives the same Debian Chromium as the other browser tests. Without
# tests/lighthouse/node_modules the test is skipped, except in CI, where it must run.

LIGHTHOUSE = Path(__file__).parent.parent / "lighthouse" / "node_modules" / ".bin" / "lighthouse"
CATEGORIES = ("accessibility", "best-practices")
# One Lighthouse run is a fresh Chromium and a throttled mobile load of the page: about 25 s here.
RUN_TIMEOUT_S = 120


def lighthouse_pages(demo: Demo) -> list[str]:
    pair = f"/pairs/{demo.agreed[0]}"
    return [pair, f"{pair}/ground-rules", f"{pair}/journal/new", f"{pair}/feedback"]


@pytest.fixture
def session_cookie(new_context, live_server, demo) -> str:
    """The ``Cookie`` header of the first pair's mentee, signed in through a one-time link."""
    context = new_context()
    page = context.new_page()
    person = demo.agreed[1]
    page.goto(live_server.sign_in_url(person))
    page.get_by_role("button", name=f"Continue as {person.name}").click()
    expect(page.get_by_role("heading", name=f"Welcome, {person.name.split()[0]}")).to_be_visible()
    return "; ".join(f"{c['name']}={c['value']}" for c in context.cookies())


def lighthouse(url: str, cookie: str, tmp_path: Path) -> dict:
    """Lighthouse's scores of ``url`` (mobile, its default), with the audits that failed."""
    report = tmp_path / "report.json"
    subprocess.run(
        [
            str(LIGHTHOUSE),
            url,
            f"--only-categories={','.join(CATEGORIES)}",
            "--output=json",
            f"--output-path={report}",
            "--quiet",
            "--extra-headers",
            json.dumps({"Cookie": cookie}),
            # The same flags as the other browser tests' Chromium (root in a container, no GPU).
            "--chrome-flags=--headless=new --no-sandbox --disable-gpu --no-first-run",
        ],
        env={**os.environ, "CHROME_PATH": CHROMIUM},
        check=True,
        timeout=RUN_TIMEOUT_S,
        capture_output=True,
    )
    result = json.loads(report.read_text())
    # Signed in and on the page asked for, not redirected to the sign-in page.
    assert result["finalDisplayedUrl"] == url, result["finalDisplayedUrl"]
    assert not result.get("runtimeError"), result["runtimeError"]
    failing = [
        f"{audit['id']}: {audit['title']}"
        for audit in result["audits"].values()
        if audit.get("score") is not None and audit["score"] < 1 and audit.get("scoreDisplayMode") == "binary"
    ]
    scores = {name: result["categories"][name]["score"] for name in CATEGORIES}
    return {**scores, "failing": failing}


def test_lighthouse_mobile_accessibility_and_best_practices_are_perfect(live_server, demo, session_cookie, tmp_path):
    if not LIGHTHOUSE.exists():
        message = "Lighthouse is not installed: run `npm ci` in tests/lighthouse"
        if os.environ.get("CI"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    found = {url: lighthouse(live_server.url + url, session_cookie, tmp_path) for url in lighthouse_pages(demo)}
    below = {url: result for url, result in found.items() if any(result[name] < 1 for name in CATEGORIES)}
    assert not below, json.dumps(below, indent=2)
