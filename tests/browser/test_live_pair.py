"""Issue 14's live pair space, as two people on their own phones see it: the partner's new topic,
ticked action and changed goal arrive on the open home and goal board within the probe interval,
without a reload, while what the other person is typing in another form stays exactly as typed."""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Page, expect

from app.extensions import db

from .conftest import LIVE_MS, MARK_LOADED, STILL_LOADED

if TYPE_CHECKING:
    from .conftest import LiveServer, PairInfo, Phone

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("quick_probes")]


def seed(live_server: LiveServer, pair: PairInfo) -> None:
    """A meeting last week that left the mentee an action item, and a goal in progress."""
    from app.models import ActionItem, Goal, GoalStatus, Meeting, Milestone, Role

    with live_server.app.app_context():
        meeting = Meeting(pair_id=pair.id, held_on=date.today() - timedelta(days=7), author_id=pair.mentor.id)
        db.session.add(meeting)
        db.session.flush()
        db.session.add(
            ActionItem(pair_id=pair.id, meeting_id=meeting.id, text="Try a Teams huddle", owner_id=pair.mentee.id)
        )
        goal = Goal(pair_id=pair.id, learner=Role.MENTEE, title="Run a video call", status=GoalStatus.IN_PROGRESS)
        db.session.add(goal)
        db.session.flush()
        db.session.add(Milestone(goal_id=goal.id, pair_id=pair.id, title="Share a screen"))
        db.session.commit()


def open_page(phone: Phone, url: str) -> Page:
    phone.page.goto(url)
    phone.page.evaluate(MARK_LOADED)
    return phone.page


def test_the_partners_topic_tick_and_goal_change_arrive_live(live_server, phone):
    pair = live_server.create_pair(mentor="Amara Osei", mentee="Geoffrey Lamb")
    seed(live_server, pair)
    # The mentor has the home open on one phone and the goal board on another, typing in both.
    home = open_page(phone(pair.mentor), pair.url)
    board = open_page(phone(pair.mentor), f"{pair.url}/goals")
    mentee = open_page(phone(pair.mentee), pair.url)

    half_topic = "What Geoffrey could teach about budg"
    home_box = home.locator("#topics").get_by_role("textbox")
    home_box.fill(half_topic)
    board.get_by_text("Add a goal").click()
    new_goal = board.locator(".add-goal").get_by_role("textbox", name="Goal")
    new_goal.fill("Learn to read a P&L")
    new_goal.focus()

    # The mentee adds a topic…
    mentee.locator("#topics").get_by_role("textbox").fill("How do you keep on top of Slack?")
    mentee.locator("#topics").get_by_role("button", name="Add").click()
    expect(mentee.locator("#topics")).to_contain_text("Added for next time.")
    topics = home.locator("#topics .topics")
    expect(topics).to_contain_text("How do you keep on top of Slack?", timeout=LIVE_MS)
    expect(home_box).to_have_value(half_topic)

    # …ticks their action item…
    with mentee.expect_response(lambda response: "/toggle" in response.url and response.ok):
        mentee.get_by_role("button", name="Done: Try a Teams huddle").click()
    expect(home.locator("#actions")).not_to_contain_text("Try a Teams huddle", timeout=LIVE_MS)
    expect(home.locator("#actions")).to_contain_text("No open action items.")

    # …and changes a goal, and ticks its milestone.
    mentee.goto(f"{pair.url}/goals")
    mentee.get_by_role("article", name="Run a video call").locator("details.item-menu > summary").click()
    mentee.get_by_role("link", name="Edit: Run a video call").click()
    mentee.locator("form[data-editing]").get_by_role("textbox", name="Goal").fill("Run a video call with six people")
    mentee.locator("form[data-editing]").get_by_role("button", name="Save").click()
    expect(mentee.get_by_role("heading", name="Run a video call with six people")).to_be_visible()
    mentee.get_by_role("button", name="Share a screen", exact=True).click()
    expect(mentee.get_by_role("button", name="Share a screen", exact=True)).to_have_attribute("aria-pressed", "true")

    expect(board.get_by_role("heading", name="Run a video call with six people")).to_be_visible(timeout=LIVE_MS)
    expect(board.get_by_role("button", name="Share a screen", exact=True)).to_have_attribute(
        "aria-pressed", "true", timeout=LIVE_MS
    )
    expect(home.locator("#goals")).to_contain_text("Run a video call with six people", timeout=LIVE_MS)

    # What the mentor typed is all still there, in the same boxes, the goal title still focused.
    expect(home_box).to_have_value(half_topic)
    expect(new_goal).to_have_value("Learn to read a P&L")
    expect(new_goal).to_be_focused()
    expect(board.locator(".add-goal")).to_have_attribute("open", "")
    for page in (home, board):
        assert page.evaluate(STILL_LOADED), f"{page.url} was reloaded"


HIDE = """() => {
  Object.defineProperty(document, "visibilityState", { configurable: true, get: () => "hidden" });
  document.dispatchEvent(new Event("visibilitychange"));
}"""
SHOW = HIDE.replace('"hidden"', '"visible"')


def is_probe(request) -> bool:
    return "/changes?since=" in request.url


