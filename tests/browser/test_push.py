"""Web Push in the browser: the service worker shows what a push delivers, and the devices list
fits a small phone.

Chromium here has no push service, so ``pushManager.subscribe`` can't succeed. The push is handed
to the service worker through DevTools instead (``ServiceWorker.deliverPushMessage``, with the
registration id from the ``ServiceWorker`` domain's events), and the notification it showed is read
back with ``registration.getNotifications()``.
"""

from __future__ import annotations

import json
import time

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from playwright.sync_api import Page, expect

from app.config import vapid_settings
from app.extensions import db

pytestmark = pytest.mark.browser

SMALL_PHONE = {"width": 360, "height": 740}
# The notifications the service worker is showing, once there are at least ``count`` of them
# (or after ten seconds, whatever there is): asked every 50 ms, since nothing announces a new one.
NOTIFICATIONS = """async (count) => {
  const registration = await navigator.serviceWorker.ready;
  const deadline = Date.now() + 10000;
  let shown = await registration.getNotifications();
  while (shown.length < count && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    shown = await registration.getNotifications();
  }
  return shown.map((n) => ({title: n.title, body: n.body, tag: n.tag, url: n.data && n.data.url}));
}"""


@pytest.fixture
def push_configured(live_server, monkeypatch, tmp_path):
    """The live server with a VAPID key, as production configures one."""
    pem = (
        ec.generate_private_key(ec.SECP256R1())
        .private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        .decode()
    )
    settings = vapid_settings(
        {"VAPID_PRIVATE_KEY": pem, "VAPID_SUBJECT": "mailto:ops@twoway.example"}, False, tmp_path, "localhost"
    )
    for name, value in settings.items():
        monkeypatch.setitem(live_server.app.config, name, value)
    return settings


class Registrations:
    """The service worker registrations DevTools reports for one page, by scope. Made once the
    page's worker is ready: ``ServiceWorker.enable`` then reports the registrations that exist,
    and their events are handled before its answer returns."""

    def __init__(self, page: Page) -> None:
        page.evaluate("navigator.serviceWorker.ready.then(() => true)")
        self.cdp = page.context.new_cdp_session(page)
        self.ids: dict[str, str] = {}
        self.cdp.on("ServiceWorker.workerRegistrationUpdated", self._updated)
        self.cdp.send("ServiceWorker.enable")

    def _updated(self, event: dict) -> None:
        for registration in event["registrations"]:
            if not registration.get("isDeleted"):
                self.ids[registration["scopeURL"]] = registration["registrationId"]

    def id_for(self, page: Page, scope: str) -> str:
        """The registration id for ``scope``, once its event has arrived (each call into the page
        lets Playwright hand over the events that came meanwhile)."""
        deadline = time.monotonic() + 10
        while scope not in self.ids and time.monotonic() < deadline:
            page.evaluate("navigator.serviceWorker.ready.then(() => true)")
        assert scope in self.ids, f"no registration reported for {scope}: {self.ids}"
        return self.ids[scope]

    def push(self, origin: str, registration_id: str, data: str) -> None:
        self.cdp.send(
            "ServiceWorker.deliverPushMessage", {"origin": origin, "registrationId": registration_id, "data": data}
        )


def push_until_shown(registrations, page: Page, origin: str, registration_id: str, data: str, count: int) -> list[dict]:
    """Hand a push over until the service worker shows it, as a push service redelivers one a
    browser didn't acknowledge: DevTools now and then drops a push handed to a worker that is
    just stopping (seen about one run in six). At least ``count`` notifications are then shown
    (a redelivered one with its own tag replaces the first)."""
    for _attempt in range(3):
        registrations.push(origin, registration_id, data)
        shown = page.evaluate(NOTIFICATIONS, count)
        if len(shown) >= count:
            return shown
    raise AssertionError(f"never shown: {data!r}; shown: {shown}")


