"""Starting and ending a signed-in session, and how recently this session proved who it is."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import session
from flask_login import login_user, logout_user
from sqlalchemy import delete

from app.extensions import db
from app.models import PushSubscription, User, utcnow

# Adding a way in (a passkey, recovery codes) needs a sign-in this recent: a session left open on a
# shared computer, or one somebody else got hold of, can't quietly add their own way in.
RECENT_SIGN_IN = timedelta(minutes=10)
_SIGNED_IN_AT = "signed_in_at"
# The push subscription this browser made while signed in (app/reminders/views.py add_device).
_PUSH_DEVICE = "push_device"


def start(user: User) -> None:
    """Sign ``user`` in on a fresh session: nothing from before sign-in is carried over."""
    session.clear()
    login_user(user)
    session.permanent = True
    now = utcnow()
    session[_SIGNED_IN_AT] = now.timestamp()
    user.last_signed_in_at = now
    if user.first_signed_in_at is None:
        user.first_signed_in_at = now


def signed_in_recently() -> bool:
    """Whether this session began with a sign-in (passkey, link or code) in the last ten minutes."""
    stamp = session.get(_SIGNED_IN_AT)
    if not isinstance(stamp, int | float):
        return False
    return utcnow() - datetime.fromtimestamp(stamp, UTC) <= RECENT_SIGN_IN


def remember_push_device(subscription_id: int) -> None:
    session[_PUSH_DEVICE] = subscription_id


def end(user: User) -> None:
    """Sign out. Bumping the generation invalidates every cookie issued to ``user`` so far, so a
    copy of the cookie taken before sign-out is worthless afterwards (on every device). This
    browser stops getting their push notifications too: on a shared computer, the next person
    must not see whom ``user`` meets tomorrow."""
    device = session.get(_PUSH_DEVICE)
    if isinstance(device, int):
        db.session.execute(
            delete(PushSubscription).where(PushSubscription.id == device, PushSubscription.user_id == user.id)
        )
    user.session_generation += 1
    logout_user()
    session.clear()


def end_others(user: User) -> None:
    """End every session of ``user`` except this one: the generation moves on and this session's
    cookie is reissued with the new one (the time it signed in is kept). Every other browser's
    push subscription goes with them: a lost phone must not keep showing the reminders."""
    device = session.get(_PUSH_DEVICE)
    keep = device if isinstance(device, int) else None
    db.session.execute(
        delete(PushSubscription).where(PushSubscription.user_id == user.id, PushSubscription.id != (keep or 0))
    )
    user.session_generation += 1
    login_user(user)
