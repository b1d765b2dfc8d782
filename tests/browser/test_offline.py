"""Issue 14's capture that works offline, and drafts: on a phone with no network a person adds a
topic and ticks an action item; each waits in the device's outbox (shown as waiting) and is sent,
once, when the network is back, by the page or by the service worker's Background Sync. Drafts
and the outbox belong to one person: cleared at sign-out, here or on another device, and never
sent under another account.

Playwright's ``set_offline`` does not reach the service worker's own requests, so "no network"
here is both: ``set_offline`` (the page's ``navigator.onLine`` and its requests) and a route that
fails every request of the context (the worker's too). Sync is fired through DevTools.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import BrowserContext, Page, Route, expect
from sqlalchemy import func, select

from app.extensions import db

if TYPE_CHECKING:
    from .conftest import LiveServer, PairInfo, Phone

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("quick_probes")]

ACTION = "Try a Teams huddle"
EVERYTHING = "**/*"


def new_pair(live_server: LiveServer, mentor: str, mentee: str) -> PairInfo:
    """A pair whose time zone Twoway knows, so no page posts one meanwhile (app.js)."""
    from app.models import User

    pair = live_server.create_pair(mentor=mentor, mentee=mentee)
    with live_server.app.app_context():
        for person in (pair.mentor, pair.mentee):
            db.session.get(User, person.id).time_zone = "Europe/London"
        db.session.commit()
    return pair


def seed(live_server: LiveServer, pair: PairInfo) -> int:
    """A meeting last week that left the mentee an open action item; returns its id."""
    from app.models import ActionItem, Meeting

    with live_server.app.app_context():
        meeting = Meeting(pair_id=pair.id, held_on=date.today() - timedelta(days=7), author_id=pair.mentor.id)
        db.session.add(meeting)
        db.session.flush()
        item = ActionItem(pair_id=pair.id, meeting_id=meeting.id, text=ACTION, owner_id=pair.mentee.id)
        db.session.add(item)
        db.session.commit()
        return item.id


def topics_named(live_server: LiveServer, pair: PairInfo, text: str) -> int:
    from app.models import Topic

    with live_server.app.app_context():
        return db.session.scalar(select(func.count()).where(Topic.pair_id == pair.id, Topic.text == text))


def action_done(live_server: LiveServer, item_id: int) -> bool:
    from app.models import ActionItem

    with live_server.app.app_context():
        return db.session.get(ActionItem, item_id).done


# What a request failing for want of a network logs, as it should: the browser's line, and htmx's
# own report of the request that failed.
OFFLINE_NOISE = ("net::ERR_INTERNET_DISCONNECTED", "console: htmx:sendError", "console: htmx:afterRequest")


def real_errors(errors: list[str]) -> list[str]:
    """Errors other than the requests that failed for want of a network."""
    return [error for error in errors if not any(noise in error for noise in OFFLINE_NOISE)]


def ready(page: Page) -> None:
    """The service worker is installed and the page has settled its outbox (offline.js)."""
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.wait_for_function("() => window.TwowayOutbox !== undefined")


def go_offline(context: BrowserContext) -> None:
    context.set_offline(True)
    context.route(EVERYTHING, lambda route: route.abort("internetdisconnected"))


def go_online(context: BrowserContext) -> None:
    context.unroute(EVERYTHING)
    context.set_offline(False)


def outbox(page: Page) -> list[dict]:
    return page.evaluate("window.TwowayOutbox.entries()")


def add_topic(page: Page, text: str) -> None:
    page.locator("#topics").get_by_role("textbox", name="A topic for next time").fill(text)
    page.locator("#topics").get_by_role("button", name="Add").click()


def wait_until(page: Page, condition, timeout_ms: int = 10_000) -> None:
    """Wait for ``condition()`` (checked in Python, between short waits that let events arrive)."""
    for _ in range(timeout_ms // 50):
        if condition():
            return
        page.wait_for_timeout(50)
    raise AssertionError("the condition never came true")


def fire_sync(page: Page, origin: str) -> None:
    """What the browser does when the network is back: a ``sync`` event in the service worker."""
    cdp = page.context.new_cdp_session(page)
    registrations: list[dict] = []
    cdp.on("ServiceWorker.workerRegistrationUpdated", lambda event: registrations.extend(event["registrations"]))
    cdp.send("ServiceWorker.enable")
    # DevTools reports the registrations as events after enabling: poll for ours to arrive.
    ours = lambda: [r for r in registrations if r["scopeURL"].startswith(origin) and not r["isDeleted"]]  # noqa: E731
    wait_until(page, ours)
    cdp.send(
        "ServiceWorker.dispatchSyncEvent",
        {"origin": origin, "registrationId": ours()[0]["registrationId"], "tag": "twoway-outbox", "lastChance": False},
    )
    cdp.detach()


def test_a_topic_and_a_tick_made_offline_reach_the_partner_once(live_server, phone):
    pair = new_pair(live_server, "Priya Raman", "Malcolm Reid")
    item_id = seed(live_server, pair)
    mentee: Phone = phone(pair.mentee)
    mentor: Phone = phone(pair.mentor)
    mentee.page.goto(pair.url)
    page = mentor.page
    page.goto(pair.url)
    ready(page)

    # First Twoway can't be reached though the phone thinks it is online (the request fails on
    # the way), then the phone knows it is offline (nothing is tried): both end in the outbox.
    page.context.route(EVERYTHING, lambda route: route.abort("internetdisconnected"))
    add_topic(page, "How Malcolm plans his week")
    expect(page.locator("#outbox .outbox-waiting li")).to_have_count(1)
    page.context.set_offline(True)
    page.get_by_role("button", name=f"Done: {ACTION}").click()

    # Both wait on the phone, shown as waiting; the tick shows at once; nothing reached the server.
    waiting = page.locator("#outbox .outbox-waiting li")
    expect(waiting).to_have_text(["Topic “How Malcolm plans his week”", f"Done: “{ACTION}”"])
    expect(page.get_by_role("button", name=f"Done: {ACTION}")).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#topics").get_by_role("textbox")).to_have_value("")
    # Kept, so not the "couldn't reach Twoway" of a write that wasn't.
    expect(page.locator("#request-error")).to_be_hidden()
    assert topics_named(live_server, pair, "How Malcolm plans his week") == 0
    assert not action_done(live_server, item_id)

    go_online(page.context)
    expect(page.locator("#outbox")).to_have_count(0)
    # On the partner's open page (it follows the pair's changes), each exactly once.
    topic = mentee.page.locator("#topics li").filter(has_text="How Malcolm plans his week")
    expect(topic).to_have_count(1)
    # Done, it leaves the home's open action items; the journal shows it once, ticked.
    expect(mentee.page.locator(f"#action-{item_id}")).to_have_count(0)
    mentee.page.reload()
    expect(topic).to_have_count(1)
    mentee.page.goto(f"{pair.url}/journal")
    expect(mentee.page.locator(f"#action-{item_id}")).to_have_count(1)
    expect(mentee.page.locator(f"#action-{item_id}")).to_have_class("action-item is-done")
    assert topics_named(live_server, pair, "How Malcolm plans his week") == 1
    assert action_done(live_server, item_id)
    assert real_errors(mentor.errors + mentee.errors) == []


def test_background_sync_sends_it_and_a_lost_answer_sent_again_makes_one(live_server, phone):
    pair = new_pair(live_server, "Ines Duarte", "Bernard Hale")
    mentee: Phone = phone(pair.mentee)
    mentee.page.goto(pair.url)
    page = phone(pair.mentor).page
    context = page.context
    page.goto(pair.url)
    ready(page)

    go_offline(context)
    add_topic(page, "Ask Bernard about the board")
    expect(page.locator("#outbox .outbox-waiting li")).to_have_count(1)
    # Still offline, the next page is the offline page: it lists what waits. It sends nothing (it
    # knows no session), so when the network comes back only Background Sync can send it.
    page.goto(f"{pair.url}/journal")
    expect(page.get_by_role("heading", name="You're offline")).to_be_visible()
    expect(page.locator("#outbox-offline li")).to_have_text(["Topic “Ask Bernard about the board”"])
    blank = page

    # Back online, but the first answer is lost on the way back: the topic was made, the phone
    # doesn't know it, so it stays in the outbox and is sent again.
    posts: list[str] = []
    answered: list[str] = []

    def lose_the_first_answer(route: Route) -> None:
        if route.request.method != "POST":
            route.continue_()
            return
        if not route.request.url.endswith("/topics"):
            route.continue_()
            return
        posts.append(route.request.url)
        if len(posts) == 1:
            route.fetch()
            # "failed", not a connection reset, which the browser would quietly retry itself.
            route.abort("failed")
        else:
            route.continue_()

    context.on("requestfinished", lambda request: request.url.endswith("/topics") and answered.append(request.url))
    context.unroute(EVERYTHING)
    context.route(EVERYTHING, lose_the_first_answer)
    sw = context.service_workers[0]
    with context.expect_event("requestfailed", predicate=lambda request: request.method == "POST"):
        # The browser fires the sync registered when the topic was queued as the network comes
        # back; DevTools fires one too, so the test doesn't depend on when the browser does.
        context.set_offline(False)
        fire_sync(blank, live_server.url)
    expect(mentee.page.locator("#topics li").filter(has_text="Ask Bernard about the board")).to_have_count(1)

    # Sync again (if the browser's own hasn't yet): the same key, so the server answers as the
    # first time and makes nothing new.
    fire_sync(blank, live_server.url)
    wait_until(blank, lambda: answered and sw.evaluate("self.TwowayOutbox.entries()") == [])
    assert len(posts) >= 2 and set(posts) == {f"{live_server.url}{pair.url}/topics"}, posts
    page = context.new_page()
    page.goto(pair.url)
    ready(page)
    expect(page.locator("#outbox")).to_have_count(0)
    assert outbox(page) == []
    assert len(answered) == len(posts) - 1, "the page found something left to send"
    mentee.page.reload()
    expect(mentee.page.locator("#topics li").filter(has_text="Ask Bernard about the board")).to_have_count(1)
    assert topics_named(live_server, pair, "Ask Bernard about the board") == 1


def test_sign_out_clears_the_drafts_and_the_outbox(live_server, phone):
    pair = new_pair(live_server, "Yusuf Demir", "Audrey Kemp")
    mentor: Phone = phone(pair.mentor)
    page = mentor.page
    page.goto(pair.url)
    ready(page)
    go_offline(page.context)
    add_topic(page, "Typed on the train")
    expect(page.locator("#outbox .outbox-waiting li")).to_have_count(1)
    page.locator("#topics").get_by_role("textbox").fill("Half a thought")
    # Back online, but Twoway itself stays out of reach for this one write, so it still waits.
    page.context.unroute(EVERYTHING)
    page.context.route("**/topics", lambda route: route.abort("internetdisconnected"))
    page.context.set_offline(False)
    assert len(outbox(page)) == 1
    assert page.evaluate("Object.keys(localStorage).filter((k) => k.startsWith('twoway-draft:')).length") == 1

    # Signed out from a page that doesn't follow the pair's changes: a probe's answer landing
    # just after the sign-out would bring back the old session's cookie, whatever this test does.
    page.goto("/account/passkeys")
    page.get_by_role("navigation", name="Account").get_by_text("Menu", exact=True).click()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in to Twoway")).to_be_visible()
    ready(page)
    assert outbox(page) == []
    assert page.evaluate("Object.keys(localStorage).filter((k) => k.startsWith('twoway-draft:')).length") == 0

    # Signed in again on the same phone: nothing of before comes back or is sent.
    page.context.unroute("**/topics")
    page.goto(live_server.sign_in_url(pair.mentor))
    page.get_by_role("button", name=f"Continue as {pair.mentor.name}").click()
    page.goto(pair.url)
    ready(page)
    expect(page.locator(".draft-offer")).to_have_count(0)
    assert topics_named(live_server, pair, "Typed on the train") == 0
    assert real_errors(mentor.errors) == []


def queue_a_topic_that_cannot_be_sent(page: Page, pair: PairInfo, text: str) -> None:
    """Offline, add ``text``; then back online with only that write still failing, so it waits."""
    page.goto(pair.url)
    ready(page)
    go_offline(page.context)
    add_topic(page, text)
    expect(page.locator("#outbox .outbox-waiting li")).to_have_count(1)
    page.context.unroute(EVERYTHING)
    page.context.route("**/topics", lambda route: route.abort("internetdisconnected"))
    page.context.set_offline(False)


def test_a_sign_out_on_another_device_clears_this_one_at_the_next_visit(live_server, phone):
    pair = new_pair(live_server, "Chen Wei", "Rosalind Park")
    here = phone(pair.mentor).page
    queue_a_topic_that_cannot_be_sent(here, pair, "Kept through a sign-out elsewhere")

    # Signed out on her laptop: every session of hers ends, this phone's too.
    laptop = phone(pair.mentor).page
    laptop.get_by_role("navigation", name="Account").get_by_text("Menu", exact=True).click()
    laptop.get_by_role("button", name="Sign out").click()
    expect(laptop.get_by_role("heading", name="Sign in to Twoway")).to_be_visible()

    here.context.unroute("**/topics")
    here.goto(pair.url)
    expect(here.get_by_role("heading", name="Sign in to Twoway")).to_be_visible()
    # Signed out, the phone keeps it (it can't tell yet why the session ended) and sends nothing.
    assert len(outbox(here)) == 1
    here.goto(live_server.sign_in_url(pair.mentor))
    here.get_by_role("button", name=f"Continue as {pair.mentor.name}").click()
    expect(here.get_by_role("heading", name=f"Welcome, {pair.mentor.name.split()[0]}")).to_be_visible()
    wait_until(here, lambda: outbox(here) == [])
    here.goto(pair.url)
    expect(here.locator("#outbox")).to_have_count(0)
    assert topics_named(live_server, pair, "Kept through a sign-out elsewhere") == 0


def test_another_account_on_the_same_device_never_sends_it(live_server, phone):
    pair = new_pair(live_server, "Olu Bakare", "Fiona Grant")
    device = phone(pair.mentor).page
    queue_a_topic_that_cannot_be_sent(device, pair, "Olu's words only")
    # Her session goes (expired, cookies cleared) and her partner signs in on the same phone.
    device.context.clear_cookies()
    device.context.unroute("**/topics")
    device.goto(live_server.sign_in_url(pair.mentee))
    device.get_by_role("button", name=f"Continue as {pair.mentee.name}").click()
    expect(device.get_by_role("heading", name=f"Welcome, {pair.mentee.name.split()[0]}")).to_be_visible()
    wait_until(device, lambda: outbox(device) == [])
    device.goto(pair.url)
    ready(device)
    expect(device.locator("#outbox")).to_have_count(0)
    assert topics_named(live_server, pair, "Olu's words only") == 0


def test_a_draft_survives_leaving_the_page(live_server, phone):
    pair = new_pair(live_server, "Sade Adeyemi", "Neville Shaw")
    someone: Phone = phone(pair.mentor)
    page = someone.page
    page.goto(pair.url)
    ready(page)
    box = page.locator("#topics").get_by_role("textbox", name="A topic for next time")
    box.fill("Whether Neville could mentor someone else too")
    page.get_by_role("link", name="Journal").first.click()
    expect(page).to_have_url(f"{live_server.url}{pair.url}/journal")
    page.goto(pair.url)
    expect(box).to_have_value("")
    page.get_by_role("button", name="Put them back").click()
    expect(box).to_have_value("Whether Neville could mentor someone else too")
    expect(box).to_be_focused()

    # Saved: the draft goes, and focus is back in the box for the next topic.
    page.locator("#topics").get_by_role("button", name="Add").click()
    expect(page.locator("#topics li").filter(has_text="Whether Neville could mentor")).to_have_count(1)
    expect(page.locator("#topics").get_by_role("button", name="Add")).to_be_focused()
    page.reload()
    expect(page.locator("#topics li").filter(has_text="Whether Neville could mentor")).to_have_count(1)
    expect(page.get_by_role("button", name="Put them back")).to_have_count(0)
    assert someone.errors == [], someone.errors


def seed_reflection(live_server: LiveServer, pair: PairInfo, body: str) -> tuple[int, int]:
    """A meeting last week on which the mentor wrote a reflection; returns (meeting, reflection)."""
    from app.models import Meeting, Reflection

    with live_server.app.app_context():
        meeting = Meeting(pair_id=pair.id, held_on=date.today() - timedelta(days=7), author_id=pair.mentor.id)
        db.session.add(meeting)
        db.session.flush()
        mine = Reflection(meeting_id=meeting.id, pair_id=pair.id, author_id=pair.mentor.id, body=body, version=1)
        db.session.add(mine)
        db.session.commit()
        return meeting.id, mine.id


def saved_elsewhere(live_server: LiveServer, reflection_id: int, body: str) -> None:
    """The same person saves the reflection from another device meanwhile."""
    from app.models import Reflection

    with live_server.app.app_context():
        mine = db.session.get(Reflection, reflection_id)
        mine.body, mine.version = body, mine.version + 1
        db.session.commit()


def write_reflection_offline(page: Page, meeting_id: int, text: str) -> None:
    reflection = page.locator(f"#reflection-{meeting_id}")
    reflection.get_by_text("Edit your reflection").click()
    reflection.get_by_role("textbox", name="Your private reflection").fill(text)
    go_offline(page.context)
    reflection.get_by_role("button", name="Save reflection").click()
    expect(page.locator("#outbox .outbox-waiting li")).to_have_text(["Your private reflection"])


def test_a_conflict_met_by_background_sync_waits_in_needs_you_then_shows_the_conflict_view(live_server, phone):
    pair = new_pair(live_server, "Hana Sato", "Derek Moss")
    meeting_id, reflection_id = seed_reflection(live_server, pair, "First thoughts")
    mentor: Phone = phone(pair.mentor)
    page = mentor.page
    context = page.context
    page.goto(f"{pair.url}/journal")
    ready(page)
    write_reflection_offline(page, meeting_id, "Written on the train")
    blank = context.new_page()
    page.close()
    saved_elsewhere(live_server, reflection_id, "Written on the laptop")

    go_online(context)
    fire_sync(blank, live_server.url)
    sw = context.service_workers[0]
    wait_until(blank, lambda: [e["state"] for e in sw.evaluate("self.TwowayOutbox.entries()")] == ["needs-you"])

    # The next visit lists it; opening it shows the usual conflict view, with the words typed.
    page = context.new_page()
    page.goto(pair.url)
    needs_you = page.locator("#outbox .outbox-needs-you li")
    expect(needs_you).to_have_count(1)
    needs_you.get_by_role("button", name="Open: Your private reflection").click()
    expect(page.get_by_role("alert").filter(has_text="You saved this reflection in another tab")).to_be_visible()
    expect(page.get_by_role("textbox", name="Your private reflection")).to_have_value("Written on the train")
    expect(page.get_by_text("Written on the laptop")).to_be_visible()
    expect(page.locator("#outbox")).to_have_count(0)
    assert real_errors(mentor.errors) == []


def test_a_conflict_met_by_the_open_page_shows_the_conflict_view(live_server, phone):
    pair = new_pair(live_server, "Tariq Aziz", "Moira Flynn")
    meeting_id, reflection_id = seed_reflection(live_server, pair, "First thoughts")
    page = phone(pair.mentor).page
    page.goto(f"{pair.url}/journal")
    ready(page)
    write_reflection_offline(page, meeting_id, "Written in a tunnel")
    saved_elsewhere(live_server, reflection_id, "Written at my desk")

    go_online(page.context)
    expect(page.get_by_role("alert").filter(has_text="You saved this reflection in another tab")).to_be_visible()
    expect(page.get_by_role("textbox", name="Your private reflection")).to_have_value("Written in a tunnel")


# --- The home kept on the device, for opening the app with no network (pwa/sw.js) -------------


def kept_homes(page: Page) -> list[str]:
    return page.evaluate("caches.keys().then((keys) => keys.filter((key) => key.startsWith('twoway-home:')))")


def keep_the_home(live_server: LiveServer, page: Page, pair: PairInfo) -> None:
    """Open the app online as the phone's home screen does (its one pair's home), with the service
    worker in charge, and wait for it to keep the copy."""
    page.goto("/start")
    ready(page)
    # The first page of a phone is drawn before its service worker ran: the next one goes through it.
    page.reload()
    expect(page).to_have_url(f"{live_server.url}{pair.url}")
    ready(page)
    # Polled from here: wait_for_function takes a promise for a truthy value and wouldn't wait.
    wait_until(page, lambda: any(key.startswith(f"twoway-home:{pair.mentor.id}:") for key in kept_homes(page)))


def test_the_home_opens_offline_as_last_seen_and_takes_a_topic_and_a_tick_sent_once_later(live_server, phone):
    pair = new_pair(live_server, "Amara Okoye", "Gordon Fell")
    item_id = seed(live_server, pair)
    mentor: Phone = phone(pair.mentor)
    page = mentor.page
    context = page.context
    keep_the_home(live_server, page, pair)

    # On a train: the app opened from the home screen shows the home as it last was, marked so.
    go_offline(context)
    page.goto("/start")
    expect(page.get_by_role("heading", name=f"You and {pair.mentee.name}")).to_be_visible()
    expect(page.locator("#shown-as-of")).to_contain_text("Offline: shown as of")
    add_topic(page, "What Gordon reads on Sundays")
    page.get_by_role("button", name=f"Done: {ACTION}").click()
    expect(page.locator("#outbox .outbox-waiting li")).to_have_text(
        ["Topic “What Gordon reads on Sundays”", f"Done: “{ACTION}”"]
    )
    assert topics_named(live_server, pair, "What Gordon reads on Sundays") == 0
    assert not action_done(live_server, item_id)

    # Back online, it is sent once; the next visit is the live home again, without the mark.
    go_online(context)
    expect(page.locator("#outbox")).to_have_count(0)
    assert topics_named(live_server, pair, "What Gordon reads on Sundays") == 1
    assert action_done(live_server, item_id)
    page.goto("/start")
    expect(page.locator("#topics li").filter(has_text="What Gordon reads on Sundays")).to_have_count(1)
    expect(page.locator("#shown-as-of")).to_have_count(0)
    assert topics_named(live_server, pair, "What Gordon reads on Sundays") == 1
    assert real_errors(mentor.errors) == []


def test_after_sign_out_the_app_opened_offline_shows_only_the_offline_page(live_server, phone):
    pair = new_pair(live_server, "Lena Vogel", "Arthur Penn")
    page = phone(pair.mentor).page
    keep_the_home(live_server, page, pair)

    # Signed out from a page that doesn't follow the pair's changes (see the test above).
    page.goto("/account/passkeys")
    page.get_by_role("navigation", name="Account").get_by_text("Menu", exact=True).click()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in to Twoway")).to_be_visible()
    assert kept_homes(page) == []

    go_offline(page.context)
    page.goto("/start")
    expect(page.get_by_role("heading", name="You're offline")).to_be_visible()
    expect(page.get_by_text(f"You and {pair.mentee.name}")).to_have_count(0)


def test_another_account_on_the_same_device_is_never_shown_the_kept_home(live_server, phone):
    pair = new_pair(live_server, "Kofi Asante", "Beatrice Lowe")
    device = phone(pair.mentor).page
    keep_the_home(live_server, device, pair)

    # His session goes without a sign-out (cookies cleared) and his partner signs in here.
    device.context.clear_cookies()
    device.goto(live_server.sign_in_url(pair.mentee))
    device.get_by_role("button", name=f"Continue as {pair.mentee.name}").click()
    expect(device.get_by_role("heading", name=f"Welcome, {pair.mentee.name.split()[0]}")).to_be_visible()
    assert not any(key.startswith(f"twoway-home:{pair.mentor.id}:") for key in kept_homes(device))

    go_offline(device.context)
    device.goto("/start")
    expect(device.get_by_role("heading", name=f"You and {pair.mentee.name}")).to_have_count(0)
    expect(
        device.get_by_role("heading", name=f"You and {pair.mentor.name}").or_(
            device.get_by_role("heading", name="You're offline")
        )
    ).to_be_visible()


# Some browsers give a page no IndexedDB (a private window, storage blocked): the outbox can't
# work there, drafts still do.
NO_INDEXED_DB = """
Object.defineProperty(window, "indexedDB", {
  get() { return { open() { throw new DOMException("Storage is blocked here", "SecurityError"); } }; },
});
"""
DRAFTS = "Object.keys(localStorage).filter((k) => k.startsWith('twoway-draft:'))"


def test_without_indexeddb_the_next_person_on_the_device_finds_no_drafts(live_server, phone):
    pair = new_pair(live_server, "Kwame Asante", "Leonie Brandt")
    device = phone(pair.mentor).page
    device.context.add_init_script(NO_INDEXED_DB)
    device.goto(pair.url)
    device.locator("#topics").get_by_role("textbox", name="A topic for next time").fill("Kwame's own words")
    assert len(device.evaluate(DRAFTS)) == 1
    # His session goes without a sign-out (it expired) and his partner signs in on the same phone.
    device.context.clear_cookies()
    device.goto(live_server.sign_in_url(pair.mentee))
    device.get_by_role("button", name=f"Continue as {pair.mentee.name}").click()
    expect(device.get_by_role("heading", name=f"Welcome, {pair.mentee.name.split()[0]}")).to_be_visible()
    wait_until(device, lambda: device.evaluate(DRAFTS) == [])
    # Her own drafts still work.
    device.goto(pair.url)
    device.locator("#topics").get_by_role("textbox", name="A topic for next time").fill("Leonie's")
    assert device.evaluate(DRAFTS) == [f"twoway-draft:{pair.mentee.id}:{pair.url}/topics"]


def test_a_write_refused_for_good_does_not_hold_back_the_ones_after_it(live_server, phone):
    """A write the server will never take as it is (more than it takes in one go: 413) waits for
    the person in "needs you"; it must not stay first in the queue and keep back everything typed
    after it, at every try."""
    pair = new_pair(live_server, "Tomasz Nowak", "Grace Obi")
    page = phone(pair.mentor).page
    page.goto(pair.url)
    ready(page)
    go_offline(page.context)
    add_topic(page, "Far too long a topic")
    add_topic(page, "Typed after it")
    expect(page.locator("#outbox .outbox-waiting li")).to_have_count(2)

    def too_much(route: Route) -> None:
        if "Far+too+long" in (route.request.post_data or ""):
            route.fulfill(status=413, body="Too much at once")
        else:
            route.fallback()

    page.context.unroute(EVERYTHING)
    page.context.route("**/topics", too_much)
    page.context.set_offline(False)
    expect(page.locator("#outbox .outbox-needs-you li")).to_have_count(1)
    expect(page.locator("#outbox .outbox-waiting li")).to_have_count(0)
    assert topics_named(live_server, pair, "Typed after it") == 1
