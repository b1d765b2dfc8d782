"""A pair runs a meeting from their phones: a topic goes on the agenda from the home page, the
meeting that covers it is logged, and an action item from it is ticked off, all at 390 px; the
next meeting is planned on one person's clock and read on each one's own."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import expect

if TYPE_CHECKING:
    from .conftest import Phone

pytestmark = pytest.mark.browser


def test_topic_meeting_and_action_item_on_a_phone(live_server, phone):
    pair = live_server.create_pair(mentor="Tomás Ortega", mentee="Judith Ferreira")
    mentee: Phone = phone(pair.mentee)
    page = mentee.page
    assert page.viewport_size["width"] == 390

    # One field and one button on the pair's home add a topic for next time.
    page.goto(pair.url)
    page.get_by_label("A topic for next time").fill("How new hires find their way around Teams")
    page.get_by_role("button", name="Add", exact=True).click()
    topics = page.locator("#topics")
    expect(topics.get_by_text("Added for next time.")).to_be_visible()
    expect(topics.get_by_text("How new hires find their way around Teams")).to_be_visible()

    # Logging the meeting offers that topic as its agenda, ticked as covered.
    page.get_by_role("navigation", name="Pair sections").get_by_role("link", name="Journal").click()
    page.get_by_role("link", name="Log a meeting").first.click()
    covered = page.get_by_role("checkbox", name="How new hires find their way around Teams")
    expect(covered).to_be_checked()
    page.get_by_label("Shared notes").fill("Tomás showed me **channels** and threads.")
    page.get_by_role("group", name="Action 1").get_by_label("What").fill("Post in the leadership channel")
    page.get_by_role("button", name="Save meeting").click()
    expect(page.get_by_text("Tomás showed me")).to_be_visible()

    # Home: the topic left the agenda, the action item is open; tick it with a thumb.
    page.goto(pair.url)
    expect(page.locator("#topics").get_by_text("How new hires find their way around Teams")).to_have_count(0)
    tick = page.get_by_role("button", name="Done: Post in the leadership channel")
    expect(tick).to_have_attribute("aria-pressed", "false")
    tick.click()
    expect(page.get_by_role("button", name="Done: Post in the leadership channel")).to_have_attribute(
        "aria-pressed", "true"
    )
    page.reload()
    expect(page.locator("#actions").get_by_text("No open action items.")).to_be_visible()
    assert mentee.errors == []


def test_planning_on_a_berlin_phone_shows_berlin_time_and_the_partner_sees_theirs(live_server, phone):
    from app.extensions import db
    from app.models import NextMeeting

    pair = live_server.create_pair(mentor="Lina Berg", mentee="Oskar Brandt")
    # Winter, next year: Berlin is UTC+1, New York UTC-5, whenever the suite runs.
    day = date(date.today().year + 1, 1, 21)
    mentee: Phone = phone(pair.mentee, timezone_id="Europe/Berlin")
    page = mentee.page
    # The first page after signing in tells the server this browser's zone once it has settled
    # (with the page's CSRF token: the live server checks it). Wait for it to arrive.
    _zone_sent(page)
    page.goto(pair.url)
    page.get_by_role("link", name="Plan your next meeting").click()
    page.get_by_label("Day").fill(day.isoformat())
    page.get_by_label("Time").fill("09:00")
    page.get_by_label("Where (a room, or the link)").fill("Room 4.12")
    page.get_by_role("button", name="Save the plan").click()

    when = f"{day:%A} {day.day} {day:%B} {day.year}, 09:00 (Europe/Berlin)"
    expect(page.locator("#next_meeting").get_by_text(when)).to_be_visible()
    with live_server.app.app_context():
        stored = db.session.get(NextMeeting, pair.id)
        assert stored.starts_at == datetime.combine(day, time(8, 0), tzinfo=UTC)  # 09:00 in Berlin
        db.session.remove()

    # The form shows 09:00 back on Oskar's clock, and his account page names it.
    page.goto(f"{pair.url}/next-meeting")
    expect(page.get_by_label("Time")).to_have_value("09:00")
    page.goto("/account/time-zone")
    expect(page.get_by_label("Your time zone")).to_have_value("Europe/Berlin")
    assert page.locator("body[data-time-zone-url]").count() == 0  # asked once, never again

    # Lina, on a phone in New York, sees the same moment on her own clock.
    mentor: Phone = phone(pair.mentor, timezone_id="America/New_York")
    _zone_sent(mentor.page)
    mentor.page.goto(pair.url)
    there = f"{day:%A} {day.day} {day:%B} {day.year}, 03:00 (America/New York)"
    expect(mentor.page.locator("#next_meeting").get_by_text(there)).to_be_visible()
    assert mentee.errors == [] and mentor.errors == []


def _zone_sent(page) -> None:
    """Wait for the page's one background POST of the browser's zone, and check it was taken."""
    response = page.wait_for_event(
        "response", lambda r: r.url.endswith("/account/time-zone") and r.request.method == "POST"
    )
    assert response.status == 204
