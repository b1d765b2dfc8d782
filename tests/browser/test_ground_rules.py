"""Issue 3's live ground rules, as two people on two phones see them: a partner's change arrives
without a reload, a clause being edited is never overwritten, and the sign-off follows along."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Locator, Page, expect

if TYPE_CHECKING:
    from .conftest import PairInfo, Phone

pytestmark = pytest.mark.browser

# The page asks the server for the partner's changes every 5 seconds.
LIVE_MS = 10_000
# Set on the window once the page is open: still there at the end means nothing reloaded the page.
MARK_LOADED = "window.__openedOnce = true"
STILL_LOADED = "window.__openedOnce === true"


def open_ground_rules(phone: Phone, pair: PairInfo, start: bool = False, status: str = "Draft") -> Page:
    page = phone.page
    page.goto(f"{pair.url}/ground-rules")
    if start:
        page.get_by_role("button", name="Start from the template").click()
    expect(status_heading(page)).to_have_text(status)
    page.evaluate(MARK_LOADED)
    return page


def clause(page: Page, title: str) -> Locator:
    """The clause's card, whether it shows the clause ("<title>"), its form ("Editing: <title>")
    or both versions after a collision (the title again)."""
    return page.get_by_role("article", name=re.compile(rf"^(Editing: )?{re.escape(title)}$"))


def start_editing(page: Page, title: str) -> Locator:
    card = clause(page, title)
    card.get_by_role("link", name="Edit").click()
    expect(card.get_by_role("button", name="Save")).to_be_visible()
    return card


def edit(page: Page, title: str, text: str) -> Locator:
    card = start_editing(page, title)
    card.get_by_role("textbox", name="What you agree").fill(text)
    card.get_by_role("button", name="Save").click()
    expect(card.get_by_role("status").filter(has_text="Saved.")).to_be_visible()
    expect(card.locator(".clause-body")).to_have_text(text)
    return card


def status_heading(page: Page) -> Locator:
    return page.locator("#agreement_status").get_by_role("heading", level=2)


def assert_never_reloaded(*pages: Page) -> None:
    for page in pages:
        assert page.evaluate(STILL_LOADED), f"{page.url} was reloaded"


def assert_no_errors(*phones: Phone, allowed: re.Pattern[str] | None = None) -> None:
    for phone in phones:
        unexpected = [e for e in phone.errors if not (allowed and allowed.search(e))]
        assert unexpected == [], f"{phone.person.name}:\n" + "\n".join(phone.errors)


MENTEE_GOALS = "What the mentee wants to get out of this"
FEEDBACK = "How we give each other feedback"


def test_a_partners_saved_change_shows_up_without_a_reload(live_server, phone):
    pair = live_server.create_pair(mentor="Maya Okafor", mentee="Harold Finch")
    mentor, mentee = phone(pair.mentor), phone(pair.mentee)
    mentor_page = open_ground_rules(mentor, pair, start=True)
    mentee_page = open_ground_rules(mentee, pair)

    text = "Harold wants to find his way around the team's chat tools and shared drives."
    edit(mentor_page, MENTEE_GOALS, text)

    card = clause(mentee_page, MENTEE_GOALS)
    expect(card.locator(".clause-body")).to_have_text(text, timeout=LIVE_MS)
    expect(card.get_by_role("status").filter(has_text="Changed by")).to_have_text(
        "Changed by Maya just now", timeout=LIVE_MS
    )
    # Only that clause was brought in; the mentor's own page marks nothing as changed by someone else.
    expect(mentee_page.get_by_role("status").filter(has_text="Changed by")).to_have_count(1)
    expect(mentor_page.get_by_role("status").filter(has_text="Changed by")).to_have_count(0)

    assert_never_reloaded(mentor_page, mentee_page)
    assert_no_errors(mentor, mentee)


def test_a_clause_being_edited_is_never_overwritten(live_server, phone):
    pair = live_server.create_pair(mentor="Ines Duarte", mentee="Gordon Pike")
    mentor, mentee = phone(pair.mentor), phone(pair.mentee)
    mentee_page = open_ground_rules(mentee, pair, start=True)
    mentor_page = open_ground_rules(mentor, pair)

    # The mentee starts typing and has not saved yet…
    mine = "Gordon wants to learn to run a video call with screen sharing."
    card = start_editing(mentee_page, MENTEE_GOALS)
    typing = card.get_by_role("textbox", name="What you agree")
    typing.fill(mine)

    # …when the mentor saves the same clause.
    theirs = "Ines wants Gordon to leave able to book his own travel online."
    edit(mentor_page, MENTEE_GOALS, theirs)

    # The probe says so in the open form, and leaves the typed text alone.
    notice = card.locator("[data-remote-change]")
    expect(notice).to_have_text(
        "Ines just changed this clause. When you save, you'll see both versions and keep what you want.",
        timeout=LIVE_MS,
    )
    expect(notice).to_have_role("status")
    expect(typing).to_have_value(mine)
    expect(card.get_by_role("button", name="Save")).to_be_visible()

    # Saving shows both versions side by side: nothing is lost.
    card.get_by_role("button", name="Save").click()
    expect(card.get_by_role("alert")).to_contain_text("Ines saved this clause while you were editing it.")
    expect(card.get_by_role("region", name="The saved version").locator(".clause-body")).to_have_text(theirs)
    yours = card.get_by_role("region", name="Your version, not saved yet")
    expect(yours.get_by_role("textbox", name="What you agree")).to_have_value(mine)

    yours.get_by_role("button", name="Save my version").click()
    expect(card.get_by_role("status").filter(has_text="Saved.")).to_be_visible()
    expect(card.locator(".clause-body")).to_have_text(mine)
    expect(card.get_by_role("alert")).to_have_count(0)

    # The mentor, who saw their own text until now, gets the mentee's without a reload.
    mentor_card = clause(mentor_page, MENTEE_GOALS)
    expect(mentor_card.locator(".clause-body")).to_have_text(mine, timeout=LIVE_MS)
    expect(mentor_card.get_by_role("status").filter(has_text="Changed by")).to_have_text("Changed by Gordon just now")

    assert_never_reloaded(mentor_page, mentee_page)
    # The collided save is answered 409 Conflict (with both versions), which Chromium logs.
    assert_no_errors(mentor)
    assert_no_errors(
        mentee,
        allowed=re.compile(
            r"status of 409 \(CONFLICT\) \(at http://localhost:\d+/pairs/\d+/ground-rules/clauses/\d+\)$"
        ),
    )


def agree(page: Page) -> None:
    page.locator("#agreement_status").get_by_role("button", name="Agree").click()


def expect_changed_since_both_agreed(mentor_page: Page, mentee_page: Page) -> None:
    """The mentor changes one clause: the agreement is open again, and the mentee sees exactly what changed."""
    edit(mentor_page, FEEDBACK, "We tell each other what's working at the end of every meeting.")
    expect(status_heading(mentor_page)).to_have_text("Changed since you both agreed")
    expect(status_heading(mentee_page)).to_have_text("Changed since you both agreed", timeout=LIVE_MS)
    changes = mentee_page.locator("#agreement_status ol.changes > li")
    expect(changes).to_have_count(1)
    expect(changes.locator(".change-label")).to_have_text(f"Changed: {FEEDBACK}")
    expect(mentee_page.locator("#agreement_status").get_by_role("button", name="Agree")).to_be_visible()


def test_both_agree_live_then_a_change_asks_them_again(live_server, phone):
    pair = live_server.create_pair(mentor="Priya Nair", mentee="Walter Grey")
    mentor, mentee = phone(pair.mentor), phone(pair.mentee)
    mentor_page = open_ground_rules(mentor, pair, start=True)
    mentee_page = open_ground_rules(mentee, pair)

    # The mentor agrees: their card says so at once, the mentee's within a probe.
    agree(mentor_page)
    expect(status_heading(mentor_page)).to_have_text("Agreed by you")
    expect(mentor_page.locator("#agreement_status")).to_contain_text("Waiting for Walter to agree.")
    expect(status_heading(mentee_page)).to_have_text("Agreed by Priya", timeout=LIVE_MS)

    # The mentee agrees too: both of them see it.
    agree(mentee_page)
    expect(status_heading(mentee_page)).to_have_text("Agreed by both of you")
    expect(status_heading(mentor_page)).to_have_text("Agreed by both of you", timeout=LIVE_MS)
    for page in (mentor_page, mentee_page):
        expect(page.locator("#agreement_status").get_by_role("button", name="Agree")).to_have_count(0)

    expect_changed_since_both_agreed(mentor_page, mentee_page)
    assert_never_reloaded(mentor_page, mentee_page)
    assert_no_errors(mentor, mentee)


def test_a_change_after_both_agreed_reaches_the_partner_live(live_server, phone):
    """The second half of the flow above, on its own: it does not depend on the probe noticing an agreement."""
    pair = live_server.create_pair(mentor="Amara Singh", mentee="Dennis Holt")
    mentor, mentee = phone(pair.mentor), phone(pair.mentee)
    mentor_page = open_ground_rules(mentor, pair, start=True)
    agree(mentor_page)
    expect(status_heading(mentor_page)).to_have_text("Agreed by you")
    mentee_page = open_ground_rules(mentee, pair, status="Agreed by Amara")
    agree(mentee_page)
    expect(status_heading(mentee_page)).to_have_text("Agreed by both of you")
    mentor_page.reload()
    expect(status_heading(mentor_page)).to_have_text("Agreed by both of you")
    mentor_page.evaluate(MARK_LOADED)

    expect_changed_since_both_agreed(mentor_page, mentee_page)
    assert_never_reloaded(mentor_page, mentee_page)
    assert_no_errors(mentor, mentee)
