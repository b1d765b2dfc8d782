"""A pair runs a meeting from their phones: a topic goes on the agenda from the home page, the
meeting that covers it is logged, and an action item from it is ticked off, all at 390 px."""

from __future__ import annotations

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
