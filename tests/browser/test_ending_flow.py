"""Ending well on a small phone: closing a pair, its summary, the closing reflection saved in
place, and the page that says what deleting one's account takes away."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .test_phone_layout import SMALL_PHONE, SPILLS

pytestmark = pytest.mark.browser


def test_closing_a_pair_and_looking_back_on_a_small_phone(live_server, phone):
    pair = live_server.create_pair()
    page = phone(pair.mentee).page
    page.set_viewport_size(SMALL_PHONE)
    page.goto(pair.url)
    page.get_by_role("link", name="Close your pair").click()
    expect(page.get_by_role("heading", name="Close your pair with Maya")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= SMALL_PHONE["width"]
    assert page.evaluate(SPILLS) == []
    page.get_by_label("Why you're closing it (optional)").fill("Our calendars never met")
    page.get_by_role("button", name="Close our pair").click()

    expect(page.get_by_role("heading", name="Your time together")).to_be_visible()
    expect(page.get_by_text("Maya has been told, and not why.")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= SMALL_PHONE["width"]
    page.get_by_role("link", name="Write your closing reflection").click()
    page.get_by_label("What I learned").fill("How the floor sees a reorg")
    page.get_by_role("button", name="Save my reflection").click()
    expect(page.get_by_role("status")).to_contain_text("Saved. Only you can read it.")
    page.reload()
    expect(page.get_by_label("What I learned")).to_have_value("How the floor sees a reorg")


def test_the_delete_page_fits_a_small_phone_and_lists_what_goes_first(live_server, phone):
    pair = live_server.create_pair()
    page = phone(pair.mentor).page
    page.set_viewport_size(SMALL_PHONE)
    page.goto("/account/delete")
    expect(page.get_by_role("heading", name="Erased at once, for good")).to_be_visible()
    expect(page.get_by_role("heading", name="Kept for your partner")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= SMALL_PHONE["width"]
    assert page.evaluate(SPILLS) == []
    page.get_by_role("button", name="Delete my account").click()
    expect(page.get_by_text("Tick the box to say you understand.")).to_be_visible()
    page.get_by_label("I understand").check()
    page.get_by_role("button", name="Delete my account").click()
    expect(page.get_by_text("Your account is deleted.")).to_be_visible()