def test_a_pushed_reminder_is_shown_and_leads_to_twoways_own_page(phone, live_server, push_configured):
    pair = live_server.create_pair(mentor="Aisha Khan", mentee="Margaret Holloway")
    aisha = phone(pair.mentor)
    page = aisha.page
    page.context.grant_permissions(["notifications"], origin=live_server.url)
    page.goto("/account/notifications")
    expect(page.get_by_role("heading", name="Your devices")).to_be_visible()
    # Permission granted, PushManager present: the page offers to turn notifications on here.
    button = page.get_by_role("button", name="Get notifications on this device")
    expect(button).to_be_visible()

    registrations = Registrations(page)
    registration_id = registrations.id_for(page, f"{live_server.url}/")
    url = f"{live_server.url}/pairs/{pair.id}/journal"
    reminder = json.dumps(
        {
            "title": "You meet Margaret Holloway tomorrow",
            "body": "You and Margaret Holloway meet on Wednesday 2 December at 16:00 (CET) (in person: Room 4.12).",
            "url": url,
            "tag": f"meeting-day-before:/pairs/{pair.id}/journal",
        }
    )
    # Handed over again if DevTools drops it, as the later pushes are (the first was once lost).
    [shown] = push_until_shown(registrations, page, live_server.url, registration_id, reminder, 1)
    assert shown == {
        "title": "You meet Margaret Holloway tomorrow",
        "body": "You and Margaret Holloway meet on Wednesday 2 December at 16:00 (CET) (in person: Room 4.12).",
        "tag": f"meeting-day-before:/pairs/{pair.id}/journal",
        "url": url,
    }

    # A payload naming another origin (or no URL at all) never leads there: Twoway's home instead.
    other = json.dumps({"title": "<b>Hi</b>", "body": "x", "url": "https://evil.example/steal", "tag": "other"})
    push_until_shown(registrations, page, live_server.url, registration_id, other, 2)
    # One at a time, as a push service hands them over.
    shown = {
        n["tag"]: n for n in push_until_shown(registrations, page, live_server.url, registration_id, "not json", 3)
    }
    assert set(shown) == {f"meeting-day-before:/pairs/{pair.id}/journal", "other", ""}
    assert shown["other"]["url"] == f"{live_server.url}/" and shown["other"]["title"] == "<b>Hi</b>"
    assert shown[""] == {"title": "Twoway", "body": "", "tag": "", "url": f"{live_server.url}/"}

    # No push service in this Chromium: subscribing fails, and the page says so in words.
    button.click()
    expect(page.locator("[data-push-status]")).to_contain_text("couldn't reach its push service")
    expect(button).to_be_enabled()
    # Chromium's own word on that (to the console, whatever the page does) is not the page's error.
    errors = [e for e in aisha.errors if "does not support the Push API in incognito" not in e]
    assert errors == [], "\n".join(errors)


def test_where_notifications_are_blocked_the_button_stays_hidden(phone, live_server, push_configured):
    pair = live_server.create_pair(mentor="Lena Fischer", mentee="Tomas Varga")
    lena = phone(pair.mentor)
    page = lena.page
    # As if the person had once answered "Block" to the browser's prompt.
    target = page.context.new_cdp_session(page).send("Target.getTargetInfo")["targetInfo"]
    page.context.browser.new_browser_cdp_session().send(
        "Browser.setPermission",
        {
            "permission": {"name": "notifications"},
            "setting": "denied",
            "origin": live_server.url,
            "browserContextId": target["browserContextId"],
        },
    )
    page.goto("/account/notifications")
    assert page.evaluate("Notification.permission") == "denied"
    expect(page.locator("[data-push-status]")).to_contain_text("blocked for Twoway")
    expect(page.get_by_role("button", name="Get notifications on this device")).to_be_hidden()


def test_a_browser_without_push_is_told_so_and_offered_no_button(phone, live_server, push_configured):
    pair = live_server.create_pair(mentor="Priya Raman", mentee="Walter Greene")
    priya = phone(pair.mentor)
    priya.page.context.add_init_script("delete window.PushManager;")
    priya.page.goto("/account/notifications")
    expect(priya.page.locator("[data-push-status]")).to_contain_text("can't get notifications from Twoway")
    expect(priya.page.get_by_role("button", name="Get notifications on this device")).to_be_hidden()


def test_the_devices_list_fits_a_small_phone(new_context, live_server, push_configured):
    from app.models import PushSubscription
    from app.reminders import push

    pair = live_server.create_pair(mentor="Oluwaseun Adebayo-Richardson", mentee="Harold Finch")
    with live_server.app.app_context():
        for n, label in enumerate(("Samsung Internet on Android", "Firefox on Windows", "Safari on iPhone")):
            endpoint = f"https://fcm.googleapis.com/fcm/send/{'x' * 150}{n}"
            db.session.add(
                PushSubscription(
                    user_id=pair.mentor.id,
                    endpoint=endpoint,
                    endpoint_hash=push.endpoint_hash(endpoint),
                    p256dh="B" + "A" * 86,
                    auth="A" * 22,
                    device=label,
                )
            )
        db.session.commit()
    context = new_context(viewport=SMALL_PHONE)
    context.grant_permissions(["notifications"], origin=live_server.url)
    page = context.new_page()
    page.goto(live_server.sign_in_url(pair.mentor))
    page.get_by_role("button", name=f"Continue as {pair.mentor.name}").click()
    page.goto("/account/notifications")

    devices = page.get_by_role("list", name="Devices that get your notifications")
    expect(devices.get_by_role("listitem")).to_have_count(3)
    button = page.get_by_role("button", name="Get notifications on this device")
    expect(button).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= SMALL_PHONE["width"]
    box = button.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= SMALL_PHONE["width"] and box["height"] >= 44, box

    # Removing one (htmx) swaps the list in place and keeps the page as narrow.
    page.get_by_role("button", name="Remove Firefox on Windows").click()
    expect(page.get_by_role("status").filter(has_text="Firefox on Windows gets no more notifications")).to_be_visible()
    expect(devices.get_by_role("listitem")).to_have_count(2)
    expect(button).to_be_visible()  # app.js set the swapped-in block up again
    assert page.evaluate("document.documentElement.scrollWidth") <= SMALL_PHONE["width"]
