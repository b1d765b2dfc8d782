"""Web Push to the installed app (pywebpush, VAPID).

A person turns notifications on per browser: the page hands the browser's PushSubscription to
``subscribe``, and ``send`` pushes a reminder to each of their browsers, encrypted to that
browser's keys (aes128gcm) and signed with Twoway's VAPID key. The push service keeps what it
can't hand over at once for ``TTL_SECONDS``, or until the reminder stops being useful. Only the
push services in PUSH_SERVICES are sent to: the endpoint is the browser's word for where the
worker makes a request.

What a push carries is the message's subject, first paragraph and link: names, times and places,
never what a pair wrote (the kinds' words already hold to that), since it shows on a lock screen.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any
from urllib.parse import urlsplit

import requests
from cryptography.hazmat.primitives.asymmetric import ec
from flask import current_app
from py_vapid import Vapid
from pywebpush import WebPushException, webpush
from sqlalchemy import func, select

from app.extensions import db
from app.models import PushSubscription, User, utcnow
from app.reminders.messages import Message

# Connect and read timeouts (s): a push service that is slow costs a worker this, then a retry.
TIMEOUT = (3.05, 5)
# How long a push service keeps a notification for a phone that is off. Long enough for a night
# with the phone off, short enough that an hour-before reminder doesn't turn up next week.
TTL_SECONDS = 6 * 60 * 60
# Push services take about 4 KB of payload; names are short, but a notification needs no more.
TITLE_MAX, BODY_MAX = 120, 400
# A person with more browsers than this removes one first: each reminder is one request per browser.
MAX_DEVICES = 10
ENDPOINT_MAX = 2048
_UNPRINTABLE = re.compile(r"[\x00-\x20\x7f]")
# The push service answers these for a subscription that is gone for good (unsubscribed, expired).
GONE = (404, 410)


class TryLater(Exception):
    """The push service couldn't take the message now (5xx, 429, unreachable)."""


class SubscriptionError(ValueError):
    """What the browser sent is not a push subscription Twoway can use."""


class TakenError(Exception):
    """This browser's subscription belongs to another person's account."""


def enabled() -> bool:
    return bool(current_app.config.get("VAPID_PRIVATE_KEY"))


def public_key() -> str | None:
    """The key the page gives ``pushManager.subscribe`` as its ``applicationServerKey``."""
    return current_app.config.get("VAPID_PUBLIC_KEY")


# --- sending ---------------------------------------------------------------------------------------


def send(user: User, message: Message, *, useful_until: datetime | None = None) -> bool:
    """Push ``message`` to each of ``user``'s subscribed browsers; True if at least one took it.
    False when they have none, so the message goes by email instead.

    A browser the push service calls gone (404/410) is dropped. When none took it and one could
    not be reached or was refused for now (429, 5xx, timeout), ``TryLater`` is raised so the
    delivery is retried; once one has taken it, a retry would show it twice, so it counts as sent.
    Any other refusal (a 400 or 403 that points at our key or payload) is logged and leaves the
    browser in place: with nobody reached the person gets the message by email."""
    subscriptions = list(
        db.session.scalars(
            select(PushSubscription).where(PushSubscription.user_id == user.id).order_by(PushSubscription.id)
        )
    )
    if not subscriptions or not enabled():
        return False
    payload = json.dumps(_payload(message), ensure_ascii=False)
    ttl = time_to_live(useful_until, utcnow())
    taken = False
    later: str | None = None
    with _NoRedirects() as http:
        for subscription in subscriptions:
            if not known_service(subscription.endpoint):
                # Saved before PUSH_SERVICES left its service out: kept, but nothing is sent there.
                current_app.logger.warning("Push subscription %d is not on a known push service", subscription.id)
                continue
            try:
                _push(http, subscription, payload, ttl)
            except WebPushException as error:
                status = error.response.status_code if error.response is not None else None
                if status in GONE:
                    db.session.delete(subscription)
                elif status is not None and (status == 429 or status >= 500):
                    later = f"push service answered {status}"
                else:
                    current_app.logger.error(
                        "Push to subscription %d refused (%s); it is kept", subscription.id, status or error
                    )
            except requests.RequestException as error:
                later = f"push service unreachable ({type(error).__name__})"
            else:
                taken = True
                subscription.last_used_at = utcnow()
    # Kept whatever happens next: a retry (which rolls the session back) must not bring back a
    # browser the push service called gone.
    db.session.commit()
    if not taken and later is not None:
        raise TryLater(later)
    return taken


class _NoRedirects(requests.Session):
    """A push service takes the message or says why not; it never sends the worker elsewhere. A
    redirect followed would carry the payload and Twoway's VAPID signature to wherever it points
    (an address inside the network included), past the host checked when subscribing; unfollowed,
    it is a refusal like any other 3xx."""

    def request(self, *args: Any, **kwargs: Any) -> requests.Response:
        kwargs["allow_redirects"] = False
        return super().request(*args, **kwargs)


def time_to_live(useful_until: datetime | None, now: datetime) -> int:
    """How long the push service may keep the message for a phone that is off: ``TTL_SECONDS``,
    or less when the reminder stops being useful sooner (an hour-before reminder for a meeting
    that starts in 50 minutes is kept 50 minutes, then the push service drops it)."""
    if useful_until is None:
        return TTL_SECONDS
    return max(0, min(TTL_SECONDS, int((useful_until - now).total_seconds())))


def _push(http: requests.Session, subscription: PushSubscription, payload: str, ttl: int) -> None:
    webpush(
        subscription_info={
            "endpoint": subscription.endpoint,
            "keys": {"p256dh": subscription.p256dh, "auth": subscription.auth},
        },
        data=payload,
        vapid_private_key=_vapid(current_app.config["VAPID_PRIVATE_KEY"]),
        # A new dict each time: pywebpush writes the endpoint's origin into it as the audience.
        vapid_claims={"sub": current_app.config["VAPID_SUBJECT"]},
        ttl=ttl,
        timeout=TIMEOUT,
        requests_session=http,
    )


