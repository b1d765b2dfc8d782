"""Issue 3's live ground rules, as two people on two phones see them: a partner's change arrives
without a reload, a clause being edited is never overwritten, and the sign-off follows along."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Locator, Page, expect

from .conftest import LIVE_MS, MARK_LOADED, STILL_LOADED

if TYPE_CHECKING:
    from .conftest import PairInfo, Phone

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("quick_probes")]


def open_ground_rules(phone: Phone, pair: PairInfo, start: bool = False, status: str = "Draft") -> Page:
    page = phone.page
    page.goto(f"{pair.url}/ground-rules")
    if start:
        page.get_by_role("button", name="Start from the template").click()
    expect(status_heading(page)).to_have_text(status)
    page.evaluate(MARK_LOADED)
    return page


def both_open(
    live_server, phone, mentor_name: str, mentee_name: str, narrow: bool = False
) -> tuple[PairInfo, Phone, Phone, Page, Page]:
    """A new pair, each on a phone of their own: the mentee starts the ground rules (on a narrow
    screen if ``narrow``), then the mentor opens them."""
    pair = live_server.create_pair(mentor=mentor_name, mentee=mentee_name)
    mentor, mentee = phone(pair.mentor), phone(pair.mentee)
    mentee_page = open_ground_rules(mentee, pair, start=True)
    if narrow:
        mentee_page.set_viewport_size(NARROW)
    return pair, mentor, mentee, open_ground_rules(mentor, pair), mentee_page


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


def choose(scope: Page | Locator, name: str) -> None:
    """Open the "More" menu that holds the action ``name`` (a move or a drop) and press it."""
    page = scope if isinstance(scope, Page) else scope.page
    menu = scope.locator("details.item-menu").filter(has=page.get_by_role("button", name=name, include_hidden=True))
    menu.locator("summary").click()
    menu.get_by_role("button", name=name).click()


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
    pair, mentor, mentee, mentor_page, mentee_page = both_open(live_server, phone, "Ines Duarte", "Gordon Pike")

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


# --- Adding counts as editing; the notice sits where one types; nothing typed is lost ---------

# The narrowest phones in use: a notice at the top of the page is far off-screen from here.
NARROW = {"width": 360, "height": 740}


def add_box(page: Page) -> Locator:
    return page.locator("#add_clause")


def start_adding(page: Page, title: str, body: str) -> Locator:
    box = add_box(page)
    box.get_by_text("Add a clause").click()
    box.get_by_role("textbox", name="Title").fill(title)
    box.get_by_role("textbox", name="What you agree").fill(body)
    return box


def partner_adds(page: Page, title: str) -> None:
    box = start_adding(page, title, f"{title}, as we agreed.")
    box.get_by_role("button", name="Add clause").click()
    expect(clause(page, title)).to_be_visible()


def test_a_clause_being_added_is_never_wiped_by_the_partners_changes(live_server, phone):
    pair, mentor, mentee, mentor_page, mentee_page = both_open(
        live_server, phone, "Lena Vogel", "Arthur Pryce", narrow=True
    )

    # The mentee is writing a new clause at the bottom of a long page…
    box = start_adding(mentee_page, "Phones away", "We put our phones away for the first ten minutes.")
    # …when the mentor adds one of their own, then drops another.
    partner_adds(mentor_page, "Coffee on Fridays")
    card = clause(mentor_page, FEEDBACK)
    mentor_page.once("dialog", lambda dialog: dialog.accept())
    choose(card, f"Drop: {FEEDBACK}")
    expect(card).to_have_count(0)

    # The notice is in the box being written in, on screen; what was typed is untouched.
    notice = box.locator("[data-remote-structure]")
    expect(notice).to_contain_text("Lena added, moved or dropped a clause.", timeout=LIVE_MS)
    expect(notice).to_be_in_viewport()
    expect(box.get_by_role("textbox", name="Title")).to_have_value("Phones away")
    expect(box.get_by_role("textbox", name="What you agree")).to_have_value(
        "We put our phones away for the first ten minutes."
    )
    expect(clause(mentee_page, "Coffee on Fridays")).to_have_count(0)  # deferred, not forced in

    # "Show the latest" brings the partner's changes in and leaves the box as it is.
    notice.get_by_role("button", name="Show the latest").click()
    expect(clause(mentee_page, "Coffee on Fridays")).to_be_visible()
    expect(clause(mentee_page, FEEDBACK)).to_have_count(0)
    expect(box.get_by_role("textbox", name="Title")).to_have_value("Phones away")
    expect(notice).to_be_hidden()

    # Adding it then works as ever: both new clauses are there, the box is empty for the next.
    box.get_by_role("button", name="Add clause").click()
    expect(clause(mentee_page, "Phones away")).to_be_visible()
    expect(clause(mentee_page, "Coffee on Fridays")).to_be_visible()
    expect(add_box(mentee_page).locator("input[name=title]")).to_have_value("")  # closed, and empty
    expect(clause(mentor_page, "Phones away")).to_be_visible(timeout=LIVE_MS)

    assert_never_reloaded(mentor_page, mentee_page)
    assert_no_errors(mentor, mentee)


@pytest.mark.parametrize("close_with", ["Cancel", "Save"])
def test_while_editing_the_notice_is_in_view_and_the_page_catches_up_afterwards(live_server, phone, close_with):
    pair, mentor, mentee, mentor_page, mentee_page = both_open(
        live_server, phone, "Nadia Rahman", "Colin Webb", narrow=True
    )

    # A clause near the top of the page is being edited…
    card = start_editing(mentee_page, MENTEE_GOALS)
    typing = card.get_by_role("textbox", name="What you agree")
    typing.fill("Colin wants to learn our design tool.")
    # …while the partner adds a clause at the bottom.
    partner_adds(mentor_page, "Walks instead of rooms")

    notice = card.locator("[data-remote-structure]")
    expect(notice).to_contain_text("Nadia added, moved or dropped a clause.", timeout=LIVE_MS)
    expect(notice).to_be_in_viewport()
    expect(typing).to_have_value("Colin wants to learn our design tool.")
    expect(clause(mentee_page, "Walks instead of rooms")).to_have_count(0)

    # Closing the form, either way, brings in what was held back.
    card.get_by_role("button" if close_with == "Save" else "link", name=close_with, exact=True).click()
    if close_with == "Save":
        expect(card.locator(".clause-body")).to_have_text("Colin wants to learn our design tool.")
    expect(clause(mentee_page, "Walks instead of rooms")).to_be_visible()
    expect(mentee_page.locator("form[data-editing]")).to_have_count(0)

    assert_never_reloaded(mentor_page, mentee_page)
    assert_no_errors(mentor, mentee)


def test_show_the_latest_keeps_an_open_edit_and_its_words(live_server, phone):
    pair, mentor, mentee, mentor_page, mentee_page = both_open(live_server, phone, "Sofia Marin", "Graham Doyle")

    card = start_editing(mentee_page, MENTEE_GOALS)
    typing = card.get_by_role("textbox", name="What you agree")
    typing.fill("Graham wants to run a retro.")
    # The partner moves the clause below up: the list changes around the open form.
    below = clause(mentor_page, "Topics to start with, and topics that are off-limits")
    choose(below, "Move up: Topics to start with, and topics that are off-limits")

    notice = card.locator("[data-remote-structure]")
    expect(notice).to_be_visible(timeout=LIVE_MS)
    notice.get_by_role("button", name="Show the latest").click()
    expect(notice).to_be_hidden()
    expect(typing).to_have_value("Graham wants to run a retro.")
    titles = mentee_page.locator("#clauses > article h3")
    # The moved clause is now above the one being edited, which stayed as it was.
    expect(titles.nth(3)).to_have_text("Topics to start with, and topics that are off-limits")
    expect(titles.nth(4)).to_have_text(f"Editing: {MENTEE_GOALS}")

    card.get_by_role("button", name="Save").click()
    expect(card.locator(".clause-body")).to_have_text("Graham wants to run a retro.")
    assert_never_reloaded(mentor_page, mentee_page)
    assert_no_errors(mentor, mentee)


def test_ones_own_move_or_drop_keeps_another_open_edit(live_server, phone):
    pair = live_server.create_pair(mentor="Rosa Lind", mentee="Ian Mercer")
    mentor = phone(pair.mentor)
    page = open_ground_rules(mentor, pair, start=True)

    card = start_editing(page, MENTEE_GOALS)
    typing = card.get_by_role("textbox", name="What you agree")
    typing.fill("Ian wants to try pair programming.")
    # With that form open, the same person moves another clause and drops a third.
    choose(page, f"Move down: {FEEDBACK}")
    expect(page.locator("#clauses > article h3").last).to_have_text(FEEDBACK)
    page.once("dialog", lambda dialog: dialog.accept())
    choose(page, "Drop: Confidentiality: what stays between us")
    expect(clause(page, "Confidentiality: what stays between us")).to_have_count(0)

    expect(typing).to_have_value("Ian wants to try pair programming.")
    card.get_by_role("button", name="Save").click()
    expect(card.locator(".clause-body")).to_have_text("Ian wants to try pair programming.")
    assert_never_reloaded(page)
    assert_no_errors(mentor)


def test_words_typed_into_a_clause_the_partner_dropped_are_kept_and_can_be_added_back(live_server, phone):
    pair, mentor, mentee, mentor_page, mentee_page = both_open(
        live_server, phone, "Lena Vogt", "Derek Hale", narrow=True
    )

    card = start_editing(mentee_page, FEEDBACK)
    typing = card.get_by_role("textbox", name="What you agree")
    typing.fill("Derek prefers feedback in writing, the day after.")
    mentor_page.once("dialog", lambda dialog: dialog.accept())
    choose(mentor_page, f"Drop: {FEEDBACK}")
    expect(card.locator("[data-remote-structure]")).to_be_visible(timeout=LIVE_MS)

    card.get_by_role("button", name="Save").click()
    expect(card.get_by_role("alert")).to_contain_text("Lena dropped this clause while you were editing it")
    kept = card.get_by_role("textbox", name="What you agree")
    expect(kept).to_have_value("Derek prefers feedback in writing, the day after.")
    card.get_by_role("button", name="Add it back").click()
    restored = clause(mentee_page, FEEDBACK)
    expect(restored.locator(".clause-body")).to_have_text("Derek prefers feedback in writing, the day after.")
    expect(clause(mentor_page, FEEDBACK).locator(".clause-body")).to_have_text(
        "Derek prefers feedback in writing, the day after.", timeout=LIVE_MS
    )
    assert_never_reloaded(mentor_page, mentee_page)
    assert_no_errors(mentor, mentee, allowed=re.compile(r"409"))


def test_cancelling_an_edit_of_a_clause_the_partner_dropped_closes_it_without_an_error(live_server, phone):
    pair, mentor, mentee, mentor_page, mentee_page = both_open(live_server, phone, "Petra Novak", "Simon Achebe")

    card = start_editing(mentee_page, FEEDBACK)
    card.get_by_role("textbox", name="What you agree").fill("Never mind.")
    mentor_page.once("dialog", lambda dialog: dialog.accept())
    choose(mentor_page, f"Drop: {FEEDBACK}")
    expect(card.locator("[data-remote-structure]")).to_be_visible(timeout=LIVE_MS)
    partner_adds(mentor_page, "Coffee first")

    card.get_by_role("link", name="Cancel").click()
    expect(clause(mentee_page, FEEDBACK)).to_have_count(0)
    expect(clause(mentee_page, "Coffee first")).to_be_visible(timeout=LIVE_MS)  # and the list caught up
    expect(mentee_page.locator("#request-error")).to_be_hidden()
    assert_never_reloaded(mentor_page, mentee_page)
    assert_no_errors(mentor, mentee, allowed=re.compile(r"404"))


def test_on_a_phone_the_clause_menu_opens_and_a_move_works(live_server, phone):
    pair = live_server.create_pair(mentor="Nadia Oyelaran", mentee="Frank Castellano")
    mentor = phone(pair.mentor)
    page = open_ground_rules(mentor, pair, start=True)
    page.set_viewport_size(NARROW)
    titles = page.locator("#clauses > article h3")
    first, second = titles.nth(0).inner_text(), titles.nth(1).inner_text()

    # The top clause shows Edit and one menu; the menu offers no "Move up".
    top = clause(page, first)
    menu = top.locator("details.item-menu")
    expect(menu.get_by_role("button", name=f"Move down: {first}")).to_be_hidden()
    menu.locator("summary").click()
    expect(menu).to_have_attribute("open", "")
    items = menu.get_by_role("button")
    expect(items).to_have_text(["Move down", "Drop"])
    # Every item is a full-width tap target, and the open menu stays on the screen.
    for n in range(2):
        box = items.nth(n).bounding_box()
        assert box["height"] >= 44 and box["x"] >= 0 and box["x"] + box["width"] <= 360, box
    assert page.evaluate("document.documentElement.scrollWidth") <= 360

    second_card = clause(page, second)
    choose(second_card, f"Move up: {second}")
    expect(titles.nth(0)).to_have_text(second)
    expect(titles.nth(1)).to_have_text(first)
    # Now at the top, it no longer offers to move up; the one it passed offers both.
    choose(clause(page, first), f"Move up: {first}")
    expect(titles.nth(0)).to_have_text(first)
    assert_never_reloaded(page)
    assert_no_errors(mentor)


def test_escape_or_a_tap_elsewhere_closes_the_clause_menu(live_server, phone):
    pair = live_server.create_pair(mentor="Amara Nwosu", mentee="Clive Barker")
    page = open_ground_rules(phone(pair.mentor), pair, start=True)
    page.set_viewport_size(NARROW)
    first, second = page.locator("#clauses details.item-menu").nth(0), page.locator("#clauses details.item-menu").nth(1)
    first.locator("summary").click()
    expect(first).to_have_attribute("open", "")
    second.locator("summary").click()  # opening another closes the first
    expect(second).to_have_attribute("open", "")
    expect(first).not_to_have_attribute("open", "")
    page.keyboard.press("Escape")
    expect(second).not_to_have_attribute("open", "")
    expect(second.locator("summary")).to_be_focused()
    second.locator("summary").click()
    page.locator("#agreement_status h2").click()
    expect(second).not_to_have_attribute("open", "")
