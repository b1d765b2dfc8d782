"""Issue 14's goal cards on a 360x740 phone: one next step in sight, the rest behind one menu."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from app.extensions import db

from .conftest import MARK_LOADED, STILL_LOADED

pytestmark = pytest.mark.browser


def test_on_a_phone_a_goal_shows_its_next_step_and_the_menu_moves_it(live_server, phone):
    from app.models import Goal, GoalStatus, Role

    pair = live_server.create_pair(mentor="Lucia Ferreira", mentee="Walter Brennan")
    with live_server.app.app_context():
        db.session.add(
            Goal(pair_id=pair.id, learner=Role.MENTEE, title="Share my calendar", status=GoalStatus.NOT_STARTED)
        )
        db.session.commit()
    mentee = phone(pair.mentee)
    page = mentee.page
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(f"{pair.url}/goals")
    page.evaluate(MARK_LOADED)

    card = page.get_by_role("article", name="Share my calendar")
    actions = card.locator(".goal-actions")
    # In sight: the next step and the menu, on one row that fits the phone.
    expect(actions.get_by_role("button", name="Start: Share my calendar")).to_be_visible()
    expect(actions.get_by_role("link", name="Edit: Share my calendar")).to_be_hidden()
    menu = actions.locator("details.item-menu")
    menu.locator("summary").click()
    expect(menu.get_by_role("link", name="Edit: Share my calendar")).to_be_visible()
    expect(menu.locator(".item-menu-items > *")).to_have_text(["Edit", "Move to Done", "Move to Dropped"])
    box = menu.locator(".item-menu-items").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 360, box
    assert page.evaluate("document.documentElement.scrollWidth") <= 360

    # The next step moves it along; from the menu it moves anywhere else.
    card.get_by_role("button", name="Start: Share my calendar").click()
    expect(page.locator("#group-in-progress").get_by_role("article", name="Share my calendar")).to_be_visible()
    card = page.get_by_role("article", name="Share my calendar")
    expect(card.get_by_role("button", name="Mark done: Share my calendar")).to_be_visible()
    card.locator("details.item-menu > summary").click()
    card.get_by_role("button", name="Move to Dropped: Share my calendar").click()
    expect(page.locator("#group-dropped").get_by_role("article", name="Share my calendar")).to_be_visible()
    assert page.evaluate(STILL_LOADED), "the board was reloaded"
    assert mentee.errors == []