@cache
def _vapid(raw_key: str) -> Vapid:
    return Vapid.from_raw(raw_key.encode())


def _payload(message: Message) -> dict[str, str]:
    """What the service worker shows: the notification's title, its line, where a tap leads, and
    a tag so a newer notification about the same thing replaces the older one."""
    return {
        "title": _clip(message.subject, TITLE_MAX),
        "body": _clip(message.push_body, BODY_MAX),
        "url": message.url,
        "tag": f"{message.kind.value}:{urlsplit(message.url).path}",
    }


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- subscribing -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Subscription:
    endpoint: str
    p256dh: str
    auth: str


def parse(data: Any) -> Subscription:
    """The browser's ``PushSubscription.toJSON()``: an https endpoint and its two keys, checked
    as far as a server can (the endpoint is the push service's, an opaque https URL)."""
    if not isinstance(data, dict) or not isinstance(data.get("keys"), dict):
        raise SubscriptionError("That isn't a push subscription.")
    endpoint, keys = data.get("endpoint"), data["keys"]
    if not isinstance(endpoint, str) or not 0 < len(endpoint) <= ENDPOINT_MAX:
        raise SubscriptionError("The push subscription has no usable address.")
    parts = urlsplit(endpoint)
    # Whitespace and control characters first: urlsplit silently drops tabs and line breaks (so
    # the host it checks is not the one requests would be given), and no browser sends any.
    if (
        _UNPRINTABLE.search(endpoint)
        or parts.scheme != "https"
        or not parts.hostname
        or parts.username
        or parts.password
        or parts.fragment
    ):
        raise SubscriptionError("The push subscription's address must be an https URL.")
    if not known_service(endpoint):
        raise SubscriptionError(
            "This browser's notification service isn't one Twoway sends to yet: reminders will come by email."
        )
    p256dh, auth = keys.get("p256dh"), keys.get("auth")
    public = _b64decode(p256dh, 65)
    try:
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), public)
    except ValueError:
        raise SubscriptionError("The push subscription's key isn't a P-256 public key.") from None
    _b64decode(auth, 16)
    return Subscription(endpoint, p256dh.rstrip("="), auth.rstrip("="))


def _b64decode(value: Any, size: int) -> bytes:
    if not isinstance(value, str) or len(value) > 2 * size:
        raise SubscriptionError("The push subscription's keys are missing or malformed.")
    try:
        data = base64.urlsafe_b64decode(value.rstrip("=") + "=" * (-len(value.rstrip("=")) % 4))
    except (ValueError, binascii.Error):
        data = b""
    if len(data) != size:
        raise SubscriptionError("The push subscription's keys are missing or malformed.")
    return data


def known_service(endpoint: str) -> bool:
    """Whether ``endpoint`` is on one of the push services Twoway sends to (PUSH_SERVICES)."""
    host = (urlsplit(endpoint).hostname or "").lower().rstrip(".")
    return any(host == known or host.endswith("." + known) for known in current_app.config["PUSH_SERVICES"])


def endpoint_hash(endpoint: str) -> str:
    return hashlib.sha256(endpoint.encode()).hexdigest()


def subscribe(user: User, subscription: Subscription, user_agent: str) -> PushSubscription:
    """Save ``user``'s browser. The same browser subscribing again updates its row (its keys may
    have changed); a browser already subscribed for someone else stays theirs (``TakenError``):
    an endpoint can't be moved to another account by anyone who learns it. The person whose
    reminders a shared browser shows removes it from their own notifications page."""
    hashed = endpoint_hash(subscription.endpoint)
    row = db.session.scalar(select(PushSubscription).where(PushSubscription.endpoint_hash == hashed))
    if row is not None and row.user_id != user.id:
        raise TakenError
    if row is None:
        count = db.session.scalar(select(func.count()).where(PushSubscription.user_id == user.id))
        if count >= MAX_DEVICES:
            raise SubscriptionError(
                f"You get notifications on {MAX_DEVICES} devices already. Remove one you no longer use first."
            )
        row = PushSubscription(user_id=user.id, endpoint=subscription.endpoint, endpoint_hash=hashed)
        db.session.add(row)
    row.p256dh, row.auth = subscription.p256dh, subscription.auth
    row.device = device_label(user_agent)
    return row


def devices(user_id: int) -> list[PushSubscription]:
    return list(
        db.session.scalars(
            select(PushSubscription).where(PushSubscription.user_id == user_id).order_by(PushSubscription.created_at)
        )
    )


_BROWSERS = (
    ("edg/", "Edge"),
    ("samsungbrowser", "Samsung Internet"),
    ("opr/", "Opera"),
    ("firefox", "Firefox"),
    ("fxios", "Firefox"),
    ("crios", "Chrome"),
    ("chrome", "Chrome"),
    ("chromium", "Chromium"),
    ("safari", "Safari"),
)
_SYSTEMS = (
    ("iphone", "iPhone"),
    ("ipad", "iPad"),
    ("android", "Android"),
    ("cros", "ChromeOS"),
    ("macintosh", "Mac"),
    ("windows", "Windows"),
    ("linux", "Linux"),
)


def device_label(user_agent: str) -> str:
    """ "Chrome on Android", from the user agent: named from fixed lists, so nothing the browser
    sends is shown back as it came."""
    ua = user_agent.lower()
    browser = next((name for needle, name in _BROWSERS if needle in ua), "A browser")
    system = next((name for needle, name in _SYSTEMS if needle in ua), None)
    return f"{browser} on {system}" if system else browser