def test_a_hidden_page_stops_asking_and_catches_up_when_shown(live_server, phone):
    pair = live_server.create_pair(mentor="Lena Fischer", mentee="Roger Blake")
    home = open_page(phone(pair.mentor), pair.url)
    probes: list[str] = []
    home.on("request", lambda request: probes.append(request.url) if is_probe(request) else None)
    with home.expect_request(is_probe):
        pass  # a visible page asks

    # Hidden, as a phone in a pocket is: the probes stop.
    home.evaluate(HIDE)
    asked = len(probes)
    mentee = open_page(phone(pair.mentee), pair.url)
    mentee.locator("#topics").get_by_role("textbox").fill("Written while the mentor's phone slept")
    mentee.locator("#topics").get_by_role("button", name="Add").click()
    expect(mentee.locator("#topics")).to_contain_text("Added for next time.")
    # The mentee's page asks on the same interval: three of its probes are three intervals.
    for _ in range(3):
        with mentee.expect_request(is_probe):
            pass
    assert len(probes) == asked, "a hidden page kept asking"
    expect(home.locator("#topics")).not_to_contain_text("Written while the mentor's phone slept")

    # Shown again: it asks at once and catches up.
    home.evaluate(SHOW)
    expect(home.locator("#topics")).to_contain_text("Written while the mentor's phone slept", timeout=LIVE_MS)
    assert home.evaluate(STILL_LOADED)


def test_the_journal_follows_the_partner_while_a_reflection_is_being_written(live_server, phone):
    pair = live_server.create_pair(mentor="Sofia Ricci", mentee="Malcolm Reid")
    seed(live_server, pair)
    journal = open_page(phone(pair.mentor), f"{pair.url}/journal")
    mentee = open_page(phone(pair.mentee), f"{pair.url}/journal")

    journal.get_by_text("Write a reflection").click()
    mine = journal.get_by_role("textbox", name="Your private reflection")
    mine.fill("I talked too much; next time ask first.")

    # The mentee writes a reflection of their own, then ticks the action: when the tick arrives,
    # the mentor's page was drawn after the reflection was saved, and still doesn't hold it.
    mentee.get_by_text("Write a reflection").click()
    mentee.get_by_role("textbox", name="Your private reflection").fill("Malcolm's own note")
    mentee.get_by_role("button", name="Save reflection").click()
    expect(mentee.locator(".reflection-body")).to_have_text("Malcolm's own note")
    with mentee.expect_response(lambda response: "/toggle" in response.url and response.ok):
        mentee.get_by_role("button", name="Done: Try a Teams huddle").click()

    expect(journal.get_by_role("button", name="Done: Try a Teams huddle")).to_have_attribute(
        "aria-pressed", "true", timeout=LIVE_MS
    )
    expect(mine).to_have_value("I talked too much; next time ask first.")
    expect(journal.locator("#entries")).not_to_contain_text("Malcolm's own note")
    assert journal.evaluate(STILL_LOADED)


def test_a_page_that_just_wrote_keeps_its_answer_and_still_follows_the_partner(live_server, phone):
    """The page's own write and a probe crossing it: the answer ("Added for next time.") stays,
    and the partner's next change still arrives."""
    pair = live_server.create_pair(mentor="Amara Osei", mentee="Geoffrey Lamb")
    mentee = open_page(phone(pair.mentee), pair.url)
    mentor = open_page(phone(pair.mentor), pair.url)
    for n in range(3):
        mentee.locator("#topics").get_by_role("textbox").fill(f"Mentee topic {n}")
        mentee.locator("#topics").get_by_role("button", name="Add").click()
        expect(mentee.locator("#topics")).to_contain_text("Added for next time.")
        expect(mentee.locator("#topics .topics")).to_contain_text(f"Mentee topic {n}")
    mentor.locator("#topics").get_by_role("textbox").fill("From the mentor")
    mentor.locator("#topics").get_by_role("button", name="Add").click()
    expect(mentee.locator("#topics .topics")).to_contain_text("From the mentor", timeout=LIVE_MS)
    assert mentee.evaluate(STILL_LOADED)


def test_a_probe_after_the_session_ended_starts_no_new_one(live_server, phone):
    """A probe asked once the session is gone (it expired, or the cookies were cleared) gets the
    sign-in redirect. Followed, the sign-in page it fetched started a session of its own, whose
    cookie replaced the one of a sign-in link opened meanwhile on the same device: "Continue"
    then failed with "Your sign-in changed since this page was loaded"."""
    pair = live_server.create_pair(mentor="Kwame Asante", mentee="Leonie Brandt")
    page = open_page(phone(pair.mentor), pair.url)
    answered: list[str] = []  # what the server answered (a redirect not followed is never asked)
    page.on("response", lambda response: answered.append(response.url))
    page.context.clear_cookies()
    # Two probes answered: the page asks the next only once the one before has finished.
    for _ in range(2):
        with page.expect_response(lambda response: "/changes?since=" in response.url) as answer:
            pass
        assert answer.value.status == 302
    assert not [url for url in answered if "/auth/sign-in" in url], answered
    assert not [cookie for cookie in page.context.cookies() if cookie["name"] == "twoway"]
